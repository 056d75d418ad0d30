# The publish gate with OBS Studio (issue 15): OBS 29 headless (Xvfb,
# software OpenGL) driven through obs-websocket by t/obs/obsws.py.  A
# valid token is admitted (GET sessions, publish.accept, OBS tells
# STARTED); an expired one is refused with the reason in OBS's own log
# and no retry; a suspend order drops it, each of its reconnections is
# refused with "suspended" and it comes back by itself once the order is
# lifted; and the longest token it gets through in its stream key and in
# its server URL is measured (docs/tokens.md, "Client limits").
#
# One OBS serves the whole file (it takes a few seconds to start): a
# private HOME under the servroot (t/obs/obs-home), Xvfb on a display it
# finds free, obs-websocket on a free port (t/obs/run-obs), so that test
# runs can share a machine; each block points it at its stream with
# SetStreamServiceSettings.  OBS, Xvfb and the event listener run in a
# process group of their own, killed when the file ends, dies or fails.
#
# Without obs, Xvfb or python3, or when OBS does not start (no OpenGL),
# the file says why and skips, unless OBS_REQUIRED=1 (.ci/run): then it
# fails.  Debian packages: obs-studio, xvfb, python3.

use strict;
use warnings;

use lib 't/lib';

use File::Path ();
use IO::Socket::INET ();
use JSON::PP ();
use Time::HiRes ();
use Test::Compliance;

our %OBS;

my $Tools = repo_root() . '/t/obs';
my $Json = JSON::PP->new->canonical(1);


sub server_url {
    return 'rtmp://127.0.0.1:' . rtmp_port() . '/live';
}


#-----------------------------------------------------------------------------
# OBS: start, control, events, log
#-----------------------------------------------------------------------------

# obs_request(TYPE, DATA): one obs-websocket request; (ok, responseData,
# requestStatus or the client's error)

sub obs_request {
    my ($type, $data) = @_;

    my @cmd = ("$Tools/obsws.py", '--port', $OBS{port}, 'request', $type,
               defined $data ? $Json->encode($data) : ());
    my ($rc, $out, $err) = Test::Compliance::_run_capture(\@cmd, 20, 1);
    my $r = eval { $Json->decode($out) };

    return ($rc eq '0', $r ? ($r->{responseData}, $r->{requestStatus})
                           : (undef, "obsws.py: $rc $err"));
}


sub obs_request_ok {
    my ($type, $data) = @_;

    my ($ok, undef, $status) = obs_request($type, $data);
    die "$type failed: " . (ref $status ? $Json->encode($status) : $status)
        . "\n" unless $ok;
}


# the events OBS sent since MARK: [{eventType, eventData, time}]

sub obs_events {
    my ($mark) = @_;

    my @events;

    for my $line (split /\n/, slurp($OBS{events}) // '') {
        my $e = eval { $Json->decode($line) } or next;
        push @events, $e if !$mark || $e->{time} >= $mark->{time};
    }

    return @events;
}


# the stream states OBS told since MARK, in order: ([STATE, time], ...),
# STATE being STARTING, STARTED, RECONNECTING, RECONNECTED, STOPPING or
# STOPPED

