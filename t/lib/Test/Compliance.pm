package Test::Compliance;

# Data-driven tests for ngx_rtmp_compliance in the style of Test::Nginx,
# built on Debian's Test::Base (Test::Nginx itself is not packaged).
#
#     use lib 't/lib';
#     use Test::Compliance;
#     run_tests();
#     __DATA__
#
#     === TEST 1: a publish is admitted
#     --- config
#     application live { live on; }
#     --- publish
#     live/room1
#     --- status
#     status: status NetStream.Publish.Start
#
# Every block gets its own nginx (master + workers, daemonized) in the
# servroot, the RTMP clients (build/rtmp-client) run against it, then nginx
# is stopped with SIGQUIT and the client output and the block's part of the
# error log are checked.
#
# Sections (all optional; "eval" evaluates the text as Perl in package
# main, giving a string, a qr// or an array ref of them):
#
#   main_config         top level nginx.conf text
#   rtmp_config         inside rtmp {}, outside server {}
#   config              inside rtmp { server { listen ...; HERE } }
#   http_config         inside http {}
#   http_server_config  inside the http server {} on $TEST_NGINX_HTTP_PORT
#   workers             worker_processes (default 1)
#   publish, play       one client run per line: APP/NAME [client args]
#   client_args         extra client arguments for every run
#   clients             lines run in order instead of publish/play:
#                         [background] publish|play APP/NAME [args]
#                         wait                 collect background clients
#                         sleep MS
#                         wait_output TEXT     a client printed TEXT
#                         wait_log TEXT        the error log has TEXT
#   status              lines that must appear in this order in the clients'
#                       stdout, each as a substring of one output line
#   status_like         regexes for the clients' stdout
#   no_status           substrings no output line may have
#   exit_code           the clients' exit codes, one per run (a single
#                       value applies to every run)
#   error_log           substrings (or qr//) the block's error log must have
#   no_error_log        ... must not have
#   wait_log            wait (15 s at most) for these in the error log after
#                       the clients, before post_check and the other checks
#   post_check          eval: a sub called as ($block, $servroot) while
#                       nginx still runs; it may run its own tests
#   must_die            nginx -t must fail and nginx must not start;
#                       error_log is matched against their output and log
#
#   expect_emerg        texts (one per line) of [emerg] lines the block
#                       causes on purpose (a refused reload): such lines
#                       are not failures
#
# Every block also checks that its error log has no [alert], [emerg] (but
# for must_die and expect_emerg) and no crashed worker.
#
# $TEST_NGINX_RTMP_PORT, $TEST_NGINX_HTTP_PORT, $TEST_NGINX_SERVROOT,
# $TEST_NGINX_KEYS, $TEST_NGINX_HTML_DIR (and any other TEST_NGINX_*
# environment variable) are substituted in the config sections, the client
# lines and the log patterns; they are in %ENV for eval sections too.
#
# Environment: TEST_NGINX_WRAPPER (a command nginx runs under, e.g. env
# LD_PRELOAD=... or valgrind; its reports in logs/asan.*, logs/ubsan.*,
# logs/valgrind.* fail the block), TEST_NGINX_BINARY (/usr/sbin/nginx),
# TEST_NGINX_LOAD_MODULES
# (the rtmp and the compliance module; empty for a static binary),
# TEST_NGINX_LOG_LEVEL (info), TEST_NGINX_SERVROOT (t/servroot_TEST_PID),
# TEST_NGINX_KEYS (build/test-keys), TEST_NGINX_RTMP_PORT and
# TEST_NGINX_HTTP_PORT (free ports), TEST_NGINX_NO_CLEAN (keep the
# servroot), TEST_RTMP_CLIENT, TEST_COMPLIANCE_TOKEN, TEST_NGINX_SLOW (a
# factor for every deadline: 20 under valgrind, else 1).
#
# Exported helpers: token(%opts), run_client(@args), wait_for($sub, $secs),
# nginx_pid(), worker_pids(), reload_nginx(%sections), http_request($method,
# $path, $body, \%headers), error_log_text(), client_results(), servroot(),
# rtmp_port(), http_port(), keys_dir(), repo_root(), current_block().
#
# Process control from post_check (the block's nginx.conf and servroot):
# stop_nginx() (SIGQUIT, waits), start_nginx(), restart_nginx(%sections)
# (stop + start, optionally with other sections as reload_nginx takes),
# kill_nginx() (SIGKILL to the master, then its workers: a crash).
# Background clients from perl: start_client(MODE, APP/NAME, @args) ->
# $run (like a "background" clients line: it is in client_results() and
# the block's status/exit_code checks, and is collected at the block's
# end); client_output($run) (stdout so far), client_done($run) (true once
# it exited; $run->{exit} is then its exit code), wait_client($run, SECS)
# (the exit code, or undef on timeout), stop_client($run) (SIGTERM).
# http_json(METHOD, PATH, DATA, \%headers): DATA (a ref) is sent as JSON,
# a string verbatim; returns (status, decoded JSON or undef, body,
# headers).  http_raw(TEXT): TEXT as is to the http port (use
# "Connection: close"); returns (status, \%headers, body).
#
# Config every block of a file needs is given once, before run_tests():
# add_block_preprocessor(sub { my ($block) = @_; ... }) (as Test::Nginx's:
# called with each block once its sections are evaluated, it may set
# sections with $block->set_value(NAME, VALUE)) or block_defaults(NAME =>
# TEXT, ...) (the sections a block does not have; an empty section keeps
# a default out).  Config pieces: zone_conf(STATE, SIZE), tiers(ARGS...),
# live_app(DIRECTIVES...), api_location(), nginx_conf(%sections) (for an
# nginx of the test's own).
#
# Helpers the test files share: api(METHOD, PATH, DATA) (the control
# API), sessions(), find_sessions(FIELD => VALUE), wait_sessions(N),
# order(%order), metrics(), audit_records(DIR), audit_event(DIR, EVENT,
# COND), redis_server(), redis(ARGS); stream(ROOM or APP/ROOM, %claims),
# room_token(ROOM, %claims), publisher(TARGET, %claims), player(TARGET,
# MS), once(MODE, TARGET, @args), refused(MODE, TARGET, @args),
# wait_output(RUN, TEXT), wait_log(TEXT); claims(%changes) (the default
# claims as JSON), token_defaults(%opts), sign_token(@args), hash12(TOKEN),
# hs_secret(KEYFILE); for the third-party client tests: kept_token(%opts)
# (token(), remembered), no_token_leak() (a test per kept token: it is
# not in the block's error log), wait_accepted(TOKEN) (the accepted line
# of the default publish claims with that token), token_limit(NAME, TRY,
# LO, HI) (the longest token a client gets through, bisected), commas(N);
# slurp(PATH), spew(PATH, TEXT), free_port(), alive(PID), listening(PORT),
# nginx_command().

use strict;
use warnings;

use Fcntl ();
use Test::Base ();
our @ISA = ('Test::Base');

use Cwd ();
use Digest::SHA ();
use File::Basename ();
use File::Path ();
use File::Spec ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Text::ParseWords ();
use Time::HiRes ();

our @EXPORT = qw(
    run_tests
    nginx_command
    api
    sessions
    find_sessions
    wait_output
    wait_log
    token
    run_client
    wait_for
    nginx_pid
    worker_pids
    reload_nginx
    http_request
    error_log_text
    client_results
    servroot
    rtmp_port
    http_port
    keys_dir
    repo_root
    current_block
    start_nginx
    stop_nginx
    restart_nginx
    kill_nginx
    start_client
    client_output
    client_done
    wait_client
    stop_client
    http_json
    http_raw
    add_block_preprocessor
    block_defaults
    slurp
    spew
    free_port
    alive
    listening
    claims
    token_defaults
    sign_token
    hash12
    hs_secret
    room_token
    kept_token
    no_token_leak
    wait_accepted
    stream
    publisher
    player
    once
    refused
    order
    metrics
    audit_records
    audit_event
    redis_server
    redis
    wait_sessions
    zone_conf
    tiers
    live_app
    api_location
    nginx_conf
    need_x264
    spawn_cmd
    token_limit
    commas
);

my $RepoRoot = Cwd::abs_path(File::Spec->catdir(
    File::Basename::dirname(Cwd::abs_path(__FILE__)), '..', '..', '..'));

my $RtmpModule = '/usr/lib/nginx/modules/ngx_rtmp_module.so';

my %Cfg;            # settled by _init()
my %Vars;           # $TEST_NGINX_* substitutions
my $Initialized;
my $Failed;         # some test of this file failed: keep the servroot
my $NginxPid;       # the running master, if any
my @Background;     # running background clients
my %Cur;            # the current block: block, log_offset, results, conf
my %UsedPorts;      # ports taken by this file (free_port())

