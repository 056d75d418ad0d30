# Players on librtmp (issue 15): Debian's rtmpdump 2.4 (librtmp1) playing
# a live room whose tier has viewer_token=on.  A play token is admitted
# (play.accept, GET sessions, media in its file); without one, or with an
# expired one, the play is refused and rtmpdump -V prints the onStatus
# with the reason; the longest token it gets through in the stream name,
# in the connect URL and in the app alone (-a, with a plain -t) is
# bisected and checked against docs/tokens.md ("Client limits"); the app
# route, the longest, carries a token of 3,000 characters.
#
# The publisher is build/rtmp-client.  Debian package: rtmpdump.

use strict;
use warnings;

use lib 't/lib';

use JSON::PP ();
use Test::Compliance;
use Test::Players;

BEGIN {
    unless (`command -v rtmpdump 2>/dev/null`) {
        require Test::More;
        Test::More::plan(skip_all => 'no rtmpdump (install rtmpdump)');
    }
}

block_defaults(
    config             => tiers('basic', 'vip viewer_token=on') . live_app(),
    http_server_config => api_location(),
);

# the publisher of the block, stopped by done() (or it would run to its
# end before the next block)
my @Publishers;

add_block_preprocessor(\&audit_conf);

my $Runs = 0;


sub base_url {
    return 'rtmp://127.0.0.1:' . rtmp_port() . '/live';
}


# a live vip room1 (build/rtmp-client publishing)

sub live_room {
    my $pub = publisher('room1', tier => 'vip', duration => 20000);
    push @Publishers, $pub;
    return wait_output($pub, 'NetStream.Publish.Start');
}


# the end of a block: no token in its log, its publisher stopped

sub done {
    no_token_leak();
    stop_client($_) for splice @Publishers;
}


# ptok(CLAIM => VALUE, ...): a play token for room1 (kept for
# no_token_leak())

sub ptok {
    my (%claims) = @_;

    my %c = (scope => 'play', room => 'room1', sub => 'v1',
             exp => time + 3600, %claims);

    return kept_token(raw_claims => JSON::PP->new->canonical->encode(\%c));
}


# rtmpdump's arguments for token T by ROUTE: "name" (the URL's stream
# name), "playpath" (-y), "connect" (the connect URL: librtmp sends it as
# both app and tcUrl), "app" (-a, with a tcUrl without the token)

sub route_args {
    my ($route, $t) = @_;

    my $u = base_url();

    return $route eq 'name'     ? ('-r', "$u/room1?token=$t")
         : $route eq 'playpath' ? ('-r', $u, '-y', "room1?token=$t")
         : $route eq 'connect'  ? ('-r', "$u?token=$t/room1")
         : $route eq 'app'      ? ('-r', "$u/room1", '-a', "live?token=$t",
                                   '-t', $u)
         : die "route $route\n";
}


# rd_start(ARGS): rtmpdump -V playing live into a file of the servroot;
# {pid, out (its output), flv}

sub rd_start {
    my (@args) = @_;

    my $base = servroot() . '/tmp/rtmpdump.' . ++$Runs;
    my $run = { out => "$base.out", flv => "$base.flv" };

    $run->{pid} = Test::Compliance::_spawn(
        ['rtmpdump', '-V', '--live', '-m', 10, '-o', $run->{flv}, @args],
        $run->{out});

    return $run;
}


sub rd_output {
    my ($run) = @_;
    return slurp($run->{out}) // '';
}


# rd_stop(RUN): rtmpdump stopped (SIGTERM) if it still runs; (exit code,
# output)

sub rd_stop {
    my ($run) = @_;

    kill 'TERM', $run->{pid} if alive($run->{pid});

    return (Test::Compliance::_reap($run->{pid}, 5), rd_output($run));
}


# rd_wait(RUN, SECS): (exit code or "timeout", output)

sub rd_wait {
    my ($run, $secs) = @_;
    return (Test::Compliance::_reap($run->{pid}, $secs), rd_output($run));
}


# the block's play.accept of token T