sub obs_state_events {
    my ($mark) = @_;

    return map {
        (my $state = $_->{eventData}{outputState} // '') =~
            s/^OBS_WEBSOCKET_OUTPUT_//;
        [$state, $_->{time}];
    } grep { $_->{eventType} eq 'StreamStateChanged' } obs_events($mark);
}


sub obs_states {
    return map { $_->[0] } obs_state_events(@_);
}


# obs_wait_state(MARK, [STATES], SECS): the first of STATES OBS tells
# after MARK and when it was received, or () at the deadline

sub obs_wait_state {
    my ($mark, $states, $secs) = @_;

    my %want = map { $_ => 1 } @$states;
    my $hit;

    wait_for(sub {
        ($hit) = grep { $want{$_->[0]} } obs_state_events($mark);
        return $hit;
    }, $secs);

    return $hit ? @$hit : ();
}


sub obs_log_file {
    my @logs = sort glob("$OBS{home}/.config/obs-studio/logs/*.txt");
    return $logs[-1];
}


# OBS's log (since MARK)

sub obs_log {
    my ($mark) = @_;

    my $file = obs_log_file();
    return '' unless $file;
    return slurp($file, $mark ? $mark->{log} : 0) // '';
}


# obs_wait_log(MARK, qr//, SECS): OBS's log since MARK matches (OBS writes
# it a little after it tells the event); the first group, or undef

sub obs_wait_log {
    my ($mark, $re, $secs) = @_;

    my $hit;

    wait_for(sub { ($hit) = obs_log($mark) =~ $re; defined $hit }, $secs);

    return $hit;
}


# obs_mark(): now, for the events and the OBS log that come after it

sub obs_mark {
    my $file = obs_log_file();
    return { time => Time::HiRes::time(), log => $file ? -s $file : 0 };
}


# obs_publish(KEY, SERVER): OBS streams to SERVER (the live application)
# with stream key KEY; returns the mark taken before

sub obs_publish {
    my ($key, $server) = @_;

    my $mark = obs_mark();

    obs_request_ok('SetStreamServiceSettings', {
        streamServiceType     => 'rtmp_custom',
        streamServiceSettings => {
            server   => $server // server_url(),
            key      => $key,
            use_auth => JSON::PP::false,
        },
    });
    obs_request_ok('StartStream');

    return $mark;
}


# obs_stop(): OBS not streaming (nor reconnecting); true once it is

sub obs_stop {
    my $mark = obs_mark();
    my ($stopping) = obs_request('StopStream');

    return scalar obs_wait_state($mark, ['STOPPED'], 10) if $stopping;

    # refused: not streaming, unless it is between two reconnections
    my ($ok, $s) = obs_request('GetStreamStatus');

    return $ok && !$s->{outputActive} && !$s->{outputReconnecting};
}


sub obs_version {
    return $OBS{version};
}


sub ws_open {
    my ($port) = @_;
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Proto => 'tcp') ? 1 : 0;
}


# obs_start(): OBS running and its events listened to; undef, or why not

sub obs_start {
    for my $bin (qw(obs Xvfb python3)) {
        return "no $bin (install obs-studio xvfb python3)"
            unless `command -v $bin 2>/dev/null`;
    }

    my $home = servroot() . '/obs';
    my $port = free_port();
    my ($rc, $out) = Test::Compliance::_run_capture(
        ["$Tools/obs-home", $home, '--ws-port', $port,
         '--server', server_url()], 30);

    return "t/obs/obs-home failed ($rc): $out" if $rc ne '0';

    %OBS = (home => $home, port => $port, events => "$home/events.jsonl");
    $OBS{pid} = Test::Compliance::_spawn(["$Tools/run-obs", $home],
                                         "$home/run-obs.log", undef, 0);

    unless (wait_for(sub { !alive($OBS{pid}) || ws_open($port) }, 60)
            && alive($OBS{pid}))
    {
        my $how = alive($OBS{pid})
                  ? "no obs-websocket on port $port within 60 s"
                  : 'run-obs exited: ' . Test::Compliance::_reap($OBS{pid}, 5);
        my @out = split /\n/, slurp("$home/run-obs.log") // '';
        my @log = grep { /error|fail|unable|cannot|GL/i }
                  split /\n/, obs_log();
        return "OBS Studio did not start ($how): "
               . join '; ', grep { /\S/ } @out > 10 ? @out[-10 .. -1] : @out,
                                         @log > 10 ? @log[0 .. 9] : @log;
    }

    my ($ok, $v) = obs_request('GetVersion');
    return 'obs-websocket does not answer GetVersion' unless $ok;
    $OBS{version} = "OBS $v->{obsVersion}, obs-websocket "
                    . "$v->{obsWebSocketVersion}";

    # the event listener, in OBS's process group
    $OBS{listener} = Test::Compliance::_spawn(
        ["$Tools/obsws.py", '--port', $port, 'events', $OBS{events}],
        "$home/events.log", undef, $OBS{pid});

    return 'the obs-websocket event listener did not identify'
        unless wait_for(sub { obs_events() }, 10);

    return undef;
}