# how many times slower than native nginx runs: every deadline of the
# harness (wait_for, wait_output, the clients' answer timeout, reaping)
# is multiplied by it, and so are the clients' long --durations;
# TEST_NGINX_SLOW, by default 1, or 20 when nginx runs under valgrind
# (make test VALGRIND=1)
our $Slow = defined $ENV{TEST_NGINX_SLOW} && $ENV{TEST_NGINX_SLOW} =~ /^\d+$/
            ? $ENV{TEST_NGINX_SLOW}
            : (($ENV{TEST_NGINX_WRAPPER} || '') =~ /valgrind/ ? 20 : 1);


#-----------------------------------------------------------------------------
# configuration and set up
#-----------------------------------------------------------------------------

sub _env {
    my ($name, $default) = @_;
    return defined $ENV{$name} ? $ENV{$name} : $default;
}


sub _init {
    return if $Initialized++;

    my $test = File::Basename::basename($0);
    $test =~ s/\.t$//;
    $test =~ s/[^\w.-]/_/g;

    $Cfg{binary} = _env('TEST_NGINX_BINARY', '/usr/sbin/nginx');
    $Cfg{log_level} = _env('TEST_NGINX_LOG_LEVEL', 'info');
    $Cfg{modules} = [split ' ', _env('TEST_NGINX_LOAD_MODULES',
        "$RtmpModule $RepoRoot/build/ngx_rtmp_compliance_module.so")];
    $Cfg{servroot_given} = defined $ENV{TEST_NGINX_SERVROOT};
    $Cfg{servroot} = _env('TEST_NGINX_SERVROOT',
                          "$RepoRoot/t/servroot_${test}_$$");
    $Cfg{keys} = _env('TEST_NGINX_KEYS', "$RepoRoot/build/test-keys");
    $Cfg{client} = _env('TEST_RTMP_CLIENT', "$RepoRoot/build/rtmp-client");
    $Cfg{token} = _env('TEST_COMPLIANCE_TOKEN',
                       "$RepoRoot/build/compliance-token");
    $Cfg{no_clean} = $ENV{TEST_NGINX_NO_CLEAN};

    $Cfg{rtmp_port} = _env('TEST_NGINX_RTMP_PORT', _free_port());
    $UsedPorts{$Cfg{rtmp_port}} = 1;
    $Cfg{http_port} = _env('TEST_NGINX_HTTP_PORT', _free_port());
    $UsedPorts{$Cfg{http_port}} = 1;

    my $root = $Cfg{servroot};

    if ($Cfg{servroot_given}) {
        # somebody else's directory: clean only what we create
        File::Path::rmtree("$root/$_") for qw(conf logs html tmp);

    } else {
        File::Path::rmtree($root) if -d $root;
    }

    for my $dir ('', qw(conf logs html tmp)) {
        my $path = $dir eq '' ? $root : "$root/$dir";
        mkdir $path or die "cannot create $path: $!\n" unless -d $path;
    }

    spew("$root/html/index.html", "ok\n");

    %Vars = (
        TEST_NGINX_RTMP_PORT => $Cfg{rtmp_port},
        TEST_NGINX_HTTP_PORT => $Cfg{http_port},
        TEST_NGINX_SERVROOT  => $root,
        TEST_NGINX_SERVER_ROOT => $root,
        TEST_NGINX_KEYS      => $Cfg{keys},
        TEST_NGINX_HTML_DIR  => "$root/html",
        TEST_NGINX_REPO      => $RepoRoot,
    );

    # eval sections may use them too
    $ENV{$_} = $Vars{$_} for keys %Vars;

    _build_client();
    _make_keys();
}


# free_port(): a port that nobody listens on, below the ephemeral range
# (so that client sockets never take it), and not one this file already
# uses or was given

sub free_port {
    _init();
    return _free_port();
}


sub _free_port {
    for (1 .. 200) {
        my $port = 20000 + int(rand(12000));
        next if $UsedPorts{$port};

        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 1,
            ReuseAddr => 1,
        ) or next;

        close $sock;
        $UsedPorts{$port} = 1;
        return $port;
    }

    die "cannot find a free port\n";
}


# build/rtmp-client, (re)built as the Makefile does when one of its
# sources is newer: t/client/rtmp_client.c and the RTMP code it shares
# with bench/loadgen.c, lib/rtmp_proto.c and .h

sub _build_client {
    my $bin = $Cfg{client};
    my $src = "$RepoRoot/t/client/rtmp_client.c";
    my $lib = "$RepoRoot/lib";

    return if $ENV{TEST_RTMP_CLIENT};
    return unless -f $src;

    my @srcs = ($src, grep { -f } "$lib/rtmp_proto.c");
    my @deps = (@srcs, grep { -f } "$lib/rtmp_proto.h");

    return if -x $bin && !grep { (stat $_)[9] > (stat $bin)[9] } @deps;

    File::Path::mkpath(File::Basename::dirname($bin));

    # build aside and rename, so that parallel test files do not race
    my $tmp = "$bin.tmp.$$";
    my @cmd = (_env('CC', 'cc'), qw(-O2 -g -Wall -Wextra), "-I$lib",
               '-o', $tmp, @srcs);

    if (system(@cmd) != 0 || !rename($tmp, $bin)) {
        unlink $tmp;
        die "cannot build the RTMP client: @cmd\n";
    }
}


sub _make_keys {
    my $dir = $Cfg{keys};

    return if -e "$dir/.complete";

    my $keygen = "$RepoRoot/scripts/compliance-keygen";

    unless (-x $keygen || -f $keygen) {
        Test::More::note("no test keys in $dir and no $keygen");
        return;
    }

    File::Path::mkpath($dir);

    # test files run in parallel (prove -j): one makes the keys, the others
    # wait for it
    open my $lock, '>>', "$dir/.lock" or die "$dir/.lock: $!";
    flock($lock, Fcntl::LOCK_EX()) or die "flock $dir/.lock: $!";

    unless (-e "$dir/.complete") {
        my @cmd = -x $keygen ? ($keygen, $dir) : ('sh', $keygen, $dir);
        my ($rc, $out) = _run_capture(\@cmd, 120);

        if ($rc ne '0') {
            Test::More::diag("@cmd failed ($rc):\n$out");

        } elsif (open my $fh, '>', "$dir/.complete") {
            close $fh;
        }
    }

    close $lock;
}


sub _subst {
    my ($text) = @_;

    return $text unless defined $text && !ref $text;

    $text =~ s{\$(TEST_NGINX_[A-Z0-9_]+)}{
        defined $Vars{$1} ? $Vars{$1}
        : defined $ENV{$1} ? $ENV{$1}
        : "\$$1"
    }ge;

    return $text;
}


#-----------------------------------------------------------------------------
# small utilities
#-----------------------------------------------------------------------------

# spew(PATH, TEXT, APPEND): writes (or appends) TEXT's bytes; dies when it
# cannot

sub spew {
    my ($path, $text, $append) = @_;

    open my $fh, $append ? '>>:raw' : '>:raw', $path
        or die "cannot write $path: $!\n";
    print {$fh} $text;
    close $fh or die "cannot write $path: $!\n";
}


# slurp(PATH, OFFSET): the bytes of a file (from OFFSET on), or undef when
# it cannot be read

sub slurp {
    my ($path, $offset) = @_;

    open my $fh, '<:raw', $path or return undef;

    if ($offset) {
        seek $fh, $offset, 0;
    }

    local $/;
    my $text = <$fh>;
    close $fh;

    return defined $text ? $text : '';
}


sub _read_file {
    my $text = slurp(@_);
    return defined $text ? $text : '';
}


# spawn_cmd(ERRFILE, CMD, ARGS...): CMD in the background, its stdin and
# stdout /dev/null, its stderr ERRFILE; its pid

sub spawn_cmd {
    my ($err, @cmd) = @_;
    return _spawn(\@cmd, '/dev/null', $err);
}


# _spawn(CMD, OUT, ERR, PGRP): runs CMD with stdout in OUT, stderr in ERR
# (or OUT); with PGRP, in process group PGRP (0: a new one it leads, so
# that killing -PID stops it and all it started); returns the pid

sub _spawn {
    my ($cmd, $out, $err, $pgrp) = @_;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        POSIX::setpgid(0, $pgrp) or POSIX::_exit(127) if defined $pgrp;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        # stderr into OUT shares stdout's file offset (a second open of
        # OUT would write over what stdout wrote)
        if (defined $err) {
            open STDERR, '>', $err or POSIX::_exit(127);
        } else {
            open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
        }
        { no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
        print STDERR "exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }

    return $pid;
}


# waits for a child; returns its exit code, "signal N" or "timeout"

sub _reap {
    my ($pid, $timeout) = @_;

    my $deadline = Time::HiRes::time() + $timeout * $Slow;

    for (;;) {
        my $r = waitpid($pid, POSIX::WNOHANG());

        if ($r == $pid) {
            my $status = $?;
            return $status & 127 ? 'signal ' . ($status & 127)
                                 : $status >> 8;
        }

        return 'lost' if $r == -1;

        if (Time::HiRes::time() >= $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            return 'timeout';
        }

        Time::HiRes::sleep(0.01);
    }
}


# runs a command: (exit code, its output); with SPLIT, (exit code,
# stdout, stderr)

sub _run_capture {
    my ($cmd, $timeout, $split) = @_;

    my $out = "$Cfg{servroot}/tmp/cmd.$$.out";
    my $err = $split ? "$Cfg{servroot}/tmp/cmd.$$.err" : undef;
    my $pid = _spawn($cmd, $out, $err);
    my $rc = _reap($pid, $timeout || 30);
    my @text = map { _read_file($_) } $out, $split ? $err : ();

    unlink $out, $split ? $err : ();

    return ($rc, @text);
}


# wait_for(sub { ... }, SECONDS): polls the sub until it is true (1) or the
# deadline passes (0); 10 s by default

sub wait_for {
    my ($cond, $timeout) = @_;

    my $deadline = Time::HiRes::time()
                   + (defined $timeout ? $timeout : 10) * $Slow;

    for (;;) {
        return 1 if $cond->();
        return 0 if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.02);
    }
}


