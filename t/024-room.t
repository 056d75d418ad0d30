# One live publisher per room: a new publish by the verified person of
# the room's live publisher (a reconnect) takes the room over and the old
# session is dropped with "replaced"; anyone else is refused with
# "room_busy"; with compliance_room_takeover off every second publisher
# is.  The audit log has a publish.accept only for streams that went
# live: one refused after the gate admitted it is a publish.reject
# (server_refused).  A full zone refuses with "zone_full".

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();

# each block has an audit log of its own: audit1, audit2, ...

sub audit_dir {
    my ($block) = @_;
    my ($n) = ($block || current_block())->name =~ /^TEST (\d+)/;
    return "audit$n";
}

add_block_preprocessor(sub {
    my ($block) = @_;
    my $zone = $block->zone;
    $zone = undef unless defined $zone && $zone =~ /\S/;
    $zone =~ s/\s+//g if defined $zone;
    $block->set_value(rtmp_config => zone_conf(undef, $zone)
                      . "compliance_audit_log \$TEST_NGINX_SERVROOT/"
                      . audit_dir($block) . ";\n");
});

block_defaults(
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);


# the audit records so far, of EVENT if given

sub records {
    my ($event) = @_;
    my @r;

    for my $f (sort glob "$ENV{TEST_NGINX_SERVROOT}/" . audit_dir() . "/*.jsonl") {
        for my $line (split /\n/, slurp($f)) {
            my $r = eval { JSON::PP::decode_json($line) } or next;
            push @r, $r if !defined $event || $r->{event} eq $event;
        }
    }

    return @r;
}


sub publishers {
    return find_sessions(kind => 'publish', room => $_[0]);
}


# a publisher of ROOM by PERSON, and its session once it is live

sub live_publisher {
    my ($room, $person, $secs) = @_;

    my %known = map { $_->{id} => 1 } publishers($room);
    my $run = publisher($room, pid => $person, duration => 30000);
    my $s;

    wait_for(sub {
        ($s) = grep { !$known{$_->{id}} && $_->{person} eq $person }
               publishers($room);
        $s && grep { $_->{event} eq 'publish.accept'
                     && $_->{session} == $s->{id} } records();
    }, $secs || 10);

    return ($run, $s);
}


run_tests();

__DATA__

