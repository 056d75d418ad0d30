# Orders against live sessions with several workers: suspensions, bans,
# restrictions and warnings issued through the control API reach the
# sessions of every worker within compliance_recheck; orders refuse new
# publishes (and plays of their room), expire by themselves and can be
# lifted; the API lists every worker's sessions and counts admissions
# and rejections.

use lib 't/lib';

use Test::Compliance;
use Time::HiRes ();

our $Recheck = 0.2;     # compliance_recheck 200ms, below

our $Config = tiers('basic', 'low', 'off publish=off') . live_app();

block_defaults(
    workers            => 4,
    config             => $Config,
    http_server_config => api_location(),
);


# the pid of the worker that logged "compliance: order ID created"

sub order_worker {
    my ($id) = @_;
    my ($pid) = error_log_text() =~ /\] (\d+)#\d+: \*\d+ compliance: order $id created:/;
    return $pid;
}


run_tests();

__DATA__

=== TEST 1: publishers on all workers; orders drop their targets on other workers within the recheck
--- rtmp_config eval: zone_conf('o1')
--- post_check eval
sub {
    # tokens first, then all clients at once, so that the connections
    # come together and the workers share them
    my %stream = map { ("h$_" => stream("r$_", sub => "h$_", pid => "p$_",
                                        jti => "j$_", op => "op$_")) } 1 .. 8;
    my %run = map { $_ => start_client('publish', $stream{$_},
                                       '--duration', 20000) }
              sort keys %stream;

    ok(wait_for(sub { find_sessions(kind => 'publish') == 8 }, 15),
       'GET sessions lists the 8 publishers');

    my @ss = @{sessions()};
    my %workers = map { $_ => 1 } worker_pids();
    my %used = map { $_->{worker} => 1 } @ss;

    is(scalar(keys %workers), 4, 'four workers');
    cmp_ok(scalar(keys %used), '>=', 2,
           'the publishers are spread over several workers');
    ok(!grep({ !$workers{$_->{worker}} } @ss),
       'each session names a running worker');

    my ($s5) = grep { $_->{host} eq 'h5' } @ss;
    is_deeply({ map { $_ => $s5->{$_} }
                qw(kind app room host person op mcn tier ai idv jti kid addr
                   viewers) },
              { kind => 'publish', app => 'live', room => 'r5', host => 'h5',
                person => 'p5', op => 'op5', mcn => 'mcn1', tier => 'basic',
                ai => JSON::PP::false, idv => 'face', jti => 'j5', kid => '',
                addr => '127.0.0.1', viewers => 0 },
              'the subjects of a session');
    cmp_ok(abs($s5->{started} - time), '<=', 5, 'started');
    my %ids = map { $_->{id} => 1 } @ss;
    is(scalar(keys %ids), 8, 'distinct session ids');

    my ($st, $one) = api('GET', "sessions/$s5->{id}");
    is($st, 200, 'GET sessions/ID');
    is($one->{host}, 'h5', 'GET sessions/ID is the session');

    ok(wait_for(sub {
        my ($x) = find_sessions(host => 'h5');
        $x && $x->{bytes_in} > 0 && $x->{bytes_out} > 0;
    }, 5), 'bytes_in and bytes_out are counted');

    # suspend hosts one after the other until one is held by another
    # worker than the one that served the POST
    my (@dropped, $cross, @latency);
    # candidates taken round-robin over the workers
    my %by;
    push @{$by{$_->{worker}}}, $_
        for sort { $a->{id} <=> $b->{id} } grep { $_->{host} ne 'h5' } @ss;
    my @cand;
    while (grep { @$_ } values %by) {
        push @cand, shift @{$by{$_}} for grep { @{$by{$_}} } sort keys %by;
    }

    for my $s (@cand) {
        my $t0 = Time::HiRes::time();
        my $o = order(target => "host:$s->{host}", action => 'suspend',
                      duration => 600, reason => 'false advertising',
                      ref => "case-$s->{host}") or next;
        my $ok = wait_output($run{$s->{host}},
            "error NetStream.Publish.Rejected suspended: order $o->{id}: "
            . "false advertising (ref case-$s->{host})", 5);
        push @latency, Time::HiRes::time() - $t0;
        ok($ok, "the publisher of $s->{host} is told why it is dropped");
        push @dropped, $s->{host};

        my $pw = order_worker($o->{id});
        ok($pw, "the order-creation log line names its worker");
        if ($pw && $pw != $s->{worker}) {
            $cross = "order $o->{id} served by $pw dropped session "
                     . "$s->{id} of worker $s->{worker}";
            last;
        }
    }

    ok($cross, 'an order dropped a session held by another worker than '
               . 'the one that served the POST');
    Test::More::note($cross) if $cross;
    Test::More::note(sprintf 'drop latencies: %s s', join ' ', map { sprintf '%.3f', $_ }
                                                     @latency);
    ok(!grep({ $_ >= 1.5 } @latency),
       'each drop came within 1.5 s of the POST (recheck 200ms)');

    for my $h (@dropped) {
        my $rc = wait_client($run{$h}, 5);
        like($rc, qr/^[14]$/, "the dropped client of $h exits 1 or 4");
        like(client_output($run{$h}), qr/^closed: by=server/m,
             "the server closed $h");
        like(error_log_text(),
             qr/compliance: session \d+ dropped: suspended, room: "r\d", order \d+: false advertising \(ref case-\Q$h\E\)/,
             "the drop of $h is logged");
    }

    ok(wait_for(sub { !find_sessions(host => $dropped[-1]) }, 3),
       'the dropped sessions leave GET sessions');

    my %gone = map { $_ => 1 } @dropped;
    my @left = map { $_->{host} } @{sessions()};
    is_deeply([sort @left],
              [sort grep { !$gone{$_} } map { "h$_" } 1 .. 8],
              'every other publisher is still live');
    ok(!grep({ !$gone{$_} && client_done($run{$_}) } keys %run),
       'no other client was dropped');

    stop_client($_) for values %run;
}
--- no_error_log
[error]