# alive(PID): the process runs (and is not a zombie)

sub alive {
    my ($pid) = @_;

    return 0 unless $pid && kill(0, $pid);

    # a zombie left for a parent that does not reap is gone for us
    if (open my $fh, '<', "/proc/$pid/stat") {
        my $stat = <$fh>;
        close $fh;
        return 0 if defined $stat && $stat =~ /\)\s+Z\s/;
    }

    return 1;
}


sub servroot   { _init(); return $Cfg{servroot} }
sub rtmp_port  { _init(); return $Cfg{rtmp_port} }
sub http_port  { _init(); return $Cfg{http_port} }
sub keys_dir   { _init(); return $Cfg{keys} }
sub repo_root  { return $RepoRoot }
sub current_block { return $Cur{block} }


#-----------------------------------------------------------------------------
# nginx
#-----------------------------------------------------------------------------

sub _section {
    my ($block, $name) = @_;

    my $value = $block->$name;
    return undef unless defined $value;

    if (ref $value eq 'ARRAY') {
        $value = join "\n", @$value;
    }

    return _subst($value);
}


# the items of a line-based section: eval results (strings, qr//,
# array refs of them) or the lines of the text

sub _items {
    my ($block, $name, $keep_empty) = @_;

    my @values = $block->$name;
    return () unless @values && defined $values[0];

    my @items;

    for my $v (@values) {
        for my $item (ref $v eq 'ARRAY' ? @$v : ($v)) {
            next unless defined $item;

            if (ref $item) {
                push @items, $item;
                next;
            }

            for my $line (split /\n/, $item) {
                next if !$keep_empty && $line !~ /\S/;
                push @items, _subst($line);
            }
        }
    }

    return @items;
}


sub _indent {
    my ($text, $indent) = @_;

    return '' unless defined $text && length $text;

    $text =~ s/^(?=.)/$indent/mg;
    $text .= "\n" unless $text =~ /\n\z/;

    return $text;
}


# nginx.conf for BLOCK (or for none: undef), with the sections in
# %override instead of the block's; %override may also name another
# instance's root, rtmp_port and http_port, and a title for the first line