=== TEST 1: one worker: the same person publishing again takes the room over; the old session ends "replaced"
--- post_check eval
sub {
    my ($old, $s1) = live_publisher('r1', 'p1');
    ok($s1, 'the first publisher is live');

    my ($new, $s2) = live_publisher('r1', 'p1');
    ok($s2, 'the second publish of the same person is live');

    ok(wait_client($old, 10) // 0, 'the first publisher is closed');
    like(client_output($old),
         qr/status: error NetStream\.Publish\.Rejected replaced: replaced by session $s2->{id}/,
         'and told why: replaced by the new session');

    my @p = publishers('r1');
    is(scalar @p, 1, 'exactly one publisher of the room in GET sessions');
    is($p[0]{id}, $s2->{id}, 'the new one');

    my ($end) = grep { $_->{session} == $s1->{id} } records('session.end');
    is($end->{why}, 'replaced', 'session.end of the old session: replaced');
    is($end->{replaced_by}, $s2->{id}, 'with the new session\'s id');

    like(error_log_text(),
         qr/compliance: session $s1->{id} dropped: replaced, room: "r1", replaced by session $s2->{id}/,
         'the error log says so');
    unlike(error_log_text(), qr/already publishing/,
           'nginx-rtmp never refused the new publish');

    stop_client($new);
}


=== TEST 2: two workers: each reconnect replaces the one before, on whichever worker; exactly one publisher at a time
--- workers: 2
--- post_check eval
sub {
    my (@runs, @ids, %worker);

    for my $i (1 .. 6) {
        my ($run, $s) = live_publisher('r2', 'p2', 15);
        ok($s, "publish $i is live") or last;
        push @runs, $run;
        push @ids, $s->{id};
        $worker{$s->{worker}} = 1;

        ok(wait_for(sub { publishers('r2') == 1 }, 5),
           "one publisher of the room after publish $i");
    }

    Test::More::diag(scalar(keys %worker) . ' worker(s) took the publishes');

    for my $i (0 .. $#runs - 1) {
        ok(defined wait_client($runs[$i], 10), "publisher " . ($i + 1)
                                               . " is closed");
        like(client_output($runs[$i]), qr/Rejected replaced:/,
             "publisher " . ($i + 1) . " was told: replaced");
    }

    my %end = map { $_->{session} => $_ } records('session.end');

    for my $i (0 .. $#ids - 1) {
        is($end{$ids[$i]}{why}, 'replaced', "session $ids[$i] ended replaced");
        is($end{$ids[$i]}{replaced_by}, $ids[$i + 1], 'by the next one');
    }

    my %accept = map { $_->{session} => 1 } records('publish.accept');
    is(scalar(grep { $accept{$_} } @ids), scalar @ids,
       'every publish that went live has its publish.accept');

    stop_client($runs[-1]);
}


=== TEST 3: another person's token for a live room is refused with room_busy; the first stays live
--- workers: 2
--- post_check eval
sub {
    my ($run, $s) = live_publisher('r3', 'p3');
    ok($s, 'the room is live');

    my ($rc, $out) = refused('publish', stream('r3', pid => 'other'));
    isnt($rc, 0, 'the other person is refused');
    like($out, qr/status: error NetStream\.Publish\.Rejected room_busy: room "r3" has a live publisher \(session $s->{id}\), another person/,
         'with room_busy');

    like(error_log_text(), qr/compliance: publish rejected: room_busy: /,
         'the error log says so');

    my @p = publishers('r3');
    is(scalar @p, 1, 'one publisher');
    is($p[0]{id}, $s->{id}, 'still the first');
    ok(!client_done($run), 'the first publisher is still connected');

    my ($rej) = records('publish.reject');
    is($rej->{reason}, 'room_busy', 'publish.reject room_busy in the audit');
    is(scalar(records('publish.accept')), 1, 'one publish.accept');

    stop_client($run);
}


=== TEST 4: compliance_room_takeover off: the same person and another are both refused with room_busy
--- workers: 2
--- config eval: tiers('basic') . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key', 'compliance_recheck 200ms', 'compliance_room_takeover off')
--- post_check eval
sub {
    my ($run, $s) = live_publisher('r4', 'p4');
    ok($s, 'the room is live');

    for my $who ('p4', 'other') {
        my ($rc, $out) = refused('publish', stream('r4', pid => $who));
        isnt($rc, 0, "$who is refused");
        like($out, qr/Rejected room_busy: room "r4" has a live publisher \(session $s->{id}\); compliance_room_takeover is off/,
             "$who: room_busy, take-over off");
    }

    my @p = publishers('r4');
    is(scalar @p, 1, 'one publisher');
    is($p[0]{id}, $s->{id}, 'still the first');
    is(scalar(grep { $_->{reason} eq 'room_busy' } records('publish.reject')),
       2, 'two publish.reject room_busy');

    stop_client($run);
}


=== TEST 5: a publish refused by another module after the gate admitted it is a publish.reject, never a publish.accept
--- config eval: tiers('basic') . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key', 'deny publish all')
--- post_check eval
sub {
    my ($rc, $out) = refused('publish', stream('r5'));
    isnt($rc, 0, 'the publish does not go on');
    like($out, qr/Rejected server_refused: admitted, then refused by another module of the server/,
         'the client is told: server_refused');

    ok(wait_for(sub { records('publish.reject') }, 5), 'a publish.reject');
    my ($rej) = records('publish.reject');
    is($rej->{reason}, 'server_refused', 'its reason: server_refused');
    is(scalar(records('publish.accept')), 0, 'no publish.accept');
    is(scalar(records('session.end')), 0, 'no session.end');
    is(scalar(publishers('r5')), 0, 'no session left in GET sessions');

    my $m = metrics();
    is($m->{'compliance_admissions_total{kind="publish"}'} // 0, 0,
       'not counted as admitted');
    is($m->{'compliance_rejections_total{kind="publish",reason="server_refused"}'},
       1, 'counted as refused');
}
--- error_log eval
qr/compliance: publish rejected: server_refused: admitted, then refused by another module/


=== TEST 6: every publish.accept of a day of reconnects has a live session or a session.end behind it
--- post_check eval
sub {
    my @runs;

    for my $i (1 .. 5) {
        my ($run, $s) = live_publisher('r6', 'p6');
        ok($s, "publish $i is live");
        push @runs, $run;
    }

    stop_client($_) for @runs;
    ok(wait_for(sub { !publishers('r6') }, 10), 'all ended');

    my %end = map { $_->{session} => 1 } records('session.end');
    my @accept = records('publish.accept');
    is(scalar @accept, 5, 'five publish.accept');
    is(scalar(grep { !$end{$_->{session}} } @accept), 0,
       'each has its session.end');
}


=== TEST 7: a full zone refuses a publish with zone_full, naming the zone and its size
--- workers: 2
--- zone: 256k
--- post_check eval
sub {
    my $n = 0;

    for my $i (1 .. 3000) {
        my ($st) = api('POST', 'orders', {
            target => "host:h$i", action => 'suspend', duration => 3600,
            reason => sprintf('%05d', $i) . ('r' x 500) });
        last if $st != 201;
        $n++;
    }

    cmp_ok($n, '>', 50, "$n orders fill the zone");

    my ($rc, $out) = refused('publish', stream('r7'));
    isnt($rc, 0, 'a publish is refused');
    like($out, qr/Rejected zone_full: the compliance zone "comp" \(262144 bytes\) is full; raise its size in compliance_zone/,
         'with zone_full and the zone\'s name and size');

    my ($rc2, $out2) = refused('publish', stream('r7b'));
    like($out2, qr/Rejected zone_full:/, 'and the next one');

    my @crit = error_log_text() =~ /\[crit\] .*compliance: the compliance zone "comp" .* is full.*zone_full/g;
    ok(@crit >= 1 && @crit <= 2,
       'the full zone is logged once a worker, not once a publish ('
       . scalar(@crit) . ')');

    my $m = metrics();
    is($m->{'compliance_rejections_total{kind="publish",reason="zone_full"}'},
       2, 'zone_full counted');
}