=== TEST 2: a suspend drops the publisher and the room's players; a room order refuses plays
--- rtmp_config eval: zone_conf('o2')
--- post_check eval
sub {
    my $pub = publisher('room1', sub => 'h1', pid => 'p1');
    ok(wait_for(sub { find_sessions(kind => 'publish', room => 'room1') }),
       'publisher live');
    my @players = (player('room1'), player('room1'), player('room1'));
    my $other = player('room9');

    ok(wait_for(sub { find_sessions(kind => 'play') == 4 }),
       'players are registered');
    my ($p) = find_sessions(kind => 'publish');
    is($p->{viewers}, 3, 'the publisher has 3 viewers (all workers)');
    my ($pl) = find_sessions(kind => 'play', room => 'room1');
    is($pl->{app}, 'live', 'a player session');

    my $o = order(target => 'host:h1', action => 'suspend', duration => 600,
                  reason => 'fake discounts', ref => 'SAMR-1');
    my $until = $o->{until};
    cmp_ok(abs($until - (time + 600)), '<=', 3, 'until = now + duration');

    ok(wait_output($pub, 'error NetStream.Publish.Rejected suspended: '
                         . "order $o->{id}: fake discounts (ref SAMR-1)"),
       'the publisher is dropped with the reason');

    for my $i (0 .. $#players) {
        ok(wait_output($players[$i],
                       qr/^status: error NetStream\.Play\.Rejected suspended: order $o->{id}: fake discounts/m),
           "player $i of the room is dropped with the reason");
        my $rc = wait_client($players[$i], 5);
        ok(defined $rc && $rc ne '0', "player $i exits with an error ($rc)");
        like(client_output($players[$i]), qr/^closed: by=server/m,
             "player $i closed by the server");
    }

    wait_client($pub, 5);
    ok(wait_for(sub { !find_sessions(room => 'room1') }, 3),
       'the room has no sessions left');
    ok(!client_done($other), "another room's player stays");
    ok(find_sessions(kind => 'play', room => 'room9'), 'and is listed');

    # a new publish of the suspended host, on any worker
    my ($rc, $out) = refused('publish', stream('room1', sub => 'h1',
                                               pid => 'p1'));
    is($rc, 1, 'a new publish of the suspended host is refused');
    like($out, qr/^status: error NetStream\.Publish\.Rejected suspended: suspended until $until, order $o->{id}: fake discounts \(ref SAMR-1\)$/m,
         'with the order in the description');
    unlike($out, qr/NetStream\.Publish\.Start/, 'never started');
    ok(wait_log(qr/compliance: publish rejected: suspended: suspended until $until, order $o->{id}: fake discounts \(ref SAMR-1\)/),
       'the refusal is logged');

    # a host order does not refuse plays; a room order does
    my $watch = player('room1', 1500);
    is(wait_client($watch, 10), 0, 'the play ran its course');
    unlike(client_output($watch), qr/Play\.Rejected/,
           'a play of the room of a suspended host is not refused');

    my $r = order(target => 'room:room9', action => 'suspend',
                  duration => 600, reason => 'room closed', ref => 'R9');
    ok(wait_output($other, qr/^status: error NetStream\.Play\.Rejected suspended: order $r->{id}: room closed \(ref R9\)/m),
       'a room order drops the room\'s players');

    ($rc, $out) = refused('play', 'live/room9');
    is($rc, 1, 'a play of the suspended room is refused');
    like($out, qr/^status: error NetStream\.Play\.Rejected suspended: suspended until \d+, order $r->{id}: room closed \(ref R9\)$/m,
         'NetStream.Play.Rejected with the order');
    unlike($out, qr/NetStream\.Play\.Start/, 'the play never started');
    ok(wait_log(qr/compliance: play rejected: suspended: /),
       'the refused play is logged');

    ($rc, $out) = refused('publish', stream('room9', sub => 'h7',
                                            pid => 'p7'));
    is($rc, 1, 'a publish to the suspended room is refused');
    like($out, qr/Publish\.Rejected suspended: suspended until \d+, order $r->{id}: room closed/,
         'with the room order');

    stop_client($_) for $pub, @players, $other;
}