sub _nginx_conf {
    my ($block, %override) = @_;

    my $get = sub {
        my ($name) = @_;
        return exists $override{$name} ? _subst($override{$name})
               : $block ? _section($block, $name)
               : undef;
    };

    my $root = $override{root} || $Cfg{servroot};
    my $rtmp_port = $override{rtmp_port} || $Cfg{rtmp_port};
    my $http_port = $override{http_port} || $Cfg{http_port};
    my $workers = $get->('workers');
    $workers = 1 unless defined $workers && $workers =~ /\S/;
    $workers =~ s/\s+//g;

    my $conf = '# ' . ($override{title} || 'block: ' . $block->name) . "\n";

    for my $module (@{$Cfg{modules}}) {
        $conf .= "load_module $module;\n";
    }

    # as root, workers run as root too, unless main_config names a user
    $conf .= "user root;\n"
        if $> == 0 && ($get->('main_config') // '') !~ /^\s*user\s/m;
    $conf .= <<"EOF";
worker_processes $workers;
daemon on;
master_process on;
pid logs/nginx.pid;
lock_file logs/nginx.lock;
error_log logs/error.log $Cfg{log_level};

EOF

    $conf .= $get->('main_config') . "\n" if defined $get->('main_config');

    $conf .= <<"EOF";
events {
    worker_connections 1024;
}

rtmp {
EOF
    $conf .= _indent($get->('rtmp_config'), '    ');
    $conf .= <<"EOF";
    server {
        listen 127.0.0.1:$rtmp_port;

EOF
    $conf .= _indent($get->('config'), '        ');
    $conf .= <<"EOF";
    }
}

http {
    access_log logs/access.log;
    client_body_temp_path $root/tmp/client_body;
    proxy_temp_path $root/tmp/proxy;
    fastcgi_temp_path $root/tmp/fastcgi;
    uwsgi_temp_path $root/tmp/uwsgi;
    scgi_temp_path $root/tmp/scgi;

EOF
    $conf .= _indent($get->('http_config'), '    ');
    $conf .= <<"EOF";
    server {
        listen 127.0.0.1:$http_port;
        server_name localhost;

EOF
    $conf .= _indent($get->('http_server_config'), '        ');
    $conf .= <<"EOF";
    }
}
EOF

    return $conf;
}


# TEST_NGINX_WRAPPER runs nginx under another command: "env LD_PRELOAD=..."
# for a sanitizer build, "valgrind ..." (make test SAN=1 / VALGRIND=1)

sub _nginx_cmd {
    my @wrapper;

    if (defined $ENV{TEST_NGINX_WRAPPER} && $ENV{TEST_NGINX_WRAPPER} =~ /\S/) {
        @wrapper = split ' ', _subst($ENV{TEST_NGINX_WRAPPER});
    }

    return (@wrapper, $Cfg{binary}, '-p', "$Cfg{servroot}/", '-c',
            'conf/nginx.conf', @_);
}


# the control API at $Test::Compliance::ApiPrefix ("/compliance/"):
# (status, decoded JSON, body) as http_json() returns them

our $ApiPrefix = '/compliance/';

sub api {
    my ($method, $path, $data, $headers) = @_;
    return http_json($method, "$ApiPrefix$path", $data, $headers);
}


# GET sessions: an array ref (empty when the API does not answer)

sub sessions {
    my (undef, $json) = api('GET', 'sessions');
    return ref $json eq 'ARRAY' ? $json : [];
}


# the live sessions whose fields equal the given ones

sub find_sessions {
    my (%want) = @_;

    return grep {
        my $s = $_;
        !grep { !defined $s->{$_} || $s->{$_} ne $want{$_} } keys %want
    } @{sessions()};
}


# wait_sessions(N, SECONDS): true once GET sessions lists N sessions

sub wait_sessions {
    my ($n, $secs) = @_;
    return wait_for(sub { @{sessions()} == $n }, $secs);
}


# POST orders: the stored order, or undef (and a failed test)

sub order {
    my (%o) = @_;

    my ($status, $json, $body) = api('POST', 'orders', \%o);

    Test::More::is($status, 201, "order $o{action} $o{target} is created")
        or Test::More::diag($body);

    return $status && $status == 201 ? $json : undef;
}


# GET metrics: { name => value }

sub metrics {
    my (undef, undef, $body) = api('GET', 'metrics');

    my %m;

    for my $line (split /\n/, $body || '') {
        next if $line =~ /^#/;
        $m{$1} = $2 if $line =~ /^(\S+)\s+(\S+)$/;
    }

    return \%m;
}


# audit_records(DIR): the records of the audit log in DIR, decoded, in
# their order; audit_event(DIR, EVENT, COND): the first record of EVENT
# for which COND($record) is true, waited for (10 s), or undef

sub audit_records {
    my ($dir) = @_;
    opendir my $dh, $dir or return ();
    my @segs = sort grep { /^audit-.*\.jsonl\z/ } readdir $dh;
    closedir $dh;
    my @r;
    for my $seg (@segs) {
        for my $line (split /\n/, slurp("$dir/$seg")) {
            my $j = eval { JSON::PP->new->utf8->decode($line) } or next;
            push @r, $j;
        }
    }
    return @r;
}

sub audit_event {
    my ($dir, $event, $cond) = @_;
    my @r;
    wait_for(sub {
        @r = grep { $_->{event} eq $event && $cond->($_) }
             audit_records($dir);
        return @r;
    }, 10);
    return $r[0];
}


# redis_server(): the port of a redis-server of this test file (on a
# free port, no persistence, in the servroot's redis/, stopped at the
# file's end, by its pid), started at the first call; undef where
# redis-server is not installed or does not start.  redis(ARGS...): the
# output of redis-cli ARGS against it

my %Redis;          # port, pid, owner (the process that started it)

sub redis_server {
    return $Redis{port} if exists $Redis{port};

    $Redis{port} = undef;

    return undef unless -x '/usr/bin/redis-server' && -x '/usr/bin/redis-cli';

    my $port = free_port();
    my $dir = servroot() . '/redis';
    File::Path::mkpath($dir);

    system('/usr/bin/redis-server', '--port', $port, '--bind', '127.0.0.1',
           '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
           '--pidfile', "$dir/redis.pid", '--dir', $dir,
           '--logfile', "$dir/redis.log") == 0
        or return undef;

    $Redis{port} = $port;
    $Redis{owner} = $$;

    my $up = wait_for(sub { redis('PING') eq 'PONG' }, 10);
    ($Redis{pid}) = (slurp("$dir/redis.pid") // '') =~ /(\d+)/;

    unless ($up) {
        _redis_stop();
        return $Redis{port} = undef;
    }

    return $port;
}

sub redis {
    return '' unless $Redis{port};
    open(my $fh, '-|', '/usr/bin/redis-cli', '-h', '127.0.0.1', '-p',
         $Redis{port}, @_)
        or return '';
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\n\z//;     # chomp() cuts nothing with $/ undefined
    return $out;
}

sub _redis_stop {
    my $pid = $Redis{pid};
    return unless $Redis{owner} && $Redis{owner} == $$;
    return unless $pid && kill 0, $pid;
    kill 'TERM', $pid;
    wait_for(sub { !kill 0, $pid }, 5);
    kill 'KILL', $pid if kill 0, $pid;
}


#-----------------------------------------------------------------------------
# config the test files share
#-----------------------------------------------------------------------------

# zone_conf(STATE, SIZE): compliance_zone comp SIZE (16m) and, with STATE,
# compliance_state $TEST_NGINX_SERVROOT/STATE.jsonl

sub zone_conf {
    my ($state, $size) = @_;

    return "compliance_zone comp " . ($size || '16m') . ";\n"
           . (defined $state
              ? "compliance_state \$TEST_NGINX_SERVROOT/$state.jsonl;\n"
              : '');
}


# tiers(ARGS...): a "compliance_tier ARGS;" line for each

sub tiers {
    return join '', map { "compliance_tier $_;\n" } @_;
}


# live_app(DIRECTIVES...): application live with live on, compliance on
# and the DIRECTIVES (by default the HS256 test key and compliance_recheck
# 200ms)

sub live_app {
    my (@lines) = @_ ? @_ : ('compliance_key $TEST_NGINX_KEYS/hs256.key',
                             'compliance_recheck 200ms');

    return "application live {\n    live on;\n    compliance on;\n"
           . join('', map { "    $_;\n" } @lines) . "}\n";
}


# need_x264(): the file is skipped (in a BEGIN block) where ffmpeg has no
# libx264 encoder

sub need_x264 {
    my $ffmpeg = `command -v ffmpeg 2>/dev/null`;
    my $enc = $ffmpeg ? `ffmpeg -hide_banner -encoders 2>/dev/null` : '';

    return if $enc =~ /libx264/;

    Test::More::plan(skip_all => 'ffmpeg with libx264 is not installed');
}


# api_location(): the control API at $ApiPrefix, for 127.0.0.1 only

sub api_location {
    return "location $ApiPrefix {\n    compliance_api;\n"
           . "    allow 127.0.0.1;\n    deny all;\n}\n";
}


# nginx_conf(SECTION => TEXT, ..., root => DIR, rtmp_port => PORT,
# http_port => PORT, title => TEXT): an nginx.conf as the harness writes
# it, for another nginx than the block's (sections not given are empty)

sub nginx_conf {
    my (%sections) = @_;
    _init();
    return _nginx_conf(undef, title => 'nginx.conf', %sections);
}


#-----------------------------------------------------------------------------
# clients the test files share
#-----------------------------------------------------------------------------

# stream("ROOM" or "APP/ROOM", CLAIM => VALUE, ...): "APP/ROOM?token=..."
# (APP live) with room_token(ROOM, CLAIMS)

sub stream {
    my ($target, %claims) = @_;

    my ($app, $room) = $target =~ m{^([^/]+)/(.*)\z}s ? ($1, $2)
                                                      : ('live', $target);

    return "$app/$room?token=" . room_token($room, %claims);
}


# publisher(TARGET, CLAIMS..., duration => MS, args => [ARGS]): a
# background publisher of stream(TARGET, CLAIMS) for MS (20000)

sub publisher {
    my ($target, %claims) = @_;

    my $ms = delete $claims{duration} || 20000;
    my @args = @{delete $claims{args} || []};

    return start_client('publish', stream($target, %claims),
                        '--duration', $ms, @args);
}


# player("ROOM" or "APP/NAME?ARGS", MS, ARGS...): a background player
# (of live/ROOM) for MS (20000)

sub player {
    my ($target, $ms, @args) = @_;

    $target = "live/$target" unless $target =~ m{/};

    return start_client('play', $target, '--duration', $ms || 20000, @args);
}


# once(MODE, TARGET, ARGS...): a client of 1 s run to its end (20 s at
# most); refused(MODE, TARGET, ARGS...): a client that is to be refused
# (3 s if it is not, 15 s at most); both return (exit code, stdout)

sub once {
    return _client_to_end(1000, 20, @_);
}


sub refused {
    return _client_to_end(3000, 15, @_);
}


sub _client_to_end {
    my ($ms, $secs, $mode, $target, @args) = @_;

    my $run = start_client($mode, $target, '--duration', $ms, @args);
    my $rc = wait_client($run, $secs);

    return ($rc, client_output($run));
}


# wait_output(RUN, TEXT or qr//, SECONDS): a background client's output
# shows TEXT; wait_log(TEXT or qr//, SECONDS): the error log does

sub wait_output {
    my ($run, $text, $secs) = @_;
    return wait_for(sub {
        my $out = client_output($run);
        return ref $text ? $out =~ $text : index($out, $text) >= 0;
    }, $secs || 10);
}


sub wait_log {
    my ($text, $secs) = @_;
    return wait_for(sub {
        my $log = error_log_text();
        return ref $text ? $log =~ $text : index($log, $text) >= 0;
    }, $secs || 10);
}


# the command line that runs this test file's nginx with ARGS (e.g. -t),
# under TEST_NGINX_WRAPPER when there is one

sub nginx_command {
    _init();
    return _nginx_cmd(@_);
}


# reports of AddressSanitizer, UBSan and valgrind in logs/ that this test
# file has not seen yet; valgrind reports count when they name our code

my %SanSeen;

sub _sanitizer_reports {
    my @bad;

    for my $f (glob("$Cfg{servroot}/logs/asan.*"),
               glob("$Cfg{servroot}/logs/ubsan.*"),
               glob("$Cfg{servroot}/logs/valgrind.*"))
    {
        my $text = _read_file($f);
        my $size = length $text;
        my $from = $SanSeen{$f} || 0;

        next if $size <= $from;

        $SanSeen{$f} = $size;
        my $new = substr($text, $from);

        if ($f =~ /valgrind/) {
            # one report per blank-line separated paragraph
            for my $p (split /\n(?:==\d+==\s*)?\n/, $new) {
                next unless $p =~ /Invalid (?:read|write|free)|uninitialised
                                   |definitely lost in loss record|Mismatched free
                                   |Syscall param/x;
                next unless $p =~ /compliance/;
                push @bad, "$f: $p";
            }

        } elsif ($new =~ /ERROR|runtime error/) {
            push @bad, "$f: " . substr($new, 0, 4000);
        }
    }

    return @bad;
}


sub nginx_pid {
    my $text = _read_file("$Cfg{servroot}/logs/nginx.pid");
    return $text =~ /(\d+)/ ? $1 : undef;
}


# all worker processes of the running master, shutting down ones too

sub _workers {
    my ($master) = @_;

    $master ||= $NginxPid || nginx_pid();
    return () unless $master;

    my (@workers, $listen);

    opendir my $dh, '/proc' or return ();

    for my $pid (grep { /^\d+$/ } readdir $dh) {
        my $stat = _read_file("/proc/$pid/stat");
        next unless $stat =~ /\)\s+(\S)\s+(\d+)/;
        next unless $2 == $master && $1 ne 'Z';

        my $cmdline = _read_file("/proc/$pid/cmdline");
        $cmdline =~ s/\0/ /g;

        # under valgrind the process title is valgrind's command line:
        # every child of the master but its cache processes is a worker
        next unless $cmdline =~ /worker process/
                    || ($cmdline =~ /valgrind/ && $cmdline !~ /cache/);

        my $exiting = $cmdline =~ /shutting/ ? 1 : 0;

        # there, a worker that shuts down is known by its having closed
        # the listening sockets
        if ($cmdline =~ /valgrind/ && !$exiting) {
            $listen ||= _listen_inodes($master);
            $exiting = 1 if %$listen && !_holds_inode($pid, $listen);
        }

        push @workers, { pid => $pid, exiting => $exiting };
    }

    closedir $dh;

    return sort { $a->{pid} <=> $b->{pid} } @workers;
}


# the inodes of the listening sockets of a master (it keeps them open)

sub _listen_inodes {
    my ($master) = @_;

    my (%listen, %inode);

    for my $line (split /\n/, _read_file('/proc/net/tcp')) {
        my @f = split ' ', $line;
        $listen{$f[9]} = 1 if @f > 9 && $f[3] eq '0A';
    }

    opendir my $dh, "/proc/$master/fd" or return \%inode;

    for my $fd (readdir $dh) {
        my $l = readlink "/proc/$master/fd/$fd";
        $inode{$1} = 1 if defined $l && $l =~ /^socket:\[(\d+)\]$/
                          && $listen{$1};
    }

    return \%inode;
}


sub _holds_inode {
    my ($pid, $inodes) = @_;

    opendir my $dh, "/proc/$pid/fd" or return 0;

    for my $fd (readdir $dh) {
        my $l = readlink "/proc/$pid/fd/$fd";
        return 1 if defined $l && $l =~ /^socket:\[(\d+)\]$/ && $inodes->{$1};
    }

    return 0;
}


sub worker_pids {
    return map { $_->{pid} } grep { !$_->{exiting} } _workers(@_);
}


# whether something listens on 127.0.0.1:PORT, without connecting to it
# (a probe connection would show up in the error log)

sub listening {
    my ($port) = @_;

    my $text = _read_file('/proc/net/tcp');

    unless (length $text) {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $port,
                                         Proto    => 'tcp');
        return $sock ? 1 : 0;
    }

    my $local = sprintf '0100007F:%04X', $port;

    return $text =~ /^\s*\d+:\s+$local\s+\S+\s+0A\s/m ? 1 : 0;
}


