# The moderation console (compliance_console): the page, its headers and
# its Content-Security-Policy, the configuration errors, and the page in a
# real browser: headless Chromium, driven through chromedriver's WebDriver
# HTTP protocol, lists the live sessions, shows an API error, issues a
# suspension that drops its session, lifts it, and drops an AI host's
# session.  chromium and chromium-driver are installed when missing; the
# browser block is skipped, with the reason, only when they cannot be.
# The screenshots are left in the servroot (TEST_NGINX_NO_CLEAN=1 keeps
# it): console-live.png, console-order.png, console-refused.png.
# TEST_CHROMIUM and TEST_CHROMEDRIVER name other binaries.

use utf8;
use lib 't/lib';

use Test::Compliance;
use Digest::SHA ();
use HTTP::Tiny ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

our $Chromium = $ENV{TEST_CHROMIUM} || '/usr/bin/chromium';
our $Driver = $ENV{TEST_CHROMEDRIVER} || '/usr/bin/chromedriver';

our $Reason = '虚假宣传 false price claims';
our $Ref = 'SAMR-2026-0042';

our $RtmpConf = zone_conf('console');

our $Config = tiers('basic', 'verified ai_host=allow') . live_app();

our $Locations = api_location() . <<'EOF';

location /console/ {
    compliance_console;
    allow 127.0.0.1;
    deny all;
}

location = /ops/console {
    compliance_console /ops/api;
}

location /ops/api/ {
    return 403;
}
EOF


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


