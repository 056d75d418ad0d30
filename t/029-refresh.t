# Identity over the whole session, on 2 workers: a publisher's token
# refreshed through the API (POST sessions/ID/token) keeps it live past
# its old exp under compliance_session_expiry, whichever worker serves
# the request; a token of another person or room is refused (409
# person_mismatch, room_mismatch) and one that fails verification with
# its reason (422), the session unchanged.  A reverify order (within: 2)
# drops every publisher it hits that is not refreshed in time with a
# token issued since (reverify_timeout), refuses their old tokens while
# it is in force (reverify_required) and lets refreshed ones go on; one
# read from the fleet's stream does the same (redis-server on a free
# port; that block is skipped without it).

use lib 't/lib';

use Test::Compliance;
use Time::HiRes ();

block_defaults(
    workers            => 2,
    rtmp_config        => zone_conf(),
    http_server_config => actor_location(),
);


sub app {
    return tiers('basic')
           . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key',
                      'compliance_recheck 200ms', 'compliance_leeway 0s',
                      @_);
}


sub actor_location {
    return "location $Test::Compliance::ApiPrefix {\n    compliance_api;\n"
           . "    compliance_api_actor \$http_x_moderator;\n"
           . "    allow 127.0.0.1;\n    deny all;\n}\n";
}


# the moderator's header

sub mod {
    return { 'X-Moderator' => 'mod-1' };
}


# POST sessions/ID/token as moderator mod-1: (status, JSON, body)

sub refresh {
    my ($id, $token, $headers) = @_;
    return api('POST', "sessions/$id/token", { token => $token },
               $headers || mod());
}


# the pid of the worker whose last line matches "compliance: TEXT"

sub worker_of {
    my ($text) = @_;
    my @pids = error_log_text() =~ /\] (\d+)#\d+: \*\d+ compliance: $text/g;
    return $pids[-1];
}


# a publisher of ROOM (person pROOM, jti jROOM) whose token was issued
# 30 s ago, live: (its run, its iat)

sub old_publisher {
    my ($room) = @_;
    my $old = time - 30;
    my $run = publisher($room, pid => "p$room", jti => "j$room", iat => $old,
                        duration => 20000);
    ok(wait_for(sub { find_sessions(room => $room) }, 10), "$room live");
    return ($run, $old);
}


# a redis-server of this file, for TEST 4 (none: that block checks
# nothing but says so)

our $Redis = defined redis_server();
$ENV{TEST_NGINX_REDIS_PORT} = redis_server() // 0;


run_tests();

__DATA__

=== TEST 1: a refresh keeps sessions alive past their old exp (compliance_session_expiry on), on either worker; session.refresh has old and new jti and by
--- rtmp_config eval
zone_conf() . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit1;\n"
--- config eval: app('compliance_session_expiry on')
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/audit1";
    my $exp = time + 5;
    my %run = map { ("r$_" => publisher("r$_", pid => "p$_", jti => "old$_",
                                        exp => $exp, duration => 20000)) }
              1 .. 4;

    ok(wait_for(sub { find_sessions(kind => 'publish') == 4 }, 10),
       'four live publishers');
    my %s = map { $_->{room} => $_ } find_sessions(kind => 'publish');
    is($s{r1}{exp}, $exp, 'GET sessions shows the token\'s exp');

    my ($st, $j) = refresh($s{r1}{id}, room_token('r1', pid => 'p1'), {});
    is($st, 403, 'no moderator: 403');
    is($j->{error}, 'actor_required', 'actor_required');

    # each session refreshed, again until one was served by another
    # worker than the session's
    my ($cross, $new_exp) = (undef, time + 120);

    for my $round (1 .. 5) {
        for my $i (1 .. 4) {
            my $s = $s{"r$i"};
            my $jti = "new$i-$round";
            my ($st, $j, $body) = refresh($s->{id},
                room_token("r$i", pid => "p$i", jti => $jti, sub => "h$i-b",
                           idv => 'face2', exp => $new_exp));
            is($st, 200, "r$i refreshed ($round)") or diag($body);
            is_deeply([ @$j{qw(id jti exp host idv person room)} ],
                      [ $s->{id}, $jti, $new_exp, "h$i-b", 'face2', "p$i",
                        "r$i" ],
                      "r$i: the session now has the new token's claims");
            my $w = worker_of("session $s->{id} refreshed through the API, "
                              . "the token's exp is now $new_exp");
            $cross = "session $s->{id} of worker $s->{worker} refreshed "
                     . "by worker $w"
                if $w && $w != $s->{worker};
        }
        last if $cross;
    }

    ok($cross, 'a refresh was served by another worker than the '
               . 'session\'s');
    Test::More::note($cross) if $cross;

    ok(wait_log(qr/session $s{r1}{id} took up its refreshed token, exp $new_exp/),
       'the owning worker takes the token up');

    ok(wait_for(sub { time >= $exp + 2 }, 10), 'two seconds past the old exp');
    ok(!grep({ client_done($run{$_}) } keys %run), 'no publisher was dropped');
    is(scalar(find_sessions(kind => 'publish')), 4, 'all four still live');
    my ($one) = find_sessions(room => 'r2');
    is($one->{exp}, $new_exp, 'GET sessions: the new exp');

    my $r = audit_event($dir, 'session.refresh',
                        sub { $_[0]{session} == $s{r1}{id} });
    ok($r, 'session.refresh in the audit log');
    is_deeply([ @$r{qw(old_jti jti exp by person room)} ],
              [ 'old1', 'new1-1', $new_exp, 'mod-1', 'p1', 'r1' ],
              'session.refresh: old and new jti, exp, by, the subjects');
    like($r->{token}, qr/^sha256:[0-9a-f]{12}$/, 'and the token\'s hash');

    stop_client($_) for values %run;
}
--- no_error_log
token_expired