# OBS, Xvfb and the listener stopped (their process group)

sub obs_kill {
    my $pid = delete $OBS{pid} or return;

    kill 'TERM', -$pid;
    Test::Compliance::_reap($pid, 5);
    Test::Compliance::_reap(delete $OBS{listener}, 5) if $OBS{listener};
    kill 'KILL', -$pid unless wait_for(sub { !kill 0, -$pid }, 5);
}


END {
    local $?;
    obs_kill();

    # OBS may have written into a servroot the harness has removed
    my $root = servroot();
    File::Path::rmtree($root) if -d $root && !-e "$root/conf";
}


if (my $why = obs_start()) {
    obs_kill();
    require Test::More;

    if ($ENV{OBS_REQUIRED}) {
        Test::More::plan(tests => 1);
        Test::More::fail('OBS Studio runs headless (OBS_REQUIRED is set)');
        Test::More::diag("$why\n(servroot kept: " . servroot() . ')');
        exit 1;
    }

    File::Path::rmtree(servroot());
    Test::More::plan(skip_all => $why);
}


#-----------------------------------------------------------------------------
# the audit log
#-----------------------------------------------------------------------------

block_defaults(
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);


sub audit_conf {
    my ($dir) = @_;
    return zone_conf() . "compliance_audit_log \$TEST_NGINX_SERVROOT/$dir;\n";
}


# the records of audit log DIR whose fields are the given ones