=== TEST 3: a person ban follows the person across host accounts
--- rtmp_config eval: zone_conf('o3')
--- post_check eval
sub {
    my $a = publisher('room1', sub => 'acct-a', pid => 'person-x');
    my $b = publisher('room2', sub => 'acct-b', pid => 'person-x');
    my $c = publisher('room3', sub => 'acct-c', pid => 'person-y');

    ok(wait_for(sub { find_sessions(kind => 'publish') == 3 }),
       'three publishers');

    my $o = order(target => 'person:person-x', action => 'ban',
                  reason => 'repeated fraud', ref => 'BAN-7');
    is($o->{until}, undef, 'a ban has no until');
    is($o->{action}, 'ban', 'action');

    for my $run ($a, $b) {
        ok(wait_output($run, "error NetStream.Publish.Rejected banned: order $o->{id}: repeated fraud (ref BAN-7)"),
           'a live session of the person is dropped');
    }
    ok(wait_for(sub { find_sessions(kind => 'publish') == 1 }, 3),
       'one publisher left');
    ok(find_sessions(person => 'person-y'), 'the other person stays');
    ok(!client_done($c), 'its client runs');

    my @runs = map { start_client('publish', stream("room$_->[0]",
                                                    sub => $_->[1],
                                                    pid => 'person-x'),
                                  '--duration', 3000) }
               [1, 'acct-a'], [4, 'acct-new'];
    for my $run (@runs) {
        is(wait_client($run, 15), 1, 'a new publish of the person is refused');
        like(client_output($run), qr/^status: error NetStream\.Publish\.Rejected banned: banned, order $o->{id}: repeated fraud \(ref BAN-7\)$/m,
             'banned, with the order');
    }
    like(error_log_text(), qr/publish rejected: banned: banned, order $o->{id}/,
         'logged');

    my ($st, $list) = api('GET', 'orders');
    is($st, 200, 'GET orders');
    is_deeply([map { $_->{id} } @$list], [$o->{id}], 'the ban is listed');
    ($st, my $one) = api('GET', "orders/$o->{id}");
    is_deeply($one, $o, 'GET orders/ID is the stored order');

    stop_client($_) for $a, $b, $c;
}
--- no_error_log
[alert]