=== TEST 2: another person's or room's token: 409, a bad token: 422 with its reason; the session unchanged
--- config eval: app('compliance_session_expiry on')
--- post_check eval
sub {
    my $exp = time + 600;
    my $run = publisher('r1', pid => 'p1', jti => 'j1', exp => $exp,
                        duration => 20000);
    ok(wait_for(sub { find_sessions(room => 'r1') }, 10), 'live');
    my ($s) = find_sessions(room => 'r1');

    my $good = room_token('r1', pid => 'p1', jti => 'j9');
    my @part = split /\./, $good;
    substr($part[2], 5, 1) = substr($part[2], 5, 1) eq 'A' ? 'B' : 'A';
    my $tampered = join '.', @part;

    my @cases = (
        [ 'another person', room_token('r1', pid => 'p2', jti => 'j2'),
          409, 'person_mismatch', qr/another person/ ],
        [ 'another room', room_token('r2', pid => 'p1', jti => 'j3'),
          409, 'room_mismatch', qr/another room/ ],
        [ 'an expired token',
          room_token('r1', pid => 'p1', jti => 'j4', exp => time - 60),
          422, 'token_expired', qr/./ ],
        [ 'a bad signature', $tampered, 422, 'token_signature', qr/./ ],
        [ 'a play token',
          room_token('r1', pid => 'p1', jti => 'j5', scope => 'play'),
          422, 'token_scope', qr/./ ],
    );

    for my $c (@cases) {
        my ($name, $tok, $status, $reason, $detail) = @$c;
        my ($st, $j, $body) = refresh($s->{id}, $tok);
        is($st, $status, "$name: $status") or diag($body);
        is($j->{error}, $reason, "$name: $reason");
        like($j->{detail} // '', $detail, "$name: the detail says why");
        ok(wait_log(qr/compliance: refresh of session $s->{id} refused: $reason: /),
           "$name: the log says $reason");
        my ($now) = find_sessions(room => 'r1');
        is_deeply([ @$now{qw(id jti exp host)} ],
                  [ $s->{id}, 'j1', $exp, 'host1' ],
                  "$name: the session is unchanged");
    }

    my ($st, $j) = refresh(999999, $good);
    is($st, 404, 'no such session: 404');
    ($st, $j) = api('POST', "sessions/$s->{id}/token", { tok => $good },
                    mod());
    is($st, 400, 'a body without "token": 400');
    is($j->{error}, 'invalid_refresh', 'invalid_refresh');
    ($st) = api('GET', "sessions/$s->{id}/token");
    is($st, 405, 'GET sessions/ID/token: 405');
    ($st) = api('POST', "sessions/$s->{id}/other", { token => $good }, mod());
    is($st, 404, 'sessions/ID/other: 404');

    ok(!client_done($run), 'the publisher goes on');
    stop_client($run);
}


=== TEST 3: reverify within 2 s on 2 workers: unrefreshed publishers dropped (reverify_timeout), their old tokens refused (reverify_required), refreshed ones go on
--- rtmp_config eval
zone_conf() . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit3;\n"
--- http_server_config eval: api_location()
--- config eval: app()
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/audit3";
    my $old = time - 30;
    my (%run, %worker);

    # unrefreshed publishers until both workers hold one
    for my $k (1 .. 12) {
        $run{"a$k"} = publisher("a$k", pid => "pa$k", jti => "ja$k",
                                iat => $old, duration => 30000);
        ok(wait_for(sub { find_sessions(room => "a$k") }, 10), "a$k live");
        my ($s) = find_sessions(room => "a$k");
        $worker{$s->{worker}}++ if $s;
        last if keys %worker == 2;
    }
    is(scalar(keys %worker), 2, 'unrefreshed publishers on both workers');
    my @a = sort grep { /^a/ } keys %run;

    $run{$_} = publisher($_, pid => "p$_", jti => "j$_", iat => $old,
                         duration => 30000)
        for qw(b1 b2);
    ok(wait_for(sub { find_sessions(kind => 'publish') == @a + 2 }, 10),
       'and two to be refreshed');
    my %s = map { $_->{room} => $_ } find_sessions(kind => 'publish');

    my $o = order(target => 'mcn:mcn1', action => 'reverify', within => 2,
                  reason => 'face check', ref => 'RV-1');
    my $t0 = Time::HiRes::time();
    is($o->{within}, 2, 'the order has within');
    cmp_ok(abs($o->{until} - ($o->{created} + 86400)), '<=', 1,
           'in force for 24 h by default');
    my $ow = worker_of("order $o->{id} created:");

    my $notice = qr/^status: warning NetStream\.Publish\.Reverify reverify: order $o->{id}: face check \(ref RV-1\): refresh the token within 2 s with one issued since \d+$/m;
    ok(wait_output($run{$_}, $notice, 3), "$_ is told to re-verify")
        for @a, qw(b1 b2);
    my ($seen) = find_sessions(room => 'b1');
    is($seen->{reverify}{order}, $o->{id}, 'GET sessions: the reverify due');

    for my $b (qw(b1 b2)) {
        my ($st, $j, $body) = refresh($s{$b}{id},
            room_token($b, pid => "p$b", jti => "j$b-new"));
        is($st, 200, "$b refreshed with a token issued since") or diag($body);
        ok(!exists $j->{reverify}, "$b: nothing due any more");
    }

    my ($st, $j) = refresh($s{b1}{id},
        room_token('b1', pid => 'pb1', jti => 'jb1-old', iat => $old));
    is($st, 409, 'a refresh with a token issued before the order: 409');
    is($j->{error}, 'reverify_required', 'reverify_required');

    my $drop = qr/^status: error NetStream\.Publish\.Rejected reverify_timeout: not refreshed with a token issued since \d+ within 2 s, re-verification order $o->{id}: face check \(ref RV-1\)$/m;
    for my $k (@a) {
        ok(wait_output($run{$k}, $drop, 6), "$k is dropped: reverify_timeout");
    }
    my $t = Time::HiRes::time() - $t0;
    cmp_ok($t, '>=', 1.8, sprintf('not before within (%.2f s)', $t));
    cmp_ok($t, '<', 4, 'and soon after it');

    for my $k (@a) {
        like(error_log_text(),
             qr/compliance: session $s{$k}{id} dropped: reverify_timeout, room: "$k", not refreshed/,
             "$k: the log says reverify_timeout");
    }
    ok(grep({ $s{$_}{worker} != $ow } @a),
       "a publisher of the other worker than the order's ($ow) dropped");

    my ($rc, $out) = refused('publish',
        stream('a1', pid => 'pa1', jti => 'ja1', iat => $old));
    like($out, qr/^status: error NetStream\.Publish\.Rejected reverify_required: the token was issued at $old, before re-verification order $o->{id} of \d+: a token issued since is needed: face check \(ref RV-1\)/m,
         'the old token is refused: reverify_required');
    ok(wait_log(qr/compliance: publish rejected: reverify_required: /),
       'the log says reverify_required');

    ($rc, $out) = once('publish', stream('a1', pid => 'pa1', jti => 'ja1n'));
    like($out, qr/NetStream\.Publish\.Start/,
         'a token issued since is admitted');

    ok(wait_for(sub { time >= $t0 + 4 }, 10), 'past the deadline');
    for my $b (qw(b1 b2)) {
        ok(!client_done($run{$b}), "$b goes on");
        ok(scalar(find_sessions(room => $b)), "$b is live");
    }

    my $e = audit_event($dir, 'session.end',
                        sub { $_[0]{why} eq 'reverify_timeout' });
    ok($e, 'session.end why reverify_timeout');
    my $c = audit_event($dir, 'order.create',
                        sub { $_[0]{action} eq 'reverify' });
    ok($c, 'order.create of the reverify order');
    my $w = audit_event($dir, 'warn.sent',
                        sub { $_[0]{order} == $o->{id} });
    like($w->{text} // '', qr/refresh the token within 2 s/,
         'warn.sent of the notice');
    my $r = audit_event($dir, 'session.refresh',
                        sub { $_[0]{session} == $s{b1}{id} });
    is($r->{reverify}, $o->{id}, 'session.refresh: the order it met');

    ($st) = api('DELETE', "orders/$o->{id}", undef, mod());
    is($st, 204, 'the order is lifted');
    ($rc, $out) = once('publish',
        stream('a2', pid => 'pa2', jti => 'ja2', iat => $old));
    like($out, qr/NetStream\.Publish\.Start/,
         'once lifted, the old token is admitted');

    stop_client($_) for values %run;
}
--- error_log
reverify_timeout