sub _block_workers {
    my $n = defined $Cur{workers} ? $Cur{workers} : 1;
    return $n =~ /^\d+$/ ? $n : 1;
}


sub _start_nginx {
    my ($block) = @_;

    my $root = $Cfg{servroot};
    unlink "$root/logs/nginx.pid";

    my ($rc, $out) = _run_capture([_nginx_cmd()], 30);

    if ($rc ne '0') {
        return (0, "nginx failed to start ($rc):\n$out");
    }

    my $pid;
    my $ok = wait_for(sub {
        $pid = nginx_pid();
        return $pid && alive($pid);
    }, 10);

    return (0, "no nginx pid file or master process\n$out") unless $ok;

    $NginxPid = $pid;

    my $want = _block_workers();

    # the listening sockets are open before the workers start; a connection
    # made before the workers accept waits in the backlog
    $ok = wait_for(sub {
        return 0 unless alive($pid);
        return scalar(worker_pids($pid)) >= $want
               && listening($Cfg{rtmp_port});
    }, 10);

    unless ($ok) {
        return (0, "nginx master $pid has not started $want worker(s)\n$out")
            if alive($pid);
        $NginxPid = undef;
        return (0, "nginx master $pid exited\n$out");
    }

    return (1, $out);
}


sub _stop_nginx {
    my $pid = $NginxPid;

    return (1, '') unless $pid;

    $NginxPid = undef;

    my @workers = map { $_->{pid} } _workers($pid);

    kill 'QUIT', $pid;

    my $gone = wait_for(sub {
        return !alive($pid) && !grep { alive($_) } @workers;
    }, 15);

    return (1, '') if $gone;

    my @left = grep { alive($_) } $pid, @workers;
    kill 'KILL', @left;
    wait_for(sub { !grep { alive($_) } @left }, 5);

    return (0, "nginx did not stop within 15 s after SIGQUIT (killed @left)");
}


# the block's nginx.conf with other sections (as reload_nginx takes them)

sub _rewrite_conf {
    my ($block, %override) = @_;

    $Cur{workers} = $override{workers} if defined $override{workers};
    $Cur{conf} = _nginx_conf($block, %override);
    spew("$Cfg{servroot}/conf/nginx.conf", $Cur{conf});
}


# reload_nginx(%sections): SIGHUP, optionally after rewriting nginx.conf
# with other sections (config => "...", workers => 2, ...); true once the
# new workers run and the old ones are gone or shutting down

sub reload_nginx {
    my (%override) = @_;

    my $block = $Cur{block} or die "reload_nginx() outside of a block\n";
    my $pid = $NginxPid or die "reload_nginx(): nginx is not running\n";

    _rewrite_conf($block, %override) if %override;

    my %old = map { $_->{pid} => 1 } _workers($pid);
    my $want = _block_workers();

    kill 'HUP', $pid;

    # new workers up, and the old ones gone or shutting down
    return wait_for(sub {
        my @now = worker_pids($pid);
        my @new = grep { !$old{$_} } @now;
        return @new >= $want && @new == @now;
    }, 10);
}


# the error log written since the current block started

sub error_log_text {
    return '' unless $Cfg{servroot};
    return _read_file("$Cfg{servroot}/logs/error.log", $Cur{log_offset});
}


#-----------------------------------------------------------------------------
# clients
#-----------------------------------------------------------------------------

sub _client_cmd {
    my ($mode, $target, @args) = @_;

    my ($app, $name) = $target =~ m{^([^/]*)/(.*)\z}s;
    ($app, $name) = ($target, '') unless defined $app;

    return ($Cfg{client}, '-H', '127.0.0.1', '-p', $Cfg{rtmp_port},
            '-a', $app, '-n', $name, ($mode eq 'play' ? '--play' : ()),
            _client_slow(@args));
}


# under a slow nginx the client waits longer for each answer, unless the
# test set its own timeout, and a client that is to stay while the test
# works (a --duration of 10 s or more) stays that much longer; shorter
# durations are what a test measures and are kept

sub _client_slow {
    my (@args) = @_;

    return @args if $Slow == 1;

    for my $i (0 .. $#args - 1) {
        if ($args[$i] eq '--duration' && $args[$i + 1] =~ /^\d+$/
            && $args[$i + 1] >= 10000)
        {
            $args[$i + 1] *= $Slow;
        }
    }

    return @args if grep { $_ eq '--timeout' } @args;
    return ('--timeout', 5000 * $Slow, @args);
}


sub _client_limit {
    my (@args) = @_;

    my ($duration, $timeout) = (0, 5000);

    for my $i (0 .. $#args - 1) {
        $duration = $args[$i + 1] if $args[$i] eq '--duration';
        $timeout = $args[$i + 1] if $args[$i] eq '--timeout';
    }

    $duration = 0 unless $duration =~ /^\d+$/;
    $timeout = 5000 unless $timeout =~ /^\d+$/;

    return 30 + ($duration + 6 * $timeout) / 1000;
}


sub _start_client {
    my ($cmd, $background) = @_;

    my $n = @{$Cur{results}} + 1;
    my $base = "$Cfg{servroot}/logs/client.$Cur{seq}.$n";

    my $run = {
        cmd        => $cmd,
        out        => "$base.out",
        err        => "$base.err",
        background => $background,
        limit      => _client_limit(@$cmd),
    };

    $run->{pid} = _spawn($cmd, $run->{out}, $run->{err});
    push @{$Cur{results}}, $run;

    return $run;
}


sub _finish_client {
    my ($run) = @_;

    return if defined $run->{exit};

    $run->{exit} = _reap($run->{pid}, $run->{limit});
    $run->{stdout} = _read_file($run->{out});
    $run->{stderr} = _read_file($run->{err});

    @Background = grep { $_ != $run } @Background;
}


sub _wait_background {
    # _finish_client() takes each run out of @Background: iterate a copy
    my @runs = @Background;
    _finish_client($_) for @runs;
    @Background = ();
}


# run_client(@args): runs the RTMP client with -H 127.0.0.1 -p RTMP_PORT
# and @args; returns (exit code, stdout, stderr) or, in scalar context,
# stdout

sub run_client {
    my (@args) = @_;

    _init();

    my @cmd = ($Cfg{client}, '-H', '127.0.0.1', '-p', $Cfg{rtmp_port},
               _client_slow(map { _subst($_) } @args));

    my $out = "$Cfg{servroot}/tmp/run_client.$$.out";
    my $err = "$Cfg{servroot}/tmp/run_client.$$.err";
    my $pid = _spawn(\@cmd, $out, $err);
    my $rc = _reap($pid, _client_limit(@cmd));
    my $stdout = _read_file($out);
    my $stderr = _read_file($err);

    unlink $out, $err;

    return wantarray ? ($rc, $stdout, $stderr) : $stdout;
}


# the client runs of the current block so far, in start order:
# [{ cmd => [...], exit => CODE, stdout => TEXT, stderr => TEXT }, ...]

sub client_results {
    return [
        map {
            +{
                cmd    => [@{$_->{cmd}}],
                exit   => $_->{exit},
                stdout => defined $_->{stdout} ? $_->{stdout}
                                               : _read_file($_->{out}),
                stderr => defined $_->{stderr} ? $_->{stderr}
                                               : _read_file($_->{err}),
            }
        } @{$Cur{results} || []}
    ];
}


# one client line: "[background] publish|play APP/NAME [args...]"