=== TEST 4: a token order refuses its jti, not the account
--- rtmp_config eval: zone_conf('o4')
--- post_check eval
sub {
    my $live = publisher('room1', sub => 'h1', jti => 'leaked-1');
    my $safe = publisher('room2', sub => 'h2', jti => 'fine-2');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 2 }), 'live');

    my $o = order(target => 'token:leaked-1', action => 'ban',
                  reason => 'token leaked', ref => 'SEC-1');

    ok(wait_output($live, "error NetStream.Publish.Rejected token_revoked: order $o->{id}: token leaked (ref SEC-1)"),
       'the session of the token is dropped with token_revoked');
    ok(wait_log(qr/session \d+ dropped: token_revoked, room: "room1", order $o->{id}: token leaked/),
       'logged');
    ok(wait_for(sub { !find_sessions(jti => 'leaked-1') }, 3), 'gone');
    ok(!client_done($safe), 'another token stays');

    my ($rc, $out) = refused('publish', stream('room1', sub => 'h1',
                                               jti => 'leaked-1'));
    is($rc, 1, 'the jti is refused');
    like($out, qr/^status: error NetStream\.Publish\.Rejected token_revoked: token revoked, order $o->{id}: token leaked \(ref SEC-1\)$/m,
         'token_revoked, with the order');
    ok(wait_log(qr/publish rejected: token_revoked: token revoked, order $o->{id}/),
       'logged');

    # a suspend on a token is token_revoked as well
    my $s = order(target => 'token:leaked-2', action => 'suspend',
                  duration => 600, reason => 'second leak');
    ($rc, $out) = refused('publish', stream('room5', sub => 'h5',
                                            jti => 'leaked-2'));
    like($out, qr/Publish\.Rejected token_revoked: token revoked, order $s->{id}: second leak/,
         'a suspend on a token refuses with token_revoked');

    my $new = publisher('room1', sub => 'h1', jti => 'fresh-3',
                        duration => 1500);
    ok(wait_output($new, 'status: status NetStream.Publish.Start'),
       'the same host with a new token publishes');
    is(wait_client($new, 10), 0, 'and ends normally');
    unlike(client_output($new), qr/Rejected/, 'not rejected');

    stop_client($safe);
}
--- no_error_log
[alert]


=== TEST 5: a warning reaches the live publisher and drops nothing
--- rtmp_config eval: zone_conf('o5')
--- post_check eval
sub {
    my $w = publisher('room1', sub => 'h1', op => 'shop-1', duration => 4000);
    my $x = publisher('room2', sub => 'h2', op => 'shop-2', duration => 4000);
    my $pl = player('room1', 4000);
    ok(wait_for(sub { find_sessions(kind => 'publish') == 2
                      && find_sessions(kind => 'play') == 1 }), 'live');

    my $o = order(target => 'op:shop-1', action => 'warn', duration => 600,
                  reason => 'unlabelled ad', ref => 'W-1');

    ok(wait_output($w, "status: warning NetStream.Publish.Warning warning: order $o->{id}: unlabelled ad (ref W-1)", 3),
       'the publisher gets the warning');
    ok(wait_log(qr/compliance: warning sent to session \d+, room: "room1", order $o->{id}: unlabelled ad \(ref W-1\)/),
       'the warning is logged');

    is(wait_client($w, 10), 0, 'the warned publisher ends normally');
    like(client_output($w), qr/^closed: by=client/m, 'closed by the client');
    my $warnings = () = client_output($w) =~ /NetStream\.Publish\.Warning/g;
    is($warnings, 1, 'warned once');
    is(wait_client($x, 10), 0, 'the other publisher ends normally');
    unlike(client_output($x), qr/Warning|Rejected/, 'and got no warning');
    is(wait_client($pl, 10), 0, 'the player ends normally');
    unlike(client_output($pl), qr/Warning|Rejected/,
           'the player got no warning');
    unlike(error_log_text(), qr/dropped/, 'nothing dropped');

    # a new publish under a warn order is admitted and warned
    my $n = publisher('room1', sub => 'h9', op => 'shop-1', duration => 1500);
    ok(wait_output($n, 'status: status NetStream.Publish.Start'),
       'a new publish under a warning is admitted');
    ok(wait_output($n, "warning: order $o->{id}: unlabelled ad (ref W-1)"),
       'and warned');
    is(wait_client($n, 10), 0, 'and ends normally');
}
--- no_error_log
[error]