=== TEST 4: the fleet: a reverify order goes out with its within; one read from the stream drops an unrefreshed publisher here and refuses its old token
--- rtmp_config eval
zone_conf('f4') . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit4 node=n4;\n"
. "compliance_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
--- http_server_config eval: api_location()
--- config eval: app()
--- post_check eval
sub {
    SKIP: {
        skip 'redis-server is not installed', 7 unless $::Redis;
        my ($run, $old) = old_publisher('f1');

        my $o = order(target => 'room:f0', action => 'reverify',
                      within => 30, reason => 'elsewhere');
        ok(wait_for(sub { redis('XRANGE', 'compliance:orders', '-', '+')
                          =~ /"action":"reverify".*"within":30/ }, 10),
           'its entry in the stream has "within":30');

        my $order = '{"target":"person:pf1","action":"reverify",'
                    . '"within":2,"reason":"fleet check","created":'
                    . time . '}';
        like(redis('XADD', 'compliance:orders', '*', 'op', 'create', 'uid',
                   'backend:4', 'origin', 'backend', 'order', $order),
             qr/^\d+-\d+$/, 'a reverify order of the fleet');
        ok(wait_output($run, qr/^status: warning NetStream\.Publish\.Reverify reverify: order \d+: fleet check: refresh the token within 2 s/m, 10),
           'the publisher is told');
        ok(wait_output($run, qr/^status: error NetStream\.Publish\.Rejected reverify_timeout: not refreshed with a token issued since \d+ within 2 s, re-verification order \d+: fleet check$/m, 10),
           'and dropped: reverify_timeout');

        my ($rc, $out) = refused('publish',
            stream('f1', pid => 'pf1', jti => 'jf1', iat => $old));
        like($out, qr/Rejected reverify_required: the token was issued at $old/,
             'its old token is refused: reverify_required');
    }
}


=== TEST 5: two reverify orders: lifting the newer leaves the older in force, with its deadline
--- http_server_config eval: api_location()
--- config eval: app()
--- post_check eval
sub {
    my ($run) = old_publisher('x1');

    my $first = order(target => 'person:px1', action => 'reverify',
                      within => 3, reason => 'first');
    my $t0 = Time::HiRes::time();
    my $second = order(target => 'room:x1', action => 'reverify',
                       within => 60, reason => 'second');
    ok(wait_output($run, qr/^status: warning NetStream\.Publish\.Reverify reverify: order $second->{id}: second: /m, 3),
       'the publisher is told of the second');

    my ($st) = api('DELETE', "orders/$second->{id}");
    is($st, 204, 'the second is lifted');
    ok(wait_output($run, qr/^status: error NetStream\.Publish\.Rejected reverify_timeout: not refreshed with a token issued since \d+ within 3 s, re-verification order $first->{id}: first$/m, 8),
       'the first, still in force, drops it');
    my $t = Time::HiRes::time() - $t0;
    cmp_ok($t, '<', 5, sprintf('at the first one\'s deadline (%.2f s)', $t));
}
--- error_log eval
qr/compliance: session \d+ dropped: reverify_timeout, room: "x1"/
