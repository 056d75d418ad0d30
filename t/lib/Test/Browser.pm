package Test::Browser;

# A real browser for the tests: headless Chromium driven through
# chromedriver's WebDriver HTTP protocol (t/070-console.t, t/110-hls.t).
# chromium and chromium-driver are installed when missing; in_browser()
# skips a block, saying why, only when they cannot be.  TEST_CHROMIUM and
# TEST_CHROMEDRIVER name other binaries.

use strict;
use warnings;

use Exporter 'import';
use HTTP::Tiny ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Test::More ();
use Test::Compliance;

our @EXPORT = qw(
    browser_missing
    wd
    start_browser
    stop_browser
    find
    click
    type_into
    js
    screenshot
    no_browser_errors
    in_browser
);

our $Chromium = $ENV{TEST_CHROMIUM} || '/usr/bin/chromium';
our $Driver = $ENV{TEST_CHROMEDRIVER} || '/usr/bin/chromedriver';


# why there is no browser, or "" when there is one; installs chromium and
# chromium-driver when they are missing (as root)

our $NoBrowser;

sub browser_missing {
    return $NoBrowser if defined $NoBrowser;

    my $log = servroot() . '/logs/install-deps.log';
    my $rc = system('sh', '-c', '"$0" chromium chromium-driver >"$1" 2>&1',
                    repo_root() . '/scripts/install-deps', $log);

    # CJK glyphs make the screenshots legible; the test does not need them
    system('sh', '-c', '"$0" fonts-wqy-microhei >>"$1" 2>&1',
           repo_root() . '/scripts/install-deps', $log);

    $NoBrowser = '';

    if (!-x $Chromium || !-x $Driver) {
        my $out = slurp($log) // '';
        $out =~ s/\s+\z//;
        $out =~ s/\n/; /g;
        $NoBrowser = "no $Chromium or $Driver, and scripts/install-deps "
                     . "chromium chromium-driver did not install them (exit "
                     . ($rc >> 8) . ($out eq '' ? '' : ": $out") . ")";
    }

    return $NoBrowser;
}


#-----------------------------------------------------------------------------
# a WebDriver client: chromedriver on a free loopback port, one session
#-----------------------------------------------------------------------------

our ($DriverPid, $Wd, $Sid);

my $Http = HTTP::Tiny->new(timeout => 30, keep_alive => 1);
my $Json = JSON::PP->new->utf8->canonical->allow_nonref;
my $ElementKey = 'element-6066-11e4-a52e-4f735466cecf';


# wd(METHOD, PATH[, DATA]): the command's value; dies with the WebDriver
# error

sub wd {
    my ($method, $path, $data) = @_;

    my $url = $Wd . ($path =~ m{^/session\b} ? '' : "/session/$Sid") . $path;
    my %opt = (headers => { 'Content-Type' => 'application/json' });
    $opt{content} = $Json->encode($data || {}) if $method eq 'POST';

    my $res = $Http->request($method, $url, \%opt);
    my $json = eval { $Json->decode($res->{content}) };

    unless ($res->{success}) {
        my $v = ref $json eq 'HASH' ? $json->{value} : undef;
        die "WebDriver $method $path: $res->{status} "
            . (ref $v eq 'HASH' ? "$v->{error}: $v->{message}"
                                : $res->{content}) . "\n";
    }

    return ref $json eq 'HASH' ? $json->{value} : undef;
}


# start_browser(SERVROOT[, "WIDTH,HEIGHT"]): chromedriver and a headless
# Chromium of that window size (1480,1000)

sub start_browser {
    my ($root, $size) = @_;

    my $port = free_port();
    my $log = "$root/logs/chromedriver.log";

    $DriverPid = fork;
    die "fork: $!\n" unless defined $DriverPid;

    if ($DriverPid == 0) {
        # its own process group: the browser goes with it at the end
        POSIX::setpgid(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $log;
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec $Driver, "--port=$port", "--log-path=$log"; }
        POSIX::_exit(127);
    }

    POSIX::setpgid($DriverPid, $DriverPid);

    $Wd = "http://127.0.0.1:$port";

    wait_for(sub {
        my $res = $Http->get("$Wd/status");
        return $res->{success} && $res->{content} =~ /"ready":\s*true/;
    }, 20) or die "chromedriver is not ready on port $port\n";

    my $profile = "$root/chromium-profile";
    mkdir $profile;

    my $s = wd('POST', '/session', {
        capabilities => { alwaysMatch => {
            browserName => 'chrome',
            unhandledPromptBehavior => 'ignore',
            'goog:loggingPrefs' => { browser => 'ALL' },
            'goog:chromeOptions' => {
                binary => $Chromium,
                args => [qw(--headless --no-sandbox --disable-gpu
                            --disable-quic --no-first-run
                            --disable-background-networking
                            --disable-component-update --disable-sync
                            --disable-dev-shm-usage --lang=zh-CN),
                         '--window-size=' . ($size || '1480,1000'),
                         "--user-data-dir=$profile"],
            },
        } },
    });

    $Sid = $s->{sessionId} or die "no WebDriver session\n";
    wd('POST', '/timeouts', { implicit => 0, script => 10000,
                              pageLoad => 20000 });
}


sub stop_browser {
    if ($Sid) {
        eval { wd('DELETE', '') };
        $Sid = undef;
    }

    if ($DriverPid) {
        kill 'TERM', -$DriverPid;
        my $gone = wait_for(sub { waitpid($DriverPid, POSIX::WNOHANG()) != 0 },
                            5);
        kill 'KILL', -$DriverPid unless $gone;
        waitpid($DriverPid, 0) unless $gone;
        $DriverPid = undef;
    }
}


END { stop_browser() }


sub find {
    my ($css) = @_;
    my $e = wd('POST', '/element', { using => 'css selector', value => $css });
    return $e->{$ElementKey};
}


sub click {
    my ($css) = @_;
    wd('POST', '/element/' . find($css) . '/click');
}


sub type_into {
    my ($css, $text) = @_;
    my $id = find($css);
    wd('POST', "/element/$id/clear");
    wd('POST', "/element/$id/value", { text => $text });
}


# js(SCRIPT, ARGS...): the value of a script run in the page

sub js {
    my ($script, @args) = @_;
    return wd('POST', '/execute/sync', { script => $script, args => \@args });
}


sub screenshot {
    my ($file) = @_;
    my $png = MIME::Base64::decode_base64(wd('GET', '/screenshot'));
    open my $fh, '>:raw', $file or die "$file: $!\n";
    print {$fh} $png;
    close $fh;
    return $png;
}


# no_browser_errors(qr//...): the browser saw no script error and no CSP
# violation, nothing SEVERE but what the patterns match

sub no_browser_errors {
    my (@expected) = @_;

    my $log = eval { wd('POST', '/se/log', { type => 'browser' }) };
    my @bad = grep {
        my $m = $_->{message};
        $_->{level} eq 'SEVERE' && !grep { $m =~ $_ } @expected
    } @{$log || []};
    Test::More::ok($log, 'the browser log can be read') or Test::More::diag($@);
    Test::More::is_deeply([map { $_->{message} } @bad], [],
              'no errors in the browser console');
}


# in_browser(SUB): a post_check that runs SUB(BLOCK, SERVROOT, the http
# server's URL) when there is a browser, and skips, saying why, when there
# is none

sub in_browser {
    my ($test) = @_;

    return sub {
        my ($block, $root) = @_;

        if (my $why = browser_missing()) {
            SKIP: { Test::More::skip("no browser: $why", 1) }
            return;
        }

        $test->($block, $root, 'http://127.0.0.1:' . http_port());
    };
}


1;