sub start_browser {
    my ($root) = @_;

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
                         '--window-size=1480,1000',
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


# the rows of a table of the page: [{ id, class, cells => [text...] }],
# the text as shown (a block's text on its own line)

sub rows {
    my ($table) = @_;
    return js(<<'EOF', $table) || [];
return Array.prototype.map.call(
    document.querySelectorAll('#' + arguments[0] + '-body tr'),
    function (r) {
        return { id: r.getAttribute('data-id'), class: r.className,
                 cells: Array.prototype.map.call(r.cells, function (c) {
                     return c.innerText; }) };
    });
EOF
}


sub row_of {
    my ($table, $col, $re) = @_;
    my ($row) = grep { $_->{cells}[$col] =~ $re } @{rows($table)};
    return $row;
}


# [hidden, text] of a message box: "error" or "notice"

sub message {
    my ($box) = @_;
    return js('var b = document.getElementById(arguments[0]);'
              . 'return [b.hidden, b.textContent];', $box);
}


#-----------------------------------------------------------------------------
# the API and the RTMP side
#-----------------------------------------------------------------------------

# the UTF-8 bytes of a text (the API's JSON and the clients' output are
# read as bytes)

sub bytes {
    my ($text) = @_;
    utf8::encode($text);
    return $text;
}


#-----------------------------------------------------------------------------
# the browser block
#-----------------------------------------------------------------------------

sub browser_test {
    my ($block, $root) = @_;

    if (my $why = browser_missing()) {
        SKIP: { Test::More::skip("no browser: $why", 1) }
        return;
    }

    my $t0 = Time::HiRes::time();
    my $http = 'http://127.0.0.1:' . http_port();

    my $target = publisher('room-7', sub => 'host-7', pid => 'person-7',
                           duration => 60000);
    my $ai = publisher('ai-room', sub => 'ai-host', pid => 'person-8',
                       tier => 'verified', ai => JSON::PP::true,
                       duration => 60000);
    my $xss = publisher('room-x', sub => 'host-x', pid => 'person-9',
                        op => '<img src=x id=xss>', mcn => '<b>m</b>',
                        duration => 60000);

    ok(wait_sessions(3, 15), 'three publishers live');

    start_browser($root);
    Test::More::note(sprintf 'browser up in %.1f s',
                     Time::HiRes::time() - $t0);

    wd('POST', '/url', { url => "$http/console/" });

    ok(wait_for(sub { row_of('sessions', 1, qr/^room-7/) }, 10),
       'the console lists the session of room-7');
    ok(wait_for(sub { @{rows('sessions')} == 3 }, 10),
       'and the three sessions');

    my $title = wd('GET', '/title');
    is($title, '合规审核台 Moderation console', 'the title');

    my $status = js('return document.getElementById("status").textContent');
    like($status, qr/^已连接 Connected/, "the status line: $status");

    # a session's columns: id, room, host, operator, MCN, tier, AI label,
    # viewers, duration
    my ($s7) = grep { $_->{room} eq 'room-7' } @{sessions()};
    my $r7 = row_of('sessions', 1, qr/^room-7/);
    is($r7->{id}, $s7->{id}, 'the row is keyed by the session id');
    is($r7->{cells}[0], $s7->{id}, 'the id');
    like($r7->{cells}[2], qr/^host-7/, 'the host');
    like($r7->{cells}[2], qr/person-7/, 'the person');
    is($r7->{cells}[3], 'op1', 'the operator');
    is($r7->{cells}[4], 'mcn1', 'the MCN');
    is($r7->{cells}[5], 'basic', 'the tier');
    is($r7->{cells}[6], '—', 'no AI label');
    is($r7->{cells}[7], '0', 'viewers');
    like($r7->{cells}[8], qr/^00:00:\d\d$/, 'the duration');
    unlike($r7->{class}, qr/\bai\b/, 'not marked as AI');

    my $rai = row_of('sessions', 1, qr/^ai-room/);
    like($rai->{cells}[6], qr/^人工智能生成\s+AI-generated$/,
         'an AI-generated host is labelled');
    like($rai->{class}, qr/\bai\b/, 'and its row is marked');
    is(js('return getComputedStyle(document.querySelector('
          . '"#sessions-body tr.ai .badge.ai")).display'), 'inline-block',
       'the label is shown');

    # values from the API are text, not markup
    my $rx = row_of('sessions', 1, qr/^room-x/);
    is($rx->{cells}[3], '<img src=x id=xss>', 'markup in a claim is shown '
                                              . 'as text');
    is($rx->{cells}[4], '<b>m</b>', 'another');
    is_deeply(js('return [document.getElementById("xss"), '
                 . 'document.querySelectorAll("main img, main td b").length]'),
              [undef, 0], 'and never becomes markup');

    # an error of the API is shown: a reason of 600 bytes
    click('#target-kind option[value="host"]');
    type_into('#target-id', 'host-7');
    click('#action option[value="suspend"]');
    type_into('#duration', '600');
    click('#duration-unit option[value="1"]');
    type_into('#reason', '假' x 200);
    click('#issue');

    ok(wait_for(sub { !message('error')->[0] }, 10), 'an error is shown');
    my $err = message('error')->[1];
    like($err, qr/POST orders: invalid_order: "reason" is longer than 512 bytes \(HTTP 400\)/,
         "with the API's error and detail: $err");
    like(js('return document.getElementById("reason-bytes").textContent'),
         qr{^600 / 512}, 'the reason counts its bytes');
    my ($st, $orders) = api('GET', 'orders');
    is_deeply($orders, [], 'no order was made');

    screenshot("$root/console-live.png");

    # the order: suspend host:host-7 for 600 s
    type_into('#reason', $Reason);
    type_into('#ref', $Ref);
    my $t1 = Time::HiRes::time();
    click('#issue');

    my $o;
    ok(wait_for(sub {
        (undef, $orders) = api('GET', 'orders');
        ($o) = @{$orders || []};
        return $o;
    }, 10), 'the page made an order');

    is($o->{target}, 'host:host-7', 'its target');
    is($o->{action}, 'suspend', 'its action');
    is($o->{reason}, bytes($Reason), 'its reason');
    is($o->{ref}, $Ref, 'its ref');
    cmp_ok(abs($o->{until} - $o->{created} - 600), '<=', 1, 'for 600 s');

    ok(wait_output($target, bytes("Publish.Rejected suspended: order "
                                  . "$o->{id}: $Reason (ref $Ref)")),
       'the publisher is told it is suspended');
    ok(wait_for(sub { !grep { $_->{host} eq 'host-7' } @{sessions()} }, 5),
       'the session leaves GET sessions');
    ok(wait_for(sub { !row_of('sessions', 1, qr/^room-7/) }, 10),
       'and the page');
    Test::More::note(sprintf 'gone from the page %.1f s after the click',
                     Time::HiRes::time() - $t1);
    is(scalar @{rows('sessions')}, 2, 'the other sessions stay');

    my $ro;
    ok(wait_for(sub { $ro = row_of('orders', 0, qr/^\Q$o->{id}\E$/) }, 10),
       'the order is in the orders table');
    like($ro->{cells}[1], qr/host:host-7$/, 'its target');
    like($ro->{cells}[1], qr/^主播账号 host/, 'its kind');
    is($ro->{cells}[2], '暂停 suspend', 'its action');
    like($ro->{cells}[4], qr/剩余 left 00:(?:09|10):\d\d$/, 'its time left');
    is($ro->{cells}[5], $Reason, 'its reason');
    is($ro->{cells}[6], $Ref, 'its ref');

    my $notice = message('notice');
    like($notice->[1], qr/Order #$o->{id} issued: suspend host:host-7/,
         'the page says the order is issued');
    ok(message('error')->[0], 'the earlier error is gone');
    is(js('return document.getElementById("reason").value'), '',
       'the form is cleared');

    my $png = screenshot("$root/console-order.png");
    like($png, qr/^\x89PNG\r\n\x1a\n/, 'a PNG screenshot');
    cmp_ok(length $png, '>', 20000, 'of some size');

    # lift it from the page, through the confirm dialog
    click(qq{#orders-body tr[data-id="$o->{id}"] button.lift});
    like(wd('GET', '/alert/text'), qr/Lift order #$o->{id} \(suspend host:host-7\)/,
         'lifting asks first');
    wd('POST', '/alert/accept');

    ok(wait_for(sub {
        my (undef, $list) = api('GET', 'orders');
        return ref $list eq 'ARRAY' && !@$list;
    }, 10), 'the order is gone from GET orders');
    my ($st2) = api('GET', "orders/$o->{id}");
    is($st2, 404, 'GET orders/ID is 404');
    ok(wait_for(sub { !@{rows('orders')} }, 10),
       'and from the orders table');
    like(message('notice')->[1], qr/Order #$o->{id} is lifted/,
         'the page says so');

    # drop the AI host's session: dismissed first, then accepted
    click(qq{#sessions-body tr[data-id="$rai->{id}"] button.drop});
    like(wd('GET', '/alert/text'), qr/Drop session #$rai->{id} \(room ai-room, host ai-host\)/,
         'dropping asks first');
    wd('POST', '/alert/dismiss');
    Time::HiRes::sleep(0.5);
    ok(!client_done($ai), 'dismissed: the session stays');
    unlike(error_log_text(), qr/session $rai->{id} to be dropped/,
           'nothing was sent');

    click(qq{#sessions-body tr[data-id="$rai->{id}"] button.drop});
    wd('POST', '/alert/accept');
    ok(wait_output($ai, 'Publish.Rejected operator_drop'),
       'accepted: the session is dropped');
    ok(wait_for(sub { !row_of('sessions', 1, qr/^ai-room/) }, 10),
       'and leaves the page');

    # an API that refuses: the page says so and keeps trying
    wd('POST', '/url', { url => "$http/ops/console" });
    my $bad;
    ok(wait_for(sub {
        $bad = js('var s = document.getElementById("status");'
                  . 'return s.className + " " + s.textContent;');
        return $bad =~ /^bad /;
    }, 10), 'an API that answers 403 is shown');
    like($bad, qr{^bad 刷新失败 Refresh failed — GET (?:sessions|orders): Forbidden \(HTTP 403\)$},
         "as such: $bad");
    my $polls = sub {
        open my $fh, '<', "$root/logs/access.log" or return 0;
        return scalar grep { m{"GET /ops/api/sessions } } <$fh>;
    };
    my $n = $polls->();
    ok(wait_for(sub { $polls->() > $n }, 5), 'and keeps polling');
    screenshot("$root/console-refused.png");

    # the browser saw no script error and no CSP violation; the 400 and
    # the 403s above are logged as failed loads
    my $log = eval { wd('POST', '/se/log', { type => 'browser' }) };
    my @bad = grep {
        $_->{level} eq 'SEVERE'
        && $_->{message} !~ m{/compliance/orders - Failed to load resource: the server responded with a status of 400}
        && $_->{message} !~ m{/ops/api/(?:sessions|orders) - Failed to load resource: the server responded with a status of 403}
    } @{$log || []};
    ok($log, 'the browser log can be read') or Test::More::diag($@);
    is_deeply([map { $_->{message} } @bad], [],
              'no errors in the browser console');

    stop_browser();
    stop_client($_) for $target, $ai, $xss;

    Test::More::note(sprintf 'the browser block took %.1f s',
                     Time::HiRes::time() - $t0);
}


run_tests();

__DATA__

=== TEST 1: the page: headers, CSP hashes, API path, methods
--- http_server_config eval: $::Locations
--- post_check eval
sub {
    my ($st, $h, $body) = http_request('GET', '/console/');
    is($st, 200, 'GET is 200');
    is($h->{'content-type'}, 'text/html; charset=utf-8', 'HTML in UTF-8');
    is($h->{'cache-control'}, 'no-store', 'not stored');
    is($h->{'x-content-type-options'}, 'nosniff', 'nosniff');
    is($h->{'x-frame-options'}, 'DENY', 'not framed');
    is($h->{'referrer-policy'}, 'no-referrer', 'no referrer');
    is($h->{'content-length'}, length $body, 'Content-Length');

    my ($script) = $body =~ m{<script>(.*?)</script>}s;
    my ($style) = $body =~ m{<style>(.*?)</style>}s;
    my %sha = map { $_ => Digest::SHA::sha256_base64($_) . '=' }
              $script, $style;
    is($h->{'content-security-policy'},
       "default-src 'none'; script-src 'sha256-$sha{$script}'; "
       . "style-src 'sha256-$sha{$style}'; connect-src 'self'; "
       . "img-src data:; base-uri 'none'; form-action 'none'; "
       . "frame-ancestors 'none'",
       'the CSP allows only the inline script and style, by hash');

    is(() = $body =~ /<script\b/g, 1, 'one script element');
    is(() = $body =~ /<style\b/g, 1, 'one style element');
    like($body, qr/<html lang="zh-CN" data-api="\/compliance\/">/,
         'the default API path');
    unlike($body, qr/\@COMPLIANCE_API\@/, 'no placeholder left');
    unlike($body, qr/innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
           'the script never writes markup');
    unlike($body, qr{\b(?:src|href|action)\s*=\s*"(?!data:)}i,
           'no external resources');
    unlike($body, qr{https?://}, 'no URLs');
    unlike($body, qr/\son[a-z]+\s*=|\sstyle\s*=/i,
           'no inline handlers or style attributes');

    utf8::decode($body);
    like($body, qr/直播会话 <span class="en" lang="en">Live sessions/,
         'labels are Chinese first, then English');

    my ($st2, $h2, $b2) = http_request('GET', '/ops/console');
    is($st2, 200, 'another location');
    like($b2, qr/data-api="\/ops\/api\/"/, 'its API path, with a final /');
    is($h2->{'content-security-policy'}, $h->{'content-security-policy'},
       'the same CSP');

    my ($st3, $h3, $b3) = http_request('HEAD', '/console/');
    is($st3, 200, 'HEAD is 200');
    is($b3, '', 'without a body');
    is($h3->{'content-length'}, $h->{'content-length'}, 'with the length');

    for my $m (qw(POST PUT DELETE)) {
        my ($s, $hh) = http_request($m, '/console/', '{}');
        is($s, 405, "$m is 405");
        is($hh->{allow}, 'GET, HEAD', 'Allow: GET, HEAD');
    }
}
--- no_error_log
[error]



=== TEST 2: compliance_console twice in a location
--- http_server_config
location /console/ {
    compliance_console;
    compliance_console /compliance/;
}
--- must_die
--- error_log
"compliance_console" directive is duplicate



=== TEST 3: an API path on another origin
--- http_server_config
location /console/ {
    compliance_console //evil.example/compliance/;
}
--- must_die
--- error_log
invalid API path "//evil.example/compliance/", it must be the absolute path of a "compliance_api" location on this server



=== TEST 4: an API path that is a URL
--- http_server_config
location /console/ {
    compliance_console https://evil.example/compliance/;
}
--- must_die
--- error_log
invalid API path "https://evil.example/compliance/"



=== TEST 5: an API path with characters that are not a path's
--- http_server_config
location /console/ {
    compliance_console '/compliance/"><b>x</b>';
}
--- must_die
--- error_log
invalid API path "/compliance/"><b>x</b>"



=== TEST 6: in a browser: sessions, an API error, an order that drops its session, lift, drop
--- workers: 2
--- rtmp_config eval: $::RtmpConf
--- config eval: $::Config
--- http_server_config eval: $::Locations
--- post_check eval: \&::browser_test
--- no_error_log
[error]