=== TEST 6: restrict re-tiers live sessions; a publish=off tier drops them
--- config eval
# gold and the long tiers are another application's (the API takes a
# restrict only to a tier some application has): live does not know them
$::Config . "application studio {\n    live on;\n    compliance on;\n"
. "    compliance_key \$TEST_NGINX_KEYS/hs256.key;\n"
. join('', map { "    compliance_tier $_;\n" } 'gold', 'x' x 255, 'x' x 256)
. "}\n"
--- rtmp_config eval: zone_conf('o6')
--- post_check eval
sub {
    my $p = publisher('room1', sub => 'h1');
    my $q = publisher('room2', sub => 'h2');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 2 }), 'live');

    my $o = order(target => 'host:h1', action => 'restrict',
                  duration => 600, tier => 'low', reason => 'probation',
                  ref => 'T-1');
    is($o->{tier}, 'low', 'the stored order has the tier');

    ok(wait_for(sub { my ($s) = find_sessions(host => 'h1');
                      $s && $s->{tier} eq 'low' }, 2),
       'GET sessions shows the new tier');
    my ($s2) = find_sessions(host => 'h2');
    is($s2->{tier}, 'basic', 'the other session keeps its tier');
    ok(wait_log(qr/session \d+ restricted to tier "low" by order $o->{id}/),
       'the restriction is logged');
    Time::HiRes::sleep(3 * $::Recheck);
    ok(!client_done($p), 'a restrict to a tier that may publish drops nothing');

    my $off = order(target => 'host:h1', action => 'restrict',
                    duration => 600, tier => 'off', reason => 'no more',
                    ref => 'T-2');
    ok(wait_output($p, qr/^status: error NetStream\.Publish\.Rejected tier_forbids_publish: order $off->{id}: no more \(ref T-2\)$/m, 3),
       'a restrict to a publish=off tier drops the session');
    ok(wait_log(qr/session \d+ dropped: tier_forbids_publish, room: "room1"/),
       'logged');
    ok(!client_done($q), 'the other session stays');

    # new publishes under a restriction
    my $u = order(target => 'host:h3', action => 'restrict', duration => 600,
                  tier => 'gold', reason => 'unknown tier', ref => 'T-3');
    my ($rc, $out) = refused('publish', stream('room3', sub => 'h3'));
    is($rc, 1, 'a publish restricted to an unknown tier is refused');
    like($out, qr/Publish\.Rejected tier_unknown: restricted to tier "gold" by order $u->{id}/,
         'tier_unknown');

    my $l = order(target => 'host:h4', action => 'restrict', duration => 600,
                  tier => 'low', reason => 'new host', ref => 'T-4');
    my $r = publisher('room4', sub => 'h4');
    ok(wait_output($r, 'status: status NetStream.Publish.Start'),
       'a publish restricted to a tier that may publish is admitted');
    ok(wait_for(sub { find_sessions(host => 'h4') }), 'listed');
    my ($s4) = find_sessions(host => 'h4');
    ok(wait_log(qr/publish accepted, app: "live", room: "room4", host: "h4", .*tier: "low"/),
       'the publish is admitted under the tier of the restriction');
    is($s4->{tier}, 'low',
       'GET sessions shows the tier of the restriction for a new session');

    # restricted to unknown tiers with the longest names an order takes
    my %long;
    for my $len (255, 256) {
        $long{$len} = publisher("room-$len", sub => "long$len");
    }
    ok(wait_for(sub { find_sessions(host => 'long255')
                      && find_sessions(host => 'long256') }), 'live');
    my %lo;
    for my $len (255, 256) {
        $lo{$len} = order(target => "host:long$len", action => 'restrict',
                          duration => 600, tier => 'x' x $len,
                          reason => "tier of $len bytes");
        is(length $lo{$len}{tier}, $len, "a tier name of $len bytes is "
                                         . "taken");
    }
    my ($id255, $id256) = ($lo{255}{id}, $lo{256}{id});
    ok(wait_output($long{255}, qr/Publish\.Rejected tier_unknown: order $id255: /, 3),
       'a restrict to an unknown tier of 255 bytes drops with tier_unknown');
    ok(wait_output($long{256}, qr/Publish\.Rejected tier_unknown: order $id256: /, 3),
       'a restrict to an unknown tier of 256 bytes drops with tier_unknown');

    stop_client($_) for $q, $r, values %long;
}