sub audit {
    my ($dir, %want) = @_;

    return grep {
        my $r = $_;
        !grep { ($r->{$_} // '') ne $want{$_} } keys %want
    } map { eval { $Json->decode($_) } || () }
      map { split /\n/, slurp($_) // '' }
      glob(servroot() . "/$dir/audit-*.jsonl");
}


#-----------------------------------------------------------------------------
# the longest token OBS gets through
#-----------------------------------------------------------------------------

# obs_try(ROUTE, PAD): OBS publishing a token with a padding claim of PAD
# characters in its stream key (ROUTE "key": server rtmp://HOST/live, key
# room1?token=T) or in its server URL ("url": server
# rtmp://HOST/live?token=T, key room1); (admitted, token length, what
# nginx and OBS showed when it was not)

sub obs_try {
    my ($route, $pad) = @_;

    my $t = kept_token(claims => { pad => 'p' x $pad });
    my $from = length error_log_text();
    my $mark = $route eq 'key'
               ? obs_publish("room1?token=$t")
               : obs_publish('room1', server_url() . "?token=$t");
    my ($state) = obs_wait_state($mark, [qw(STARTED STOPPED)], 15);

    $state //= 'no STARTED or STOPPED within 15 s';

    # STOPPED: nothing to stop
    obs_stop() or die "OBS does not stop\n" if $state ne 'STOPPED';

    return (1, length $t, '') if $state eq 'STARTED' && wait_accepted($t);

    my $fails = join '|', map { quotemeta }
                'RTMP_Connect1, RTMP connect failed',
                'RTMPSockBuf_Fill, remote host closed';
    my $fail = obs_wait_log($mark, qr/($fails)/, 5);
    my $log = substr(error_log_text(), $from);
    my @seen = grep { $log =~ /: \*\d+ (?:compliance: .*\()?\Q$_\E\b/ }
               qw(connect createStream publish admission_timeout);

    return (0, length $t, "OBS: $state, " . ($fail // '?')
                          . "; nginx: @seen");
}


run_tests();

__DATA__

=== TEST 1: OBS publishes with a valid token: admitted, listed, audited
--- rtmp_config eval: audit_conf('audit1')
--- post_check eval
sub {
    Test::More::note(obs_version());
    my $t = kept_token(claims => { jti => 'obs-1' });
    my $m = obs_publish("room1?token=$t");
    my ($state) = obs_wait_state($m, [qw(STARTED STOPPED)], 15);
    is($state, 'STARTED', 'OBS tells StreamStateChanged STARTED')
        or diag(obs_log($m));
    ok(wait_for(sub { find_sessions(kind => 'publish', room => 'room1',
                                    host => 'host1', jti => 'obs-1') }, 5),
       'GET sessions lists the OBS publisher');
    ok(wait_accepted($t), 'the accepted log line');
    my $acc;
    ok(wait_for(sub {
        ($acc) = audit('audit1', event => 'publish.accept', jti => 'obs-1',
                       room => 'room1', host => 'host1');
    }, 5), 'the audit log has the publish.accept');
    ok(obs_stop(), 'OBS stops streaming');
    ok(wait_for(sub { audit('audit1', event => 'session.end',
                            session => $acc->{session} // -1) }, 5),
       'the audit log has the session\'s end');
    like(join(' ', obs_states($m)),
         qr/^STARTING STARTED (?:STOPPING STOPPED|STOPPED STOPPING)$/,
         'OBS went STARTING, STARTED, then STOPPING and STOPPED');
    no_token_leak();
}
--- no_error_log
[error]



=== TEST 2: an expired token: refused, the reason in OBS's log, no retry
--- rtmp_config eval: audit_conf('audit2')
--- post_check eval
sub {
    my $t = kept_token(claims => { iat => time - 7200, exp => time - 3600,
                                   jti => 'obs-2' });
    my $m = obs_publish("room1?token=$t");
    my ($state) = obs_wait_state($m, [qw(STARTED STOPPED)], 15);
    is($state, 'STOPPED', 'OBS stops (StreamStateChanged STOPPED)');
    ok(obs_wait_log($m, qr/(NetStream\.Publish\.Rejected \(token_expired: token expired 36\d\d s ago\))/, 5),
       'OBS\'s log has NetStream.Publish.Rejected (token_expired: ...)')
        or diag(obs_log($m));
    my $hash = hash12($t);
    ok(wait_for(sub {
        error_log_text() =~ /\[error\] .*compliance: publish rejected: token_expired: token expired 36\d\d s ago, app: "live", room: "room1", .*jti: "obs-2", .*token: "sha256:$hash"/
    }, 5), 'the rejected log line');
    ok(wait_for(sub { audit('audit2', event => 'publish.reject',
                            reason => 'token_expired', jti => 'obs-2') }, 5),
       'the audit log has the publish.reject with reason token_expired');
    is(scalar(() = error_log_text() =~ /publish rejected/g), 1,
       'one publish, refused once');
    unlike(join(' ', obs_states($m)), qr/STARTED|RECONNECTING/,
           'OBS neither went live nor tried again');
    is(scalar find_sessions(jti => 'obs-2'), 0, 'no session');
    no_token_leak();
}



=== TEST 3: a suspend order drops OBS, its retries are refused, it comes back once the order is lifted
--- rtmp_config eval: audit_conf('audit3')
--- post_check eval
sub {
    my $t = kept_token(claims => { jti => 'obs-3' });
    my $m = obs_publish("room1?token=$t");
    my ($state) = obs_wait_state($m, [qw(STARTED STOPPED)], 15);
    is($state, 'STARTED', 'OBS is live');
    ok(wait_for(sub { find_sessions(jti => 'obs-3') }, 5), 'listed');

    my $drop = obs_mark();
    my $o = order(target => 'person:person1', action => 'suspend',
                  duration => 600, reason => 'misleading price claims',
                  ref => 'obs-case');
    my (undef, $at) = obs_wait_state($drop, ['RECONNECTING'], 10);
    ok($at, 'OBS goes RECONNECTING');
    cmp_ok(($at // 99) - $drop->{time}, '<', 3,
           'within 3 s of the order');
    Test::More::note(sprintf 'RECONNECTING %.3f s after POST orders',
                             ($at // 0) - $drop->{time});
    ok(wait_log(qr/compliance: session \d+ dropped: suspended, room: "room1", order $o->{id}: misleading price claims \(ref obs-case\)/, 5),
       'the drop is logged');

    my $why = qr/suspended: suspended until \d+, order $o->{id}: misleading price claims \(ref obs-case\)/;
    ok(wait_for(sub { (() = obs_log($drop) =~
                       /NetStream\.Publish\.Rejected \($why\)/g) >= 2 }, 15),
       'OBS\'s log: two reconnections refused with NetStream.Publish.Rejected (suspended: ...)')
        or diag(obs_log($drop));
    my @log = error_log_text() =~ /\[error\] .*compliance: publish rejected: $why, app: "live", room: "room1", .*jti: "obs-3"/g;
    cmp_ok(scalar @log, '>=', 2, 'nginx logs each refusal with suspended');
    cmp_ok(scalar(audit('audit3', event => 'publish.reject',
                        reason => 'suspended', jti => 'obs-3')), '>=', 2,
           'the audit log has a publish.reject with reason suspended for each');
    is(scalar find_sessions(jti => 'obs-3'), 0, 'no session while suspended');
    unlike(join(' ', obs_states($drop)), qr/STOPPED|RECONNECTED/,
           'OBS keeps trying');

    my $lift = obs_mark();
    my ($st) = api('DELETE', "orders/$o->{id}");
    is($st, 204, 'the order is lifted');
    ok(obs_wait_state($lift, ['RECONNECTED'], 20),
       'OBS comes back by itself: RECONNECTED');
    ok(wait_for(sub { find_sessions(jti => 'obs-3') }, 5), 'listed again');
    is(scalar(() = error_log_text() =~ /publish accepted, .*jti: "obs-3"/g),
       2, 'admitted twice');
    ok(obs_stop(), 'OBS stops streaming');
    no_token_leak();
}



=== TEST 4: the longest token OBS gets through, in its stream key and in its server URL
--- rtmp_config eval
zone_conf() . 'compliance_admission_timeout '
            . 500 * $Test::Compliance::Slow . "ms;\n"
--- post_check eval
sub {
    # HS256 with the default claims and a padding claim: 490 characters
    # of it make a token of 947 characters, 520 one of 987; 730 make
    # 1,267, 760 make 1,307 (a bracket of 30: 5 steps)
    my ($key, $kwhy) = token_limit('key', sub { obs_try('key', @_) },
        490, 520);
    my ($url, $uwhy) = token_limit('url', sub { obs_try('url', @_) },
        730, 760);
    return unless $key && $url;

    Test::More::note(obs_version() . ": stream key: $key->[0] admitted,"
                     . " $key->[1] not; server URL: $url->[0] admitted,"
                     . " $url->[1] not ($uwhy)");
    cmp_ok($key->[0], '>=', 900, 'the stream key takes 900 characters');
    my $doc = slurp(repo_root() . '/docs/tokens.md') // '';
    for my $l ([key => $key], ['server URL' => $url]) {
        my ($in, $out) = map { commas($_) } @{$l->[1]};
        like($doc, qr/\| OBS Studio [^|]*\| [^|]*\Q$l->[0]\E[^|]*\| \Q$in admitted, $out not\E/,
             "docs/tokens.md has the $l->[0] limit measured here");
    }
    cmp_ok($url->[0], '>', $key->[0], 'the server URL takes more');
    like($kwhy, qr/RTMPSockBuf_Fill, remote host closed; nginx: connect createStream admission_timeout$/,
         'a longer key never reaches publish: the admission deadline closes it')
        or diag($kwhy);
    like($uwhy, qr/RTMP_Connect1, RTMP connect failed; nginx: $/,
         'a longer server URL: OBS fails to send its connect');
    like(obs_log(), qr/Connecting to RTMP URL \Q${\ server_url()}\E\?token=eyJ/,
         'OBS writes a token in its server URL into its own log');
    no_token_leak();
}
--- no_error_log
[error]