sub _parse_client_line {
    my ($line, $extra) = @_;

    $line =~ s/^\s+|\s+\z//g;

    my ($bg, $mode, $target, $rest) =
        $line =~ /^(background\s+)?(publish|play)\s+(\S+)\s*(.*)\z/s
        or return;

    my @args = (@$extra, Text::ParseWords::shellwords($rest));

    return ($bg ? 1 : 0, [_client_cmd($mode, $target, @args)]);
}


sub _run_clients {
    my ($block) = @_;

    my @extra = map { Text::ParseWords::shellwords($_) }
                _items($block, 'client_args');

    my @lines;

    if (defined $block->clients) {
        @lines = _items($block, 'clients');

    } else {
        push @lines, map { "publish $_" } _items($block, 'publish');
        push @lines, map { "play $_" } _items($block, 'play');
    }

    for my $line (@lines) {

        if ($line =~ /^\s*wait\s*$/) {
            _wait_background();
            next;
        }

        if ($line =~ /^\s*sleep\s+(\d+)\s*$/) {
            Time::HiRes::sleep($1 / 1000);
            next;
        }

        if ($line =~ /^\s*wait_output\s+(.+?)\s*$/) {
            my $text = $1;
            my $ok = wait_for(sub {
                grep { index(_read_file($_->{out}), $text) >= 0 }
                     @{$Cur{results}};
            }, 15);
            Test::More::fail($block->name . " - client output \"$text\"")
                unless $ok;
            next;
        }

        if ($line =~ /^\s*wait_log\s+(.+?)\s*$/) {
            my $text = $1;
            my $ok = wait_for(sub {
                index(error_log_text(), $text) >= 0
            }, 15);
            Test::More::fail($block->name . " - error log \"$text\"")
                unless $ok;
            next;
        }

        my ($bg, $cmd) = _parse_client_line($line, \@extra);

        unless ($cmd) {
            Test::More::fail($block->name . " - bad client line: $line");
            next;
        }

        my $run = _start_client($cmd, $bg);

        if ($bg) {
            push @Background, $run;
        } else {
            _finish_client($run);
        }
    }

    _wait_background();
}


#-----------------------------------------------------------------------------
# checks
#-----------------------------------------------------------------------------

sub _match {
    my ($text, $pattern) = @_;

    return ref $pattern eq 'Regexp' ? $text =~ $pattern
                                    : index($text, $pattern) >= 0;
}


sub _show {
    my ($pattern) = @_;
    my $s = ref $pattern ? "$pattern" : $pattern;
    $s = substr($s, 0, 120) . '...' if length $s > 123;
    return $s;
}


sub _check_clients {
    my ($block) = @_;

    my $name = $block->name;
    my @runs = @{$Cur{results}};
    my $stdout = join '', map { $_->{stdout} } @runs;
    my @lines = split /\n/, $stdout;

    # --- status: each line in order, as a substring of an output line
    my $pos = 0;

    for my $want (_items($block, 'status')) {
        my $found;

        for my $i ($pos .. $#lines) {
            if (_match($lines[$i], $want)) {
                $found = $i;
                last;
            }
        }

        if (defined $found) {
            $pos = $found + 1;
            Test::More::pass("$name - status \"" . _show($want) . "\"");

        } else {
            Test::More::fail("$name - status \"" . _show($want) . "\"");
            Test::More::diag("not found in order in the client output:\n"
                             . $stdout);
        }
    }

    for my $re (_items($block, 'status_like')) {
        my $qr = ref $re ? $re : qr/$re/m;
        Test::More::like($stdout, $qr, "$name - status_like " . _show($re));
    }

    for my $bad (_items($block, 'no_status')) {
        my @hits = grep { _match($_, $bad) } @lines;
        Test::More::ok(!@hits, "$name - no status \"" . _show($bad) . "\"")
            or Test::More::diag("found: $hits[0]");
    }

    my @codes = map { split ' ' } grep { !ref } _items($block, 'exit_code');

    if (@codes) {
        my @got = map { $_->{exit} } @runs;

        if (@codes == 1 && @got > 1) {
            @codes = ($codes[0]) x @got;
        }

        Test::More::is("@got", "@codes", "$name - client exit codes");
    }
}


sub _check_log {
    my ($block, $text, $must_die) = @_;

    my $name = $block->name;

    for my $want (_items($block, 'error_log')) {
        Test::More::ok(_match($text, $want),
                       "$name - error_log \"" . _show($want) . "\"");
    }

    for my $bad (_items($block, 'no_error_log')) {
        my $ok = !_match($text, $bad);
        Test::More::ok($ok, "$name - no_error_log \"" . _show($bad) . "\"");

        unless ($ok) {
            my ($line) = grep { _match($_, $bad) } split /\n/, $text;
            Test::More::diag("found: $line") if defined $line;
        }
    }
}


sub _check_crashes {
    my ($block, $text, $must_die) = @_;

    # one text per line
    my $expected = $block->expect_emerg;
    my @expected = grep { /\S/ } split /\n/,
                                       defined $expected ? $expected : '';
    s/\s+\z// for @expected;

    my @bad = grep {
        my $line = $_;
        (/\[alert\]/
         || (!$must_die && /\[emerg\]/
             && !grep { $line =~ /\[emerg\].*\Q$_\E/ } @expected)
         || /exited on signal/
         || /worker process \d+ exited with (?:fatal )?code [1-9]/)
    } split /\n/, $text;

    push @bad, _sanitizer_reports();

    Test::More::ok(!@bad, $block->name . " - no [alert], [emerg] or crash"
                          . " in the error log")
        or Test::More::diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
}


sub _diag_block {
    my ($block) = @_;

    Test::More::diag("---- nginx.conf of \"" . $block->name . "\":\n"
                     . ($Cur{conf} || ''));

    my @log = split /\n/, error_log_text();
    @log = @log[-40 .. -1] if @log > 40;
    Test::More::diag("---- error log (last lines):\n" . join "\n", @log);

    for my $run (@{$Cur{results} || []}) {
        my @cmd = map { length > 200 ? substr($_, 0, 200) . '...' : $_ }
                  @{$run->{cmd}};
        my $out = defined $run->{stdout} ? $run->{stdout} : '';
        my $err = defined $run->{stderr} ? $run->{stderr} : '';
        $out = substr($out, 0, 4000) . "...\n" if length $out > 4000;
        $err = substr($err, 0, 2000) . "...\n" if length $err > 2000;
        Test::More::diag("---- client: @cmd\n"
                         . "exit: " . (defined $run->{exit} ? $run->{exit}
                                                            : '?')
                         . "\n$out" . ($err ne '' ? "stderr:\n$err" : ''));
    }

    Test::More::diag("---- servroot kept: $Cfg{servroot}");
}


#-----------------------------------------------------------------------------
# the block runner
#-----------------------------------------------------------------------------

sub _run_must_die {
    my ($block) = @_;

    my $name = $block->name;

    my ($rc, $out) = _run_capture([_nginx_cmd('-t')], 30);
    Test::More::ok($rc ne '0', "$name - nginx -t fails")
        or Test::More::diag($out);

    my ($started, $start_out) = _start_nginx($block);

    if ($started) {
        Test::More::fail("$name - nginx does not start");
        _stop_nginx();

    } else {
        Test::More::pass("$name - nginx does not start");
    }

    # nginx reports to stderr or, once error_log is parsed, to the log
    _check_log($block, $out . $start_out . error_log_text(), 1);
    _check_crashes($block, error_log_text(), 1);
}