=== TEST 7: an order expires by itself; then the host publishes again
--- rtmp_config eval: zone_conf('o7')
--- post_check eval
sub {
    my $o = order(target => 'host:h1', action => 'suspend', duration => 2,
                  reason => 'cool down', ref => 'E-1');
    my $u = order(target => 'host:h2', action => 'suspend',
                  until => time + 2, reason => 'cool down too');
    is($u->{ref}, '', 'ref is empty when not given');
    my ($rc, $out) = refused('publish', stream('room1', sub => 'h1'));
    is($rc, 1, 'refused while the order is in force');

    ok(wait_log("compliance: order $o->{id} expired", 5),
       'the expiry is logged');
    ok(wait_log("compliance: order $u->{id} expired", 5),
       'the expiry of an until order is logged');
    my ($st) = api('GET', "orders/$o->{id}");
    is($st, 404, 'GET orders/ID of an expired order is 404');
    my (undef, $list) = api('GET', 'orders');
    is_deeply($list, [], 'GET orders is empty');
    is(metrics()->{compliance_orders}, 0, 'compliance_orders 0');

    for my $h ('h1', 'h2') {
        my $p = publisher("room-$h", sub => $h, duration => 1000);
        is(wait_client($p, 10), 0, "$h publishes again");
        like(client_output($p), qr/NetStream\.Publish\.Start/, 'started');
    }
}
--- no_error_log
[alert]


=== TEST 8: DELETE sessions/ID drops one session
--- rtmp_config eval: zone_conf('o8')
--- post_check eval
sub {
    my $p = publisher('room1', sub => 'h1');
    my $q = publisher('room2', sub => 'h2');
    my $pl = player('room2');
    ok(wait_for(sub { @{sessions()} == 3 }), 'live');

    my ($s) = find_sessions(host => 'h1');
    my $t0 = Time::HiRes::time();
    my ($st, $json) = api('DELETE', "sessions/$s->{id}");
    is($st, 202, 'DELETE sessions/ID is 202');
    is($json->{id}, $s->{id}, 'with the session');
    is($json->{host}, 'h1', 'its subjects');

    ok(wait_output($p, qr/^status: error NetStream\.Publish\.Rejected operator_drop: /m, 2),
       'the session is dropped with operator_drop');
    my $dt = Time::HiRes::time() - $t0;
    cmp_ok($dt, '<', 1.5, sprintf 'within 1.5 s (%.3f s)', $dt);
    ok(wait_log(qr/session $s->{id} dropped: operator_drop, room: "room1"/),
       'logged');
    ok(wait_for(sub { !find_sessions(id => $s->{id}) }, 3), 'gone');
    ($st) = api('GET', "sessions/$s->{id}");
    is($st, 404, 'GET sessions/ID is then 404');
    ($st) = api('DELETE', "sessions/$s->{id}");
    is($st, 404, 'DELETE sessions/ID again is 404');

    ok(!client_done($q), 'the other publisher stays');
    ok(!client_done($pl), 'the player stays');
    is(scalar @{sessions()}, 2, 'two sessions left');

    my ($ps) = find_sessions(kind => 'play');
    ($st) = api('DELETE', "sessions/$ps->{id}");
    is($st, 202, 'a player can be dropped');
    ok(wait_output($pl, qr/^status: error NetStream\.Play\.Rejected operator_drop: /m, 2),
       'NetStream.Play.Rejected operator_drop');
    ok(!client_done($q), 'its publisher stays');

    # no order was made: the host may publish again
    my $again = publisher('room1', sub => 'h1', duration => 1000);
    is(wait_client($again, 10), 0, 'the dropped host may publish again');

    stop_client($q);
}
--- no_error_log
[alert]