sub play_accepted {
    my ($t) = @_;

    my $hash = 'sha256:' . hash12($t);

    return grep { ($_->{token} // '') eq $hash } records('play.accept');
}


# the reason rtmpdump -V shows: the description of its onStatus
# NetStream.Play.Rejected

sub shown_reason {
    my ($out) = @_;

    my $on = qr/^DEBUG: HandleInvoke, onStatus: NetStream\.Play\.Rejected$/m;
    my ($before) = $out =~ /\A(.*?)$on/s or return;
    my ($d) = $before =~
        /.*Property: <Name: +description, STRING:\t([^\n]*)>$/ms;

    return $d;
}


#-----------------------------------------------------------------------------
# the longest token rtmpdump gets through
#-----------------------------------------------------------------------------

# rd_try(ROUTE, PAD): rtmpdump playing with a token of a padding claim of
# PAD characters by ROUTE; (admitted, token length, what rtmpdump and
# nginx showed when it was not)

sub rd_try {
    my ($route, $pad) = @_;

    my $t = ptok(pad => 'p' x $pad);
    my $from = length error_log_text();
    my $run = rd_start(route_args($route, $t));

    wait_for(sub { play_accepted($t) || !alive($run->{pid}) }, 5);

    my $in = play_accepted($t);
    my (undef, $out) = rd_stop($run);

    return (1, length $t, '') if $in;

    my ($err) = $out =~ /^ERROR: (RTMP_Connect1, RTMP connect failed)/m;
    $err //= 'no play sent' if $out =~ /sending play: /
                               && $out !~ /Invoking play/;
    my $log = substr(error_log_text(), $from);
    my @seen = grep { $log =~ /: \*\d+ (?:compliance: .*\()?\Q$_\E\b/ }
               qw(connect createStream play admission_timeout);

    return (0, length $t, 'rtmpdump: ' . ($err // '?') . "; nginx: @seen");
}


run_tests();

__DATA__

=== TEST 1: rtmpdump plays with a play token: admitted, listed, audited
--- post_check eval
sub {
    ok(live_room(), 'the vip room is live');
    my $t = ptok(jti => 'rd-1');
    my $run = rd_start(route_args('name', $t));
    ok(wait_for(sub { find_sessions(kind => 'play', room => 'room1',
                                    jti => 'rd-1') }, 5),
       'GET sessions lists the rtmpdump player');
    my ($acc) = play_accepted($t);
    ok(wait_for(sub { ($acc) = play_accepted($t) }, 5),
       'the audit log has the play.accept with its token\'s hash');
    is($acc->{jti}, 'rd-1', 'play.accept: jti');
    is($acc->{host}, 'v1', 'play.accept: host is the viewer\'s sub');
    is($acc->{tier}, 'vip', 'play.accept: tier');
    ok(wait_for(sub { (-s $run->{flv} // 0) > 1000 }, 5),
       'rtmpdump writes the stream into its file');
    my ($rc, $out) = rd_stop($run);
    like($out, qr/onStatus: NetStream\.Play\.Start/, 'rtmpdump got Play.Start');
    like($out, qr/^Starting Live Stream$/m, 'and says so');
    ok(wait_for(sub { grep { ($_->{session} // -1) eq $acc->{session}
                             && $_->{kind} eq 'play' }
                      records('session.end') }, 5),
       'the audit log has the player\'s session.end');
    done();
}
--- no_error_log
[error]



=== TEST 2: without a play token, or with an expired one: refused, the reason in rtmpdump -V's output, the log and the audit log
--- post_check eval
sub {
    ok(live_room(), 'the vip room is live');

    my ($rc, $out) = rd_wait(rd_start('-r', base_url() . '/room1'), 10);
    is($rc, 1, 'rtmpdump without a token exits 1') or diag($out);
    is(shown_reason($out),
       'viewer_token_required: tier "vip" of the room needs a play token',
       'rtmpdump -V shows NetStream.Play.Rejected with the reason')
        or diag($out);
    unlike($out, qr/Starting Live Stream/, 'never started');
    ok(wait_log(qr/\[info\] .*compliance: play rejected: viewer_token_required: tier "vip" of the room needs a play token, app: "live", room: "room1"/),
       'the refusal is logged at [info]');
    ok(wait_for(sub { grep { $_->{reason} eq 'viewer_token_required' }
                      records('play.reject') }, 5),
       'the audit log has the play.reject with viewer_token_required');

    my $now = time;
    my $t = ptok(iat => $now - 600, exp => $now - 300, jti => 'rd-2');
    ($rc, $out) = rd_wait(rd_start(route_args('playpath', $t)), 10);
    is($rc, 1, 'rtmpdump with an expired token exits 1') or diag($out);
    like(shown_reason($out) // '',
         qr/^token_expired: token expired 3\d\d s ago$/,
         'rtmpdump -V shows the reason token_expired') or diag($out);
    my $hash = hash12($t);
    ok(wait_log(qr/\[error\] .*compliance: play rejected: token_expired: token expired 3\d\d s ago, app: "live", room: "room1", .*jti: "rd-2", .*token: "sha256:$hash"/),
       'the refusal is logged at [error] with the token\'s hash');
    ok(wait_for(sub { grep { $_->{reason} eq 'token_expired'
                             && $_->{jti} eq 'rd-2' }
                      records('play.reject') }, 5),
       'the audit log has the play.reject with token_expired');
    is(scalar find_sessions(kind => 'play'), 0, 'no player is listed');
    is(scalar records('play.accept'), 0, 'no play.accept');
    done();
}



=== TEST 3: the longest token rtmpdump gets through, by each route
--- rtmp_config eval
zone_conf() . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit3;\n"
. 'compliance_admission_timeout ' . 1000 * $Test::Compliance::Slow . "ms;\n"
--- post_check eval
sub {
    ok(live_room(), 'the vip room is live');

    # a play token with a padding claim of N characters is 172 + 4N/3
    # long: brackets of 64 or 128 (6 or 7 steps) around librtmp's limits
    my %l;
    for my $r ([playpath => 576, 640], [connect => 1312, 1440],
               [app => 2752, 2816])
    {
        my ($route, @bracket) = @$r;
        @{$l{$route}} = token_limit($route, sub { rd_try($route, @_) },
                                    @bracket);
    }
    return done() if grep { !$_->[0] } values %l;

    my ($pl, $cl, $al) = map { $l{$_}[0] } qw(playpath connect app);
    Test::More::note("rtmpdump 2.4: stream name $pl->[0] admitted,"
                     . " $pl->[1] not ($l{playpath}[1]); connect URL"
                     . " $cl->[0] admitted, $cl->[1] not ($l{connect}[1]);"
                     . " app $al->[0] admitted, $al->[1] not"
                     . " ($l{app}[1])");

    # the stream name in the URL is the same play command as -y
    my ($pad_in, $pad_out) = @{$l{playpath}[2]};
    ok((rd_try('name', $pad_in))[0],
       "name: the URL's stream name takes the -y limit ($pl->[0])");
    ok(!(rd_try('name', $pad_out))[0],
       "name: and not one more step ($pl->[1])");

    my $failed = qr/^rtmpdump: RTMP_Connect1, RTMP connect failed; nginx: $/;
    like($l{playpath}[1],
         qr/^rtmpdump: no play sent; nginx: connect createStream admission_timeout$/,
         'a longer stream name: librtmp never sends its play, the '
         . 'admission deadline closes it');
    like($l{connect}[1], $failed,
         'a longer connect URL: librtmp fails to send its connect');
    like($l{app}[1], $failed, 'a longer app: the same');
    cmp_ok($cl->[0], '>', $pl->[0], 'the connect URL takes more');
    cmp_ok($al->[0], '>', $cl->[0], 'the app alone takes the most');

    my $doc = slurp(repo_root() . '/docs/tokens.md') // '';
    my ($v) = `rtmpdump --help 2>&1` =~ /^RTMPDump v(\S+)$/m;
    like($doc, qr/^\| rtmpdump \Q${\ ($v \/\/ '?')}\E /m,
         "docs/tokens.md's rows are of this rtmpdump (v" . ($v // '?') . ')');
    for my $r (['stream name' => $pl], ['connect URL' => $cl],
               ['app alone' => $al])
    {
        my ($in, $out) = map { commas($_) } @{$r->[1]};
        like($doc, qr/\| rtmpdump [^|]*\| [^|]*\Q$r->[0]\E[^|]*\| \Q$in admitted, $out not\E/,
             "docs/tokens.md has the $r->[0] limit measured here");
    }
    done();
}
--- no_error_log
[error]



=== TEST 4: past the stream name's and the connect URL's limits: a 3,000-character token in the app alone, admitted and redacted
--- post_check eval
sub {
    ok(live_room(), 'the vip room is live');
    my $t = ptok(jti => 'rd-4', pad => 'p' x 2120);
    cmp_ok(length $t, '>=', 2990, 'a token of ' . length($t) . ' characters');
    my $run = rd_start(route_args('app', $t));
    ok(wait_for(sub { find_sessions(kind => 'play', jti => 'rd-4') }, 5),
       'GET sessions lists the player');
    ok(wait_for(sub { play_accepted($t) }, 5), 'the play.accept');
    ok(wait_for(sub { (-s $run->{flv} // 0) > 1000 }, 5), 'it gets media');
    my ($rc, $out) = rd_stop($run);
    like($out, qr/DEBUG: tcUrl +: \Q${\ base_url()}\E\n/,
         'its tcUrl has no token');
    like(error_log_text(), qr/connect: app='live' args='token=x{240,}' [^\n]*tc_url='\Q${\ base_url()}\E'/,
         'nginx-rtmp\'s connect line (255 bytes of the app) shows the '
         . 'token overwritten, the tcUrl without it');
    done();
}
--- no_error_log
[error]