sub _run_block {
    my ($block) = @_;

    my $name = $block->name;
    my $tb = Test::More->builder;
    my $first = $tb->current_test;

    %Cur = (
        block      => $block,
        seq        => $block->seq_num,
        results    => [],
        workers    => _section($block, 'workers'),
        log_offset => -s "$Cfg{servroot}/logs/error.log" || 0,
    );

    $Cur{workers} =~ s/\s+//g if defined $Cur{workers};

    $Cur{conf} = _nginx_conf($block);
    spew("$Cfg{servroot}/conf/nginx.conf", $Cur{conf});

    if (defined $block->must_die) {
        _run_must_die($block);

    } else {
        my ($started, $out) = _start_nginx($block);

        if ($started) {
            eval { _run_block_clients($block); 1 }
                or Test::More::fail("$name - died: $@");

        } else {
            Test::More::fail("$name - nginx starts");
            Test::More::diag($out);
        }

        _wait_background();

        my ($stopped, $why) = _stop_nginx();
        Test::More::ok($stopped, "$name - nginx stops") unless $stopped;
        Test::More::diag($why) unless $stopped;

        if ($started) {
            _check_clients($block);
            _check_log($block, error_log_text(), 0);
        }

        _check_crashes($block, error_log_text(), 0);
    }

    my @summary = $tb->summary;

    if (grep { !$_ } @summary[$first .. $#summary]) {
        $Failed = 1;
        _diag_block($block);
    }
}


sub _run_block_clients {
    my ($block) = @_;

    _run_clients($block);

    for my $want (_items($block, 'wait_log')) {
        my $ok = wait_for(sub { _match(error_log_text(), $want) }, 15);
        Test::More::ok($ok, $block->name . " - wait_log \"" . _show($want)
                            . "\"");
    }

    my $check = $block->post_check;

    if (defined $check) {
        unless (ref $check eq 'CODE') {
            $check = eval "package main; sub { $check }"
                or die "post_check: $@";
        }

        $check->($block, $Cfg{servroot});
    }
}


# add_block_preprocessor(sub { my ($block) = @_; ... }): as in
# Test::Nginx, the sub is called with every block once its sections are
# evaluated, before the block runs; it may set sections with
# $block->set_value(NAME, VALUE).  Subs run in the order they were added.

my @Preprocessors;

sub add_block_preprocessor {
    my ($sub) = @_;

    die "add_block_preprocessor(): not a sub\n" unless ref $sub eq 'CODE';

    push @Preprocessors, $sub;
}


# block_defaults(NAME => VALUE, ...): a preprocessor that gives every block
# the sections NAME it does not have (VALUE: a text, or a sub called with
# the block that returns it); an empty section in a block keeps the
# default out of it

sub block_defaults {
    my (%defaults) = @_;

    add_block_preprocessor(sub {
        my ($block) = @_;

        for my $name (sort keys %defaults) {
            next if defined $block->$name;

            my $value = $defaults{$name};
            $block->set_value($name,
                              ref $value eq 'CODE' ? $value->($block)
                                                   : $value);
        }
    });
}


sub run_tests {
    _init();

    # tell Test::Base that there is a plan (done_testing() closes it);
    # Test::Builder::plan() without arguments does nothing else
    Test::Builder->new->plan();

    # Test::Base::run(), but a block whose eval sections die fails alone
    for my $block (@{Test::Base::default_object()->block_list}) {

        unless ($block->is_filtered || eval { $block->run_filters; 1 }) {
            Test::More::fail($block->name . " - sections evaluate");
            Test::More::diag($@);
            $Failed = 1;
            next;
        }

        unless (eval { $_->($block) for @Preprocessors; 1 }) {
            Test::More::fail($block->name . " - block preprocessors");
            Test::More::diag($@);
            $Failed = 1;
            next;
        }

        _run_block($block);
    }

    _cleanup();

    Test::More::done_testing();
}


sub _cleanup {
    _wait_background();
    _stop_nginx();

    return if $Cfg{no_clean} || $Failed || !Test::More->builder->is_passing;
    return if $Cfg{servroot_given};

    File::Path::rmtree($Cfg{servroot});
}


# a signal (prove interrupted, a CI timeout) ends the file through exit, so
# that the END block below still stops its nginx and clients
for my $sig (qw(INT TERM HUP)) {
    next if defined $SIG{$sig} && $SIG{$sig} ne 'DEFAULT';
    $SIG{$sig} = sub {
        print STDERR "# stopped by SIG$sig: stopping nginx and the clients\n";
        exit 128 + ($sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1);
    };
}

END {
    # a test file that died must not leave nginx or clients behind
    kill 'KILL', map { $_->{pid} } @Background if @Background;
    _redis_stop();
    if ($NginxPid && alive($NginxPid)) {
        my @workers = map { $_->{pid} } _workers($NginxPid);
        kill 'QUIT', $NginxPid;
        wait_for(sub { !alive($NginxPid) }, 5);
        kill 'KILL', grep { alive($_) } $NginxPid, @workers;
    }
}


#-----------------------------------------------------------------------------
# tokens
#-----------------------------------------------------------------------------

my %DefaultKey = (
    HS256 => 'hs256.key', HS384 => 'hs256.key', HS512 => 'hs256.key',
    RS256 => 'rsa.pem', RS384 => 'rsa.pem', RS512 => 'rsa.pem',
    PS256 => 'rsa.pem', PS384 => 'rsa.pem', PS512 => 'rsa.pem',
    ES256 => 'ec256.pem', ES384 => 'ec384.pem', ES512 => 'ec521.pem',
);


# token_defaults(OPTION => VALUE, ...): what token() takes for the options
# a call does not give (e.g. kid => "k1" for a file whose key has a kid)

our %TokenDefaults;

sub token_defaults {
    %TokenDefaults = @_;
}


# the default publish claims, changed by %$over (a claim given as undef
# is removed)

sub _claims {
    my ($over, $now) = @_;

    $now = time unless defined $now;

    my %c = (
        scope => 'publish',
        sub   => 'host1',
        pid   => 'person1',
        room  => 'room1',
        op    => 'op1',
        mcn   => 'mcn1',
        tier  => 'basic',
        idv   => 'face',
        iat   => $now,
        exp   => $now + 3600,
    );

    for my $k (keys %{$over || {}}) {
        if (defined $over->{$k}) {
            $c{$k} = $over->{$k};
        } else {
            delete $c{$k};
        }
    }

    return \%c;
}


# claims(CLAIM => VALUE, ...): the default publish claims (as token()
# makes them) with changes, as canonical JSON text

sub claims {
    my (%over) = @_;
    return JSON::PP->new->canonical(1)->encode(_claims(\%over));
}


# token(alg => "HS256", key => FILE, kid => ID, header => {...} or JSON,
#       claims => {...}, raw_claims => JSON, now => EPOCH): a JWT from
# build/compliance-token.  claims are merged into the defaults (a claim
# given as undef is removed); raw_claims is used verbatim instead.  A key
# without a "/" is taken from the key directory; the default key follows
# the algorithm (hs256.key, rsa.pem, ec256.pem, ec384.pem, ec521.pem).

sub token {
    my (%opt) = (%TokenDefaults, @_);

    _init();

    my $alg = defined $opt{alg} ? $opt{alg} : 'HS256';
    my $key = defined $opt{key} ? $opt{key} : $DefaultKey{$alg} || 'hs256.key';
    $key = "$Cfg{keys}/$key" unless $key =~ m{/};

    my $json = JSON::PP->new->canonical(1);
    my $claims = defined $opt{raw_claims}
                 ? $opt{raw_claims}
                 : $json->encode(_claims($opt{claims}, $opt{now}));

    my @args = ('--alg', $alg, '--key', $key);
    push @args, '--kid', $opt{kid} if defined $opt{kid};

    if (defined $opt{header}) {
        push @args, '--header',
             ref $opt{header} ? $json->encode($opt{header}) : $opt{header};
    }

    return sign_token(@args, '--claims', $claims);
}


# sign_token(ARGS...): the token "compliance-token sign ARGS" prints, byte
# for byte (its warnings on stderr are not part of it); dies when it fails

sub sign_token {
    my (@args) = @_;

    _init();

    my @cmd = ($Cfg{token}, 'sign', @args);
    my ($rc, $out, $err) = _run_capture(\@cmd, 30, 1);

    die "@cmd failed ($rc): $err\n" if $rc ne '0';

    $out =~ s/\s+\z//;

    return $out;
}


# hash12(TOKEN): the first 12 hex digits of its SHA-256, as the error log
# names a token; "-" for none

sub hash12 {
    my ($t) = @_;
    return '-' unless defined $t && length $t;
    return substr(Digest::SHA::sha256_hex($t), 0, 12);
}


# hs_secret(NAME): the HMAC secret of key file NAME (hs256.key) of the
# key directory, as the module reads it (without its last line end)

sub hs_secret {
    my ($name) = @_;

    my $key = slurp(keys_dir() . '/' . ($name || 'hs256.key'));
    die "hs_secret(): no key " . ($name || 'hs256.key') . "\n"
        unless defined $key;
    $key =~ s/\r?\n\z//;

    return $key;
}


# room_token(ROOM, CLAIM => VALUE, ...): token() for a publisher of ROOM

sub room_token {
    my ($room, %claims) = @_;
    return token(claims => { room => $room, %claims });
}


# kept_token(OPTIONS): token(OPTIONS), kept for no_token_leak()

my @KeptTokens;

sub kept_token {
    my $t = token(@_);
    push @KeptTokens, $t;
    return $t;
}


# no_token_leak(): a test for each kept token: its first 40 characters
# are not in the block's error log

sub no_token_leak {
    my $log = error_log_text();

    for my $t (@KeptTokens) {
        Test::More::ok(index($log, substr($t, 0, 40)) < 0,
                       'token ' . hash12($t) . ' is not in the error log');
    }
}


# wait_accepted(TOKEN, SECONDS): the error log has the accepted line of a
# publish of live/room1 with the default claims and TOKEN (5 s at most)

sub wait_accepted {
    my ($token, $secs) = @_;

    my $hash = hash12($token);

    return wait_log(qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", host: "host1", person: "person1", .*token: "sha256:$hash"/,
                    $secs || 5);
}


# token_limit(NAME, TRY, LO, HI): the longest token a client gets
# through, bisected on a token's padding between LO (through) and HI (not);
# TRY->(PAD) tries one and returns (through, token length, what was seen
# when not).  Two tests (LO through, HI not); returns ([through length,
# not length], the last refused one's details, [LO, HI] as narrowed), or
# () when the bracket does not hold (t/016, t/017)

sub token_limit {
    my ($name, $try, $lo, $hi) = @_;

    my ($ok, $lo_len) = $try->($lo);
    Test::More::ok($ok, "$name: a token of $lo_len characters is admitted");
    my ($bad, $hi_len, $why) = $try->($hi);
    Test::More::ok(!$bad, "$name: a token of $hi_len characters is not");

    return unless $ok && !$bad;

    while ($hi - $lo > 1) {
        my $mid = int(($lo + $hi) / 2);
        my ($in, $len, $detail) = $try->($mid);

        if ($in) {
            ($lo, $lo_len) = ($mid, $len);
        } else {
            ($hi, $hi_len, $why) = ($mid, $len, $detail);
        }
    }

    return ([$lo_len, $hi_len], $why, [$lo, $hi]);
}


# commas(1288): "1,288", as the docs write numbers

sub commas {
    my ($n) = @_;
    1 while $n =~ s/^(\d+)(\d{3})/$1,$2/;
    return $n;
}


#-----------------------------------------------------------------------------
# http
#-----------------------------------------------------------------------------

# http_request(METHOD, PATH, BODY, \%headers): HTTP/1.0 to the http server;
# returns (status, {lower-case header => value}, body)

sub http_request {
    my ($method, $path, $body, $headers) = @_;

    $body = '' unless defined $body;

    my $req = "$method $path HTTP/1.0\r\nHost: localhost\r\n";

    # a header given as undef is not sent
    for my $h (sort keys %{$headers || {}}) {
        $req .= "$h: $headers->{$h}\r\n" if defined $headers->{$h};
    }

    $req .= "Content-Length: " . length($body) . "\r\n"
        if length $body || $method =~ /^(?:POST|PUT|PATCH)$/;
    $req .= "Connection: close\r\n\r\n$body";

    my ($status, $lines, $rbody) = _http_exchange($req,
                                                  "http_request($method $path)");

    my %h;
    for my $line (@$lines) {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        $k = lc $k;
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }

    return ($status, \%h, $rbody);
}


# REQ verbatim to the http port, the answer read until the server closes
# or 10 s pass (a timeout is told when WHO is given): (status, [header
# lines], body)

sub _http_exchange {
    my ($req, $who) = @_;

    _init();

    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $Cfg{http_port},
        Proto    => 'tcp',
        Timeout  => 10,
    ) or die(($who || 'http_raw()') . ": cannot connect: $!\n");

    binmode $sock;

    {
        local $SIG{PIPE} = 'IGNORE';
        my $off = 0;

        while ($off < length $req) {
            my $n = syswrite($sock, $req, length($req) - $off, $off);
            last unless $n;     # the server may answer and close early
            $off += $n;
        }
    }

    my $resp = '';
    my $deadline = Time::HiRes::time() + 10;

    for (;;) {
        my $left = $deadline - Time::HiRes::time();

        if ($left <= 0) {
            Test::More::diag("$who: timed out") if defined $who;
            last;
        }

        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, $left);

        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $resp .= $buf;
    }

    close $sock;

    my ($head, $rbody) = split /\r\n\r\n/, $resp, 2;
    $head = '' unless defined $head;
    $rbody = '' unless defined $rbody;

    my ($status_line, @lines) = split /\r\n/, $head;
    my ($status) = ($status_line || '') =~ m{^HTTP/\S+\s+(\d+)};

    return ($status, \@lines, $rbody);
}