=== TEST 9: lifting an order lets the host publish again
--- rtmp_config eval: zone_conf('o9')
--- post_check eval
sub {
    my $o = order(target => 'host:h1', action => 'suspend', duration => 3600,
                  reason => 'review', ref => 'L-1');
    my $b = order(target => 'mcn:agency-9', action => 'ban',
                  reason => 'agency banned', ref => 'L-2');

    my ($rc, $out) = refused('publish', stream('room1', sub => 'h1'));
    is($rc, 1, 'refused while suspended');
    ($rc, $out) = refused('publish', stream('room2', sub => 'h2',
                                            mcn => 'agency-9'));
    is($rc, 1, 'an mcn ban refuses its hosts');
    like($out, qr/banned: banned, order $b->{id}: agency banned/, 'banned');

    my ($st, undef, $body) = api('DELETE', "orders/$o->{id}");
    is($st, 204, 'DELETE orders/ID is 204');
    is($body, '', 'no body');
    ok(wait_log(qr/compliance: order $o->{id} lifted: suspend host:"h1"/),
       'the lift is logged');
    ($st) = api('GET', "orders/$o->{id}");
    is($st, 404, 'the lifted order is gone');
    ($st) = api('DELETE', "orders/$o->{id}");
    is($st, 404, 'lifting it again is 404');
    my (undef, $list) = api('GET', 'orders');
    is_deeply([map { $_->{id} } @$list], [$b->{id}], 'the ban stays');

    my $p = publisher('room1', sub => 'h1', duration => 1000);
    is(wait_client($p, 10), 0, 'the host publishes again');
    like(client_output($p), qr/NetStream\.Publish\.Start/, 'started');

    # lifting an order does not bring back what it dropped, and a live
    # session under a lifted warn order is not warned
    my $live = publisher('room3', sub => 'h3');
    ok(wait_output($live, 'NetStream.Publish.Start'), 'live');
    my $w = order(target => 'host:h3', action => 'ban', reason => 'oops');
    ok(wait_output($live, 'banned: order'), 'banned and dropped');
    ($st) = api('DELETE', "orders/$w->{id}");
    is($st, 204, 'lifted');
    my $again = publisher('room3', sub => 'h3', duration => 1000);
    is(wait_client($again, 10), 0, 'publishes again after the lift');

    ($st) = api('DELETE', "orders/$b->{id}");
    is($st, 204, 'the mcn ban is lifted');
    my $m = publisher('room2', sub => 'h2', mcn => 'agency-9',
                      duration => 1000);
    is(wait_client($m, 10), 0, 'the mcn publishes again');
}
--- no_error_log
[alert]


