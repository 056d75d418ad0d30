# Tiers (issue 4) with real clients: publish=off, max_duration and
# max_bitrate against live publishers (with controls that stay), viewer
# tokens (missing, wrong room, expired, wrong scope, valid; a player that
# came before the publisher), max_viewers counted over several workers,
# plays of a suspended room, restrict orders that move a live room to a
# tier whose limits then apply, and the inheritance of tiers from rtmp{}
# to server{} to application{}.  Config errors are in t/013; one sanity
# block here.

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use Time::HiRes ();

# tiers at server level, one application under them
block_defaults(
    rtmp_config        => zone_conf(),
    config             => tiers('basic', 'closed publish=off',
                                'short max_duration=2s',
                                'long max_duration=60s',
                                'capped max_bitrate=200k',
                                'few max_viewers=1',
                                'vip viewer_token=on')
                          . live_app(),
    http_server_config => api_location(),
);


# a play token: scope play, the room, exp; the publish-only claims out
sub play_token {
    my ($room, %claims) = @_;

    return token(claims => { scope => 'play', room => $room, sub => 'v1',
                             pid => undef, op => undef, mcn => undef,
                             tier => undef, idv => undef, %claims });
}


# the token with the first character of its signature changed
sub badsig {
    my ($t) = @_;
    $t =~ s/\.(.)([^.]*)\z/'.' . ($1 eq 'A' ? 'B' : 'A') . $2/e;
    return $t;
}


# seconds from the start of the block's clients' Publish.Start to an
# event, from the client's own clock: "closed: ... after_ms=N"
sub after_ms {
    my ($run) = @_;
    my ($ms) = client_output($run) =~ /^closed: by=\w+ after_ms=(\d+)$/m;
    return $ms;
}


run_tests();

__DATA__

=== TEST 1: publish=off refuses with tier_forbids_publish; another tier of the same level is admitted
--- http_server_config
--- publish eval
join "\n",
    "live/room1?token=" . token(claims => { tier => 'closed' }),
    "live/room1?token=" . token(claims => { tier => 'basic' });