#-----------------------------------------------------------------------------
# process control and background clients from post_check
#-----------------------------------------------------------------------------

# stop_nginx(): SIGQUIT and wait; true when it stopped within 15 s

sub stop_nginx {
    my ($ok, $why) = _stop_nginx();
    Test::More::diag($why) unless $ok;
    return $ok;
}


# start_nginx(): starts nginx with the block's nginx.conf as it is now;
# true once the master, its workers and the rtmp listener are up

sub start_nginx {
    my $block = $Cur{block} or die "start_nginx() outside of a block\n";

    if ($NginxPid && alive($NginxPid)) {
        Test::More::diag("start_nginx(): nginx $NginxPid is running");
        return 0;
    }

    my ($ok, $out) = _start_nginx($block);
    Test::More::diag($out) unless $ok;
    return $ok;
}


# restart_nginx(%sections): stop_nginx(), then start_nginx(), optionally
# after rewriting nginx.conf with other sections (as reload_nginx)

sub restart_nginx {
    my (%override) = @_;

    my $block = $Cur{block} or die "restart_nginx() outside of a block\n";

    stop_nginx() or return 0;

    _rewrite_conf($block, %override) if %override;

    return start_nginx();
}


# kill_nginx(): a crash: SIGKILL to the master first (so that it does not
# log its workers' deaths), then to its workers; true once all are gone.
# The pid file is left behind, as after a real crash.

sub kill_nginx {
    my $pid = $NginxPid || nginx_pid();

    return 0 unless $pid && alive($pid);

    my @workers = map { $_->{pid} } _workers($pid);

    kill 'KILL', $pid;
    wait_for(sub { !alive($pid) }, 5);

    kill 'KILL', @workers if @workers;

    $NginxPid = undef;

    return wait_for(sub { !grep { alive($_) } $pid, @workers }, 5);
}


# start_client("publish" | "play", "APP/NAME", @args): a background client

sub start_client {
    my ($mode, $target, @args) = @_;

    die "start_client() outside of a block\n" unless $Cur{block};

    my $cmd = [_client_cmd($mode, _subst($target), map { _subst($_) } @args)];
    my $run = _start_client($cmd, 1);

    push @Background, $run;

    return $run;
}


sub client_output {
    my ($run) = @_;

    return defined $run->{stdout} ? $run->{stdout} : _read_file($run->{out});
}


# true once the client exited (it is then reaped: $run->{exit} is set)

sub client_done {
    my ($run) = @_;

    return 1 if defined $run->{exit};

    my $r = waitpid($run->{pid}, POSIX::WNOHANG());

    return 0 if $r == 0;

    if ($r == $run->{pid}) {
        my $status = $?;
        $run->{exit} = $status & 127 ? 'signal ' . ($status & 127)
                                     : $status >> 8;
    } else {
        $run->{exit} = 'lost';
    }

    $run->{stdout} = _read_file($run->{out});
    $run->{stderr} = _read_file($run->{err});

    @Background = grep { $_ != $run } @Background;

    return 1;
}


# wait_client($run, SECS): the exit code, or undef if it still runs

sub wait_client {
    my ($run, $timeout) = @_;

    return wait_for(sub { client_done($run) }, $timeout) ? $run->{exit}
                                                         : undef;
}


# stop_client($run): SIGTERM (the client then exits "signal 15") and reap

sub stop_client {
    my ($run) = @_;

    return $run->{exit} if client_done($run);

    kill 'TERM', $run->{pid};

    return wait_client($run, 5) // do {
        kill 'KILL', $run->{pid};
        wait_client($run, 5);
    };
}


# http_json(METHOD, PATH, DATA, \%headers): (status, JSON or undef, body,
# \%headers); DATA: a ref is encoded as JSON, a string is sent verbatim

sub http_json {
    my ($method, $path, $data, $headers) = @_;

    my $body = ref $data ? JSON::PP->new->canonical(1)->encode($data) : $data;

    # the API takes a body only as application/json, unless the test says
    # otherwise
    if (defined $body && !grep { lc eq 'content-type' } keys %{$headers || {}})
    {
        $headers = { %{$headers || {}}, 'Content-Type' => 'application/json' };
    }

    my ($status, $h, $text) = http_request($method, $path, $body, $headers);

    my $json = eval { JSON::PP->new->allow_nonref(1)->decode($text) };

    return ($status, $json, $text, $h);
}


# http_raw(TEXT): TEXT verbatim to the http port, the answer read until
# the server closes (or 10 s); (status, \%headers, body)

sub http_raw {
    my ($req) = @_;

    my ($status, $lines, $rbody) = _http_exchange($req);

    my %h;
    for my $line (@$lines) {
        my ($k, $v) = $line =~ /^([^:]+):\s*(.*)$/ or next;
        $h{lc $k} = $v;
    }

    if (($h{'transfer-encoding'} || '') =~ /chunked/i) {
        my $plain = '';
        while ($rbody =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $plain .= substr($rbody, 0, $n, '');
            $rbody =~ s/^\r\n//;
        }
        $rbody = $plain;
    }

    return ($status, \%h, $rbody);
}


#-----------------------------------------------------------------------------
# the eval filter evaluates in package main, where the helpers are
#-----------------------------------------------------------------------------

package Test::Compliance::Filter;

our @ISA = ('Test::Base::Filter');

sub eval {
    my $self = shift;
    my ($code) = @_;

    my $block = $self->current_block;
    my @ret = CORE::eval("package main;\n#line 1 \"eval section\"\n$code");

    if ($@) {
        my $name = $block ? $block->name : '?';
        die "eval section of \"$name\" failed: $@";
    }

    return @ret;
}


1;