=== TEST 10: metrics count admissions, rejections by reason, sessions and orders
--- rtmp_config eval: zone_conf('o10')
--- post_check eval
sub {
    my $m0 = metrics();
    is($m0->{'compliance_admissions_total{kind="publish"}'}, 0,
       'no admissions yet');
    is($m0->{compliance_orders}, 0, 'no orders');

    my $p1 = publisher('room1', sub => 'h1');
    my $p2 = publisher('room2', sub => 'h2');
    my $v1 = player('room1');
    ok(wait_for(sub { @{sessions()} == 3 }), 'live');

    api('POST', 'orders', { target => 'host:h8', action => 'suspend',
                            duration => 600, reason => 'x' });
    api('POST', 'orders', { target => 'host:h9', action => 'ban',
                            reason => 'y' });
    api('POST', 'orders', { target => 'room:room7', action => 'ban',
                            reason => 'z' });

    my @r = (
        start_client('publish', 'live/room5', '--duration', 3000),
        start_client('publish', stream('room8', sub => 'h8'),
                     '--duration', 3000),
        start_client('publish', stream('room9', sub => 'h9'),
                     '--duration', 3000),
        start_client('publish', stream('room9b', sub => 'h9'),
                     '--duration', 3000),
        start_client('play', 'live/room7', '--duration', 3000),
        start_client('publish', stream('room6', tier => 'off'),
                     '--duration', 3000),
    );
    is(wait_client($_, 15), 1, 'refused') for @r;

    my $m = metrics();
    my %want = (
        'compliance_admissions_total{kind="publish"}' => 2,
        'compliance_admissions_total{kind="play"}' => 1,
        'compliance_rejections_total{kind="publish",reason="token_missing"}' => 1,
        'compliance_rejections_total{kind="publish",reason="suspended"}' => 1,
        'compliance_rejections_total{kind="publish",reason="banned"}' => 2,
        'compliance_rejections_total{kind="publish",reason="tier_forbids_publish"}' => 1,
        'compliance_rejections_total{kind="play",reason="banned"}' => 1,
        'compliance_rejections_total{kind="play",reason="suspended"}' => 0,
        'compliance_live_sessions{kind="publish"}' => 2,
        'compliance_live_sessions{kind="play"}' => 1,
        'compliance_orders' => 3,
        'compliance_state_errors_total' => 0,
    );
    is_deeply({ map { $_ => $m->{$_} } keys %want }, \%want,
              'the counters');

    my (undef, undef, $text, $h) = http_json('GET', '/compliance/metrics');
    like($h->{'content-type'}, qr{^text/plain}, 'Prometheus text');
    like($text, qr/^# TYPE compliance_rejections_total counter$/m, 'TYPE');

    # a drop is not a rejection at admission; the live gauges follow
    my $o = order(target => 'host:h1', action => 'suspend', duration => 600,
                  reason => 'w');
    ok(wait_output($p1, 'Rejected suspended'), 'dropped');
    ok(wait_for(sub { metrics()->{'compliance_live_sessions{kind="publish"}'}
                      == 1 }, 3), 'one publisher live');
    ok(wait_for(sub { metrics()->{'compliance_live_sessions{kind="play"}'}
                      == 0 }, 3), 'its player went with it');
    is(metrics()->{'compliance_rejections_total{kind="publish",reason="suspended"}'},
       1, 'drops do not count as refused admissions');

    stop_client($_) for $p1, $p2, $v1;
}



=== TEST 11: with a long compliance_recheck, orders and operator drops still act within a fraction of a second on every worker
--- rtmp_config eval: zone_conf('o11')
--- config eval: (my $c = $::Config) =~ s/compliance_recheck 200ms;/compliance_recheck 30s;/; $c
--- post_check eval
sub {
    my @p = map { publisher("slow$_", sub => "slow$_") } 1 .. 8;
    ok(wait_for(sub { @{sessions()} == 8 }), 'eight publishers live');
    my %workers = map { $_->{worker} => 1 } @{sessions()};
    Test::More::note(scalar(keys %workers) . " workers hold them");

    my $t0 = Time::HiRes::time();
    my $o = order(target => 'op:op1', action => 'suspend', duration => 600,
                  reason => 'fast');
    ok(wait_for(sub { !grep { !client_done($_) } @p }, 5),
       'every publisher is dropped');
    my $dt = Time::HiRes::time() - $t0;
    cmp_ok($dt, '<', 1, sprintf('within 1 s of the POST though the recheck '
                                . 'is 30 s (%.3f s)', $dt));
    ok(!grep({ client_output($_) !~ /Rejected suspended: order $o->{id}: fast/ }
             @p), 'each with the order\'s reason');

    my $q = publisher('slow9', sub => 'other', op => 'op2');
    ok(wait_for(sub { @{sessions()} == 1 }), 'another publisher');
    my ($s) = @{sessions()};
    $t0 = Time::HiRes::time();
    my ($st) = api('DELETE', "sessions/$s->{id}");
    is($st, 202, 'DELETE sessions/ID');
    ok(wait_output($q, 'operator_drop', 5), 'dropped');
    $dt = Time::HiRes::time() - $t0;
    cmp_ok($dt, '<', 1, sprintf('within 1 s (%.3f s)', $dt));
}
--- no_error_log
[alert]