--- status
status: error NetStream.Publish.Rejected tier_forbids_publish: tier "closed" may not publish
status: status NetStream.Publish.Start
--- exit_code: 1 0
--- error_log eval
[ qr/\[error\] .*compliance: publish rejected: tier_forbids_publish: tier "closed" may not publish, app: "live", room: "room1"/,
  qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", .*tier: "basic"/ ]


=== TEST 2: max_duration drops a publisher at its limit; publishers under a longer or no limit stay
--- post_check eval
sub {
    my $short = publisher('room1', sub => 'h1', tier => 'short',
                          duration => 10000);
    my $long = publisher('room2', sub => 'h2', tier => 'long',
                         duration => 4000);
    my $none = publisher('room3', sub => 'h3', tier => 'basic',
                         duration => 4000);

    ok(wait_for(sub { find_sessions(kind => 'publish') == 3 }),
       'three publishers live');
    my ($s) = find_sessions(host => 'h1');
    is($s->{tier}, 'short', 'GET sessions shows the tier');

    ok(wait_output($short, qr/^status: error NetStream\.Publish\.Rejected duration_limit: live for [23] s, tier "short" allows 2 s$/m, 6),
       'the publisher of the short tier is dropped with duration_limit');
    like(wait_client($short, 5), qr/^[14]$/,
         'it exits with an error (1 or 4)');
    like(client_output($short), qr/NetStream\.Publish\.Start/,
         'it had started');
    like(client_output($short), qr/^closed: by=server/m,
         'the server closed it');
    my $ms = after_ms($short);
    ok(defined $ms && $ms >= 1000 && $ms <= 3600,
       'dropped 1-3.6 s after the start (max_duration=2s, second '
       . 'resolution, recheck 200ms): ' . ($ms // 'undef') . ' ms');
    ok(wait_log(qr/\[notice\] .*compliance: session $s->{id} dropped: duration_limit, room: "room1", live for [23] s, tier "short" allows 2 s/),
       'the drop is logged');
    ok(wait_for(sub { !find_sessions(host => 'h1') }, 3),
       'the dropped session leaves GET sessions');

    for my $c ([$long, 'long'], [$none, 'basic']) {
        is(wait_client($c->[0], 10), 0,
           "the publisher of tier $c->[1] runs its 4 s");
        unlike(client_output($c->[0]), qr/Rejected/, 'and is not dropped');
        like(client_output($c->[0]), qr/^closed: by=client/m,
             'it closed by itself');
    }
    unlike(error_log_text(), qr/dropped: duration_limit, room: "room[23]"/,
           'no drop of the others is logged');
}


=== TEST 3: max_bitrate drops a publisher above it for 3 s; one under it and one in an unlimited tier stay
--- post_check eval
sub {
    my $heavy = publisher('room1', sub => 'h1', tier => 'capped',
                          duration => 15000, args => ['--bitrate', 800]);
    my $light = publisher('room2', sub => 'h2', tier => 'capped',
                          duration => 7000, args => ['--bitrate', 100]);
    my $free = publisher('room3', sub => 'h3', tier => 'basic',
                         duration => 7000, args => ['--bitrate', 800]);

    ok(wait_for(sub { find_sessions(kind => 'publish') == 3 }),
       'three publishers live');
    my ($s) = find_sessions(host => 'h1');

    ok(wait_output($heavy, qr/^status: error NetStream\.Publish\.Rejected bitrate_limit: \d+ bit\/s for [34] s, tier "capped" allows 200000$/m, 10),
       'the 800 kbit/s publisher of the 200k tier is dropped with '
       . 'bitrate_limit');
    my ($rate) = client_output($heavy) =~ /bitrate_limit: (\d+) bit\/s/;
    ok($rate && $rate > 400_000 && $rate < 2_000_000,
       'the measured rate is about the client\'s 800 kbit/s: '
       . ($rate // 'undef'));
    like(wait_client($heavy, 5), qr/^[14]$/,
         'it exits with an error (1 or 4)');
    my $ms = after_ms($heavy);
    ok(defined $ms && $ms >= 2500 && $ms <= 7000,
       'dropped after about 3 s above the limit: ' . ($ms // 'undef')
       . ' ms');
    ok(wait_log(qr/\[notice\] .*compliance: session $s->{id} dropped: bitrate_limit, room: "room1", \d+ bit\/s for [34] s, tier "capped" allows 200000/),
       'the drop is logged');

    my ($l) = find_sessions(host => 'h2');
    ok($l && $l->{bytes_in} > 0, 'the light publisher sends');

    for my $c ([$light, 'capped, 100 kbit/s'], [$free, 'basic, 800 kbit/s']) {
        is(wait_client($c->[0], 12), 0, "the publisher ($c->[1]) runs its "
                                        . '7 s');
        unlike(client_output($c->[0]), qr/Rejected/, 'and is not dropped');
    }
    unlike(error_log_text(), qr/dropped: bitrate_limit, room: "room[23]"/,
           'no drop of the others is logged');
}


=== TEST 4: viewer_token=on: plays need a play token for the room
--- post_check eval
sub {
    my $now = time;
    my %tok = (
        good    => play_token('room1'),
        early   => play_token('room1', sub => 'early-viewer'),
        free    => play_token('room2', sub => 'free-viewer'),
        other   => play_token('room2'),
        expired => play_token('room1', iat => $now - 600, exp => $now - 300),
        publish => token(claims => { room => 'room1', tier => 'vip' }),
        badsig  => badsig(play_token('room1')),
    );

    # a player without a token and one with a token come before the
    # publisher: both admitted (no live tier yet)
    my $early = player('room1', 20000);
    my $early_tok = player("room1?token=$tok{early}", 20000);
    ok(wait_output($early, 'status: status NetStream.Play.Start'),
       'a tokenless player of a room without a publisher is admitted');
    ok(wait_output($early_tok, 'status: status NetStream.Play.Start'),
       'a player with a token too');

    my $pub = publisher('room1', tier => 'vip');
    my $other = publisher('room2', sub => 'h2', tier => 'basic');
    ok(wait_output($pub, 'NetStream.Publish.Start'), 'the vip room is live');
    ok(wait_output($other, 'NetStream.Publish.Start'),
       'the basic room is live');

    ok(wait_output($early, qr/^status: error NetStream\.Play\.Rejected viewer_token_required: tier "vip" of the room needs a play token$/m, 3),
       'the early tokenless player is dropped at the next recheck');
    ok(wait_log(qr/compliance: session \d+ dropped: viewer_token_required, room: "room1"/),
       'its drop is logged');
    like(wait_client($early, 5), qr/^[14]$/,
         'it exits with an error (1 or 4)');
    like(client_output($early), qr/^closed: by=server/m,
         'the server closed it');

    # new plays
    my ($rc, $out) = refused('play', 'live/room1');
    is($rc, 1, 'a play without a token is refused');
    like($out, qr/^status: error NetStream\.Play\.Rejected viewer_token_required: tier "vip" of the room needs a play token$/m,
         'viewer_token_required');
    unlike($out, qr/Play\.Start/, 'never started');
    ok(wait_log(qr/\[info\] .*compliance: play rejected: viewer_token_required: tier "vip" of the room needs a play token, app: "live", room: "room1"/),
       'logged at [info]');
    unlike(error_log_text(), qr/\[error\] .*viewer_token_required/,
           'and not at [error]');

    my %want = (
        other   => qr/room_mismatch: token is for another room/,
        expired => qr/token_expired: /,
        publish => qr/token_scope: /,
        badsig  => qr/token_signature: /,
    );
    for my $k (sort keys %want) {
        ($rc, $out) = refused('play', "live/room1?token=$tok{$k}");
        is($rc, 1, "a play with the $k token is refused");
        like($out, qr/^status: error NetStream\.Play\.Rejected $want{$k}/m,
             "the $k token: $want{$k}");
        unlike($out, qr/Play\.Start/, 'never started');
    }
    like(error_log_text(), qr/\[error\] .*compliance: play rejected: room_mismatch: token is for another room, app: "live", room: "room1"/,
         'room_mismatch is logged at [error]');
    like(error_log_text(), qr/\[error\] .*compliance: play rejected: token_expired: .*room: "room1"/,
         'token_expired is logged at [error]');
    for my $k (qw(other expired publish badsig)) {
        unlike(error_log_text(), qr/\Q$tok{$k}\E/,
               "the $k play token does not reach the log");
    }

    # valid tokens, in the stream name or the connect URL
    my $ok = player("room1?token=$tok{good}", 1500);
    my $via_connect = player("live?token=$tok{good}/room1", 1500);
    for my $run ($ok, $via_connect) {
        is(wait_client($run, 10), 0, 'a play with a valid token runs');
        like(client_output($run), qr/^status: status NetStream\.Play\.Start/m,
             'Play.Start');
        like(client_output($run), qr/^media: audio=[1-9]\d* video=[1-9]/m,
             'and gets media');
    }

    # a room whose tier does not ask for tokens
    my $free = player('room2', 1500);
    is(wait_client($free, 10), 0, 'a tokenless play of the basic room runs');
    unlike(client_output($free), qr/Rejected/, 'not refused');
    my $free_tok = player("room2?token=$tok{free}", 1500);
    is(wait_client($free_tok, 10), 0,
       'a play of the basic room with a play token runs');
    unlike(error_log_text(), qr/\Q$tok{good}\E/,
           'the valid play token of the vip room does not reach the log');

    # a play token given where no viewer_token=on publisher is live is
    # still a credential
    {
        unlike(error_log_text(), qr/\Q$tok{early}\E/,
               'the play token of a player that came before the publisher '
               . 'does not reach the log');
        unlike(error_log_text(), qr/\Q$tok{free}\E/,
               'the play token of a player of a viewer_token=off room does '
               . 'not reach the log');
    }

    # the early player with a valid token is not dropped
    {
        ok(!client_done($early_tok) && client_output($early_tok) !~ /Rejected/,
           'the early player with a valid play token stays once the vip '
           . 'publisher is live')
            or diag(client_output($early_tok));
    }

    stop_client($_) for $pub, $other, $early_tok;
}


=== TEST 5: max_viewers is counted over all workers; one more player is refused on any worker
--- workers: 4
--- config eval: tiers('basic', 'capped max_viewers=6') . live_app()
--- post_check eval
sub {
    my $pub = publisher('room1', sub => 'h1', tier => 'capped');
    my $pub2 = publisher('room2', sub => 'h2', tier => 'capped');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 2 }),
       'two capped rooms are live');

    # all at once, so that the workers share them
    my @pl = map { player('room1') } 1 .. 6;
    my @pl2 = map { player('room2') } 1 .. 2;

    ok(wait_for(sub { find_sessions(kind => 'play', room => 'room1') == 6
                      && find_sessions(kind => 'play', room => 'room2') == 2 },
                15),
       'six players of room1 and two of room2 are registered');

    my %w = map { $_->{worker} => 1 }
            find_sessions(kind => 'play', room => 'room1');
    my %workers = map { $_ => 1 } worker_pids();
    is(scalar(keys %workers), 4, 'four workers');
    cmp_ok(scalar(keys %w), '>=', 2,
           'the players of room1 are on several workers: '
           . join(' ', sort keys %w));
    ok(!grep({ !$workers{$_} } keys %w), 'each names a running worker');

    for my $run (@pl, @pl2) {
        ok(wait_output($run, 'status: status NetStream.Play.Start'),
           'an admitted player gets Play.Start (on any worker)');
    }

    my ($p) = find_sessions(host => 'h1');
    is($p->{viewers}, 6, 'the publisher has 6 viewers');
    my ($p2) = find_sessions(host => 'h2');
    is($p2->{viewers}, 2, 'the other room counts its own');

    # the 7th, 8th, ... at once: each refused, whichever worker takes it
    my @extra = map { player('room1', 3000) } 1 .. 4;
    for my $run (@extra) {
        is(wait_client($run, 15), 1, 'one more player is refused');
        like(client_output($run), qr/^status: error NetStream\.Play\.Rejected viewer_limit: tier "capped" allows 6 viewers and the room has them$/m,
             'with viewer_limit');
        unlike(client_output($run), qr/Play\.Start/, 'never started');
    }
    my @pids = error_log_text()
        =~ /\] (\d+)#\d+: \*\d+ compliance: play rejected: viewer_limit: tier "capped" allows 6 viewers and the room has them, app: "live", room: "room1"/g;
    is(scalar @pids, 4, 'each refusal is logged at [error]');
    my %rw = map { $_ => 1 } @pids;
    Test::More::note('refused by workers ' . join ' ', sort keys %rw);

    ok(!grep({ client_done($_) } @pl, @pl2), 'no admitted player was dropped');
    is(scalar(find_sessions(kind => 'play', room => 'room1')), 6,
       'still six players');

    # room2 has room left
    my $r2 = player('room2', 1000);
    is(wait_client($r2, 10), 0, 'a third player of room2 is admitted');

    # one leaves: a place is free, on all workers
    stop_client($pl[0]);
    ok(wait_for(sub { my ($x) = find_sessions(host => 'h1');
                      $x && $x->{viewers} == 5 }, 5),
       'a player leaves: 5 viewers');
    my $again = player('room1');
    ok(wait_output($again, 'status: status NetStream.Play.Start'),
       'a new player takes the free place');
    ok(wait_for(sub { my ($x) = find_sessions(host => 'h1');
                      $x && $x->{viewers} == 6 }, 5),
       '6 viewers again');
    my ($rc, $out) = refused('play', 'live/room1');
    is($rc, 1, 'and the next one is refused again');
    like($out, qr/viewer_limit/, 'viewer_limit');

    stop_client($_) for $pub, $pub2, @pl, @pl2, $again;
}
--- no_error_log
dropped


=== TEST 6: plays of a room with a suspend order are refused with suspended
--- post_check eval
sub {
    my $o = order(target => 'room:room1', action => 'suspend',
                  duration => 600, reason => 'closed for review',
                  ref => 'R-1');
    my ($rc, $out) = refused('play', 'live/room1');
    is($rc, 1, 'a play of the suspended room is refused');
    like($out, qr/^status: error NetStream\.Play\.Rejected suspended: suspended until $o->{until}, order $o->{id}: closed for review \(ref R-1\)$/m,
         'suspended, with the order');
    ok(wait_log(qr/\[error\] .*compliance: play rejected: suspended: suspended until $o->{until}, order $o->{id}: closed for review \(ref R-1\), app: "live", room: "room1"/),
       'logged');

    my $ok = player('room2', 1000);
    is(wait_client($ok, 10), 0, 'a play of another room runs');
}


=== TEST 7: restrict orders move a live room to another tier, whose limits then apply
--- config
compliance_tier basic;
compliance_tier short4 max_duration=4s;
compliance_tier capped max_bitrate=200k;
compliance_tier few max_viewers=1;
compliance_tier vip viewer_token=on;
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
    compliance_recheck 200ms;
}
--- post_check eval
sub {
    my %pub = (
        dur  => publisher('rdur', sub => 'hdur', duration => 15000),
        rate => publisher('rrate', sub => 'hrate', duration => 15000,
                          args => ['--bitrate', 800]),
        few  => publisher('rfew', sub => 'hfew', duration => 15000),
        vip  => publisher('rvip', sub => 'hvip', duration => 15000),
    );
    ok(wait_for(sub { find_sessions(kind => 'publish', tier => 'basic')
                      == 4 }),
       'four basic rooms are live');
    my $t0 = Time::HiRes::time();
    my $viewer = player('rvip', 15000);
    my $fan = player('rfew', 15000);
    ok(wait_for(sub { find_sessions(kind => 'play') == 2 }),
       'a player in two of them');

    my %o;
    $o{dur} = order(target => 'room:rdur', action => 'restrict',
                    tier => 'short4', duration => 600, reason => 'probation',
                    ref => 'T-1');
    $o{rate} = order(target => 'host:hrate', action => 'restrict',
                     tier => 'capped', duration => 600,
                     reason => 'bandwidth', ref => 'T-2');
    $o{few} = order(target => 'room:rfew', action => 'restrict',
                    tier => 'few', duration => 600, reason => 'audience cap',
                    ref => 'T-3');
    $o{vip} = order(target => 'room:rvip', action => 'restrict',
                    tier => 'vip', duration => 600, reason => 'tokens',
                    ref => 'T-4');

    ok(wait_for(sub {
        my %t = map { $_->{room} => $_->{tier} }
                find_sessions(kind => 'publish');
        ($t{rdur} // '') eq 'short4' && ($t{rrate} // '') eq 'capped'
            && ($t{rfew} // '') eq 'few' && ($t{rvip} // '') eq 'vip';
    }, 2), 'GET sessions shows the tiers of the restrictions');
    for my $k (qw(dur rate few vip)) {
        ok(wait_log(qr/compliance: session \d+ restricted to tier "\w+" by order $o{$k}{id}/, 3),
           "the restriction of $k is logged");
    }

    # max_duration of the new tier
    ok(wait_output($pub{dur}, qr/^status: error NetStream\.Publish\.Rejected duration_limit: live for [45] s, tier "short4" allows 4 s$/m, 8),
       'the room restricted to short4 is dropped at 4 s with duration_limit');
    ok(wait_log(qr/session \d+ dropped: duration_limit, room: "rdur"/),
       'logged');

    # max_bitrate of the new tier
    ok(wait_output($pub{rate}, qr/^status: error NetStream\.Publish\.Rejected bitrate_limit: \d+ bit\/s for [34] s, tier "capped" allows 200000$/m, 8),
       'the 800 kbit/s room restricted to capped is dropped with '
       . 'bitrate_limit');
    ok(wait_log(qr/session \d+ dropped: bitrate_limit, room: "rrate"/),
       'logged');

    # viewer_token of the new tier: the tokenless player goes
    ok(wait_output($viewer, qr/^status: error NetStream\.Play\.Rejected viewer_token_required: tier "vip" of the room needs a play token$/m, 3),
       'the tokenless player of the room restricted to vip is dropped');
    my ($rc, $out) = refused('play', 'live/rvip');
    like($out, qr/Play\.Rejected viewer_token_required/,
         'new tokenless plays of it are refused');
    my $tp = player('rvip?token=' . play_token('rvip'), 1000);
    is(wait_client($tp, 10), 0, 'a play with a token is admitted');

    # max_viewers of the new tier: the one player stays, a second is refused
    ($rc, $out) = refused('play', 'live/rfew');
    is($rc, 1, 'a second player of the room restricted to few is refused');
    like($out, qr/^status: error NetStream\.Play\.Rejected viewer_limit: tier "few" allows 1 viewers and the room has them$/m,
         'viewer_limit of the new tier');
    ok(!client_done($fan), 'the player already there stays');

    ok(!client_done($pub{few}) && !client_done($pub{vip}),
       'rooms restricted to tiers without time or rate limits stay live');

    stop_client($_) for values %pub, $fan;
}


=== TEST 8: tiers declared at rtmp{} level apply to an application; an application with its own tiers sees only those
--- rtmp_config
compliance_zone comp 16m;
compliance_tier basic;
compliance_tier short max_duration=2s;
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
    compliance_recheck 200ms;
}
application own {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
    compliance_recheck 200ms;
    compliance_tier mine max_viewers=1;
}
--- post_check eval
sub {
    my $short = publisher('room1', tier => 'short', duration => 10000);
    my $mine = publisher('own/room2', tier => 'mine',
                         duration => 10000);

    ok(wait_output($short, qr/^status: error NetStream\.Publish\.Rejected duration_limit: live for [23] s, tier "short" allows 2 s$/m, 6),
       'the rtmp-level tier "short" limits a publisher of "live"');

    ok(wait_output($mine, 'status: status NetStream.Publish.Start'),
       'the application tier "mine" admits a publisher of "own"');
    my $fan = player('own/room2', 10000);
    ok(wait_output($fan, 'status: status NetStream.Play.Start'),
       'its first player is admitted');
    my ($rc, $out) = refused('play', 'own/room2');
    like($out, qr/Play\.Rejected viewer_limit: tier "mine" allows 1 viewers/,
         'its own tier limits the players');

    ($rc, $out) = refused('publish', stream('own/room3',
                                                tier => 'short'));
    is($rc, 1, 'an rtmp-level tier is unknown in "own"');
    like($out, qr/Publish\.Rejected tier_unknown: tier "short" is not configured/,
         'tier_unknown');
    ($rc, $out) = refused('publish', stream('own/room3',
                                                tier => 'basic'));
    like($out, qr/Publish\.Rejected tier_unknown: tier "basic"/,
         'so is "basic"');
    ($rc, $out) = refused('publish', stream('live/room4',
                                                tier => 'mine'));
    like($out, qr/Publish\.Rejected tier_unknown: tier "mine"/,
         '"mine" is unknown in "live"');

    my $basic = publisher('room5', tier => 'basic', duration => 1000);
    is(wait_client($basic, 10), 0, '"live" publishes under "basic"');

    stop_client($_) for $mine, $fan;
}


=== TEST 9: server{} tiers shadow rtmp{} tiers; an application's own tiers shadow the server's, names may repeat across levels
--- rtmp_config
compliance_zone comp 16m;
compliance_tier rtmponly;
compliance_tier basic max_duration=2s;
--- config
compliance_tier basic;
compliance_tier srv max_viewers=1;
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_recheck 200ms;
compliance on;
application live {
    live on;
}
application own {
    live on;
    compliance_tier basic max_duration=2s;
}
--- post_check eval
sub {
    my $live = publisher('room1', tier => 'basic', duration => 4000);
    my $own = publisher('own/room2', tier => 'basic',
                        duration => 10000);
    my $srv = publisher('room3', tier => 'srv', duration => 10000);

    ok(wait_output($own, qr/^status: error NetStream\.Publish\.Rejected duration_limit: live for [23] s, tier "basic" allows 2 s$/m, 6),
       '"own" uses its own "basic" (max_duration=2s)');
    is(wait_client($live, 10), 0,
       '"live" uses the server\'s "basic" (no limit), not the rtmp one');
    unlike(client_output($live), qr/Rejected/, 'not dropped');

    ok(wait_output($srv, 'status: status NetStream.Publish.Start'),
       'the server tier "srv" applies to "live"');
    my $fan = player('room3', 10000);
    ok(wait_output($fan, 'status: status NetStream.Play.Start'),
       'a first player');
    my ($rc, $out) = refused('play', 'live/room3');
    like($out, qr/Play\.Rejected viewer_limit: tier "srv" allows 1 viewers/,
         'the limits of "srv" apply');

    ($rc, $out) = refused('publish', stream('live/room4',
                                                tier => 'rtmponly'));
    like($out, qr/Publish\.Rejected tier_unknown: tier "rtmponly"/,
         'an rtmp-level tier is not seen under a server with tiers');
    ($rc, $out) = refused('publish', stream('own/room4',
                                                tier => 'srv'));
    like($out, qr/Publish\.Rejected tier_unknown: tier "srv"/,
         'a server tier is not seen by an application with its own');

    stop_client($_) for $srv, $fan;
}


=== TEST 10: a tier declared twice at rtmp{} level is refused with its file and line
--- rtmp_config
compliance_tier basic;
compliance_tier basic max_viewers=5;
--- config eval: live_app('compliance_key $TEST_NGINX_KEYS/hs256.key')
--- http_server_config
--- must_die
--- error_log eval
qr/duplicate tier "basic".* in \S+nginx\.conf:\d+/
