# Orders persist in the compliance_state journal: they survive a restart
# and a crash (SIGKILL of the master and the workers), a reload keeps the
# zone (orders and live sessions), a torn last record is ignored, corrupt
# lines are skipped (and the file kept as PATH.corrupt.TIME), expired
# orders are not loaded, and order ids keep increasing.

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();
use Time::HiRes ();
use POSIX ();

block_defaults(
    config             => tiers('basic', 'low') . live_app(),
    http_server_config => api_location(),
);


sub orders {
    my ($st, $json) = api('GET', 'orders');
    return $st == 200 && ref $json eq 'ARRAY' ? $json : undef;
}


# orders without their "uid" (made at load for records written without
# one, as the hand-written journals here are)

sub sans_uid {
    my ($list) = @_;
    return [map { my %o = %$_; delete $o{uid}; \%o } @{$list || []}];
}


sub state_path {
    my ($name) = @_;
    return "$ENV{TEST_NGINX_SERVROOT}/$name.jsonl";
}


# the journal as records

sub journal {
    my ($path) = @_;
    my $text = slurp($path);
    return undef unless defined $text;
    return [map { JSON::PP->new->decode($_) } split /\n/, $text];
}


sub json_line {
    return JSON::PP->new->canonical(1)->encode($_[0]) . "\n";
}


run_tests();

__DATA__

=== TEST 1: orders survive a restart; lifted ones do not come back; ids keep increasing
--- workers: 2
--- rtmp_config eval: zone_conf('p1')
--- post_check eval
sub {
    my $path = state_path('p1');
    is_deeply(journal($path), [{ op => 'next', id => 1 }],
              'a fresh state file: {"op":"next","id":1}');

    my @o = (
        order(target => 'host:h1', action => 'suspend', duration => 3600,
              reason => 'misleading claims', ref => 'SAMR-2026-0042'),
        order(target => 'person:p9', action => 'ban', reason => 'fraud'),
        order(target => 'op:shop', action => 'warn',
              until => time + 7200, reason => 'labels', ref => 'W'),
        order(target => 'room:r5', action => 'restrict', duration => 600,
              tier => 'low', reason => 'probation', ref => 'R'),
        order(target => 'mcn:m1', action => 'suspend', duration => 60,
              reason => 'to be lifted'),
    );
    is_deeply([map { $_->{id} } @o], [1 .. 5], 'ids 1 to 5');

    my ($st) = api('DELETE', 'orders/5');
    is($st, 204, 'order 5 lifted');

    my $j = journal($path);
    is_deeply([map { $_->{op} } @$j],
              [qw(next create create create create create lift)],
              'each change is journalled as it is acknowledged');
    is_deeply($j->[1]{order}, $o[0], 'a create record is the stored order');
    is_deeply($j->[6], { op => 'lift', id => 5 }, 'the lift record');

    my $before = orders();
    is(scalar @$before, 4, 'four orders in force');

    ok(restart_nginx(), 'restart (stop and start)');
    is_deeply(orders(), $before, 'the orders are back, field for field');
    ($st) = api('GET', 'orders/5');
    is($st, 404, 'the lifted order stays lifted');
    like(error_log_text(),
         qr/compliance_state: 4 orders in force loaded from ".*p1\.jsonl"\n/,
         'the load is logged');

    $j = journal($path);
    is_deeply($j->[0], { op => 'next', id => 6 },
              'the compacted journal starts with the next id');
    is_deeply([map { $_->{order}{id} } @$j[1 .. $#$j]], [1 .. 4],
              'and holds the orders in force only');

    my ($rc, $out) = once('publish', stream('room1', sub => 'h1'));
    is($rc, 1, 'a loaded suspension refuses its host');
    like($out, qr/suspended: suspended until $o[0]{until}, order 1: misleading claims \(ref SAMR-2026-0042\)/,
         'with the same order');
    ($rc, $out) = once('publish', stream('room2', sub => 'x', pid => 'p9'));
    like($out, qr/banned: banned, order 2: fraud/, 'a loaded ban refuses');

    my $n = order(target => 'host:h6', action => 'ban', reason => 'after');
    is($n->{id}, 6, 'the next order gets id 6, after the lifted 5');

    # the newest order is lifted: its id is not given out again
    ($st) = api('DELETE', 'orders/6');
    is($st, 204, 'order 6 lifted');
    ok(restart_nginx(), 'second restart');
    $n = order(target => 'host:h7', action => 'ban', reason => 'later');
    is($n->{id}, 7, 'id 7: ids never go back, even when the newest was lifted');
    is(scalar @{orders()}, 5, 'five orders in force');
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/


=== TEST 2: a crash (SIGKILL of the master and its workers) loses no acknowledged order
--- workers: 2
--- rtmp_config eval: zone_conf('p2')
--- post_check eval
sub {
    my $pub = publisher('room1', sub => 'h1');
    ok(wait_sessions(1), 'a publisher is live');

    my @o;
    for my $i (1 .. 20) {
        push @o, order(target => "host:k$i",
                       action => $i % 2 ? 'suspend' : 'ban',
                       ($i % 2 ? (duration => 3600) : ()),
                       reason => "crash $i");
    }
    my ($st) = api('DELETE', 'orders/3');
    is($st, 204, 'order 3 lifted');
    my $last = order(target => 'host:h1', action => 'ban',
                     reason => 'the very last');

    # at once after the last acknowledgement
    ok(kill_nginx(), 'master and workers killed with SIGKILL');
    # 4: the server went away; 1: the last ban dropped it just before
    like(wait_client($pub, 5), qr/^[14]$/,
         'the publisher lost its server (or was dropped by the last ban)');

    ok(start_nginx(), 'a fresh start');
    my $list = orders();
    is_deeply([map { $_->{id} } @$list], [1, 2, 4 .. 21],
              'every acknowledged order is there, the lifted one is not');
    my ($one) = grep { $_->{id} == 21 } @$list;
    is_deeply($one, $last, 'the last order, whole');
    my (undef, $s) = api('GET', 'sessions');
    is_deeply($s, [], 'no sessions of the killed workers');

    my ($rc, $out) = once('publish', stream('room1', sub => 'h1'));
    like($out, qr/banned: banned, order 21: the very last/,
         'the order acknowledged just before the crash is in force');

    my $n = order(target => 'host:z', action => 'ban', reason => 'z');
    is($n->{id}, 22, 'ids continue after the crash');
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/


=== TEST 3: a reload keeps orders and live sessions; an order after it drops a session from before it
--- workers: 2
--- rtmp_config eval: zone_conf('p3')
--- post_check eval
sub {
    my $path = state_path('p3');
    my $pub = publisher('room1', sub => 'h1');
    my $pl = player('room1');
    ok(wait_sessions(2), 'a publisher and a player');
    my (undef, $before) = api('GET', 'sessions');

    my $o = order(target => 'host:h9', action => 'suspend', duration => 3600,
                  reason => 'before the reload');
    my $journal = slurp($path);
    my $loads = () = error_log_text() =~ /orders in force loaded/g;

    my @old = worker_pids();
    ok(reload_nginx(), 'reload');
    my @new = worker_pids();
    my %old = map { $_ => 1 } @old;
    ok(!grep({ $old{$_} } @new), 'new workers');

    is_deeply(orders(), [$o], 'the order is still in force');
    my (undef, $after) = api('GET', 'sessions');
    is_deeply([map { $_->{id} } @$after], [map { $_->{id} } @$before],
              'the live sessions are still listed');
    ok(!grep({ !$old{$_->{worker}} } @$after),
       'held by the old workers');
    # a worker that held no session may leave at once; those that hold
    # one must stay
    my %holding = map { $_->{worker} => 1 } @$after;
    is(scalar(grep { kill 0, $_ } keys %holding), scalar keys %holding,
       'which keep running for them');
    is(slurp($path), $journal, 'a reload does not rewrite the journal');
    my $loads_now = () = error_log_text() =~ /orders in force loaded/g;
    is($loads_now, $loads, 'nor load it again');

    my ($rc, $out) = once('publish', stream('room9', sub => 'h9'));
    like($out, qr/suspended: suspended until \d+, order $o->{id}: before the reload/,
         'the order refuses on the new workers');

    my $n = order(target => 'host:h1', action => 'ban',
                  reason => 'after the reload');
    is($n->{id}, $o->{id} + 1, 'the next id');
    ok(wait_for(sub { index(client_output($pub),
                            "banned: order $n->{id}: after the reload") >= 0 },
                3),
       'the publisher from before the reload is dropped by an order made '
       . 'after it');
    ok(wait_for(sub { client_output($pl) =~ /Play\.Rejected banned/ }, 3),
       'its player too');
    ok(wait_sessions(0, 5),
       'no sessions left');
    ok(wait_for(sub { !grep { kill 0, $_ } @old }, 10),
       'the old workers exit once their sessions are gone');

    my $p2 = publisher('room2', sub => 'h2');
    ok(wait_sessions(1), 'a publisher on a new worker');
    ok(reload_nginx(), 'second reload');
    my $d = order(target => 'host:h2', action => 'suspend', duration => 60,
                  reason => 'second');
    ok(wait_for(sub { client_done($p2) }, 3), 'dropped as well');
    like(client_output($p2), qr/suspended: order $d->{id}: second/,
         'by the order');
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/


=== TEST 4: a torn last record is ignored, the rest is loaded
--- rtmp_config eval: zone_conf('p4')
--- post_check eval
sub {
    my $path = state_path('p4');
    my $now = time;
    my @orders = (
        { id => 1, target => 'host:a', action => 'ban', created => $now - 50,
          until => undef, reason => 'one', ref => 'R1' },
        { id => 2, target => 'room:b', action => 'suspend',
          created => $now - 40, until => $now + 3600, reason => 'two',
          ref => '' },
        { id => 3, target => 'person:c', action => 'restrict',
          created => $now - 30, until => $now + 3600, reason => 'three',
          ref => 'R3', tier => 'low' },
    );
    my $text = json_line({ op => 'next', id => 1 })
               . join '', map { json_line({ op => 'create', order => $_ }) }
                          @orders;
    my $torn = '{"op":"create","order":{"id":4,"target":"host:d","act';

    ok(stop_nginx(), 'stop');
    spew($path, $text . $torn);
    ok(start_nginx(), 'start with a torn last record');

    like(error_log_text(),
         qr/\[warn\] .*compliance_state: ".*p4\.jsonl" ends with a partial record of ${\ length $torn} bytes, ignored/,
         'a warning names the partial record');
    is_deeply(sans_uid(orders()), \@orders, 'the complete records are loaded');
    my ($st) = api('GET', 'orders/4');
    is($st, 404, 'the torn order is not');
    my @corrupt = glob("$path.corrupt.*");
    is(scalar @corrupt, 0, 'a torn record is no corruption: no copy kept');
    unlike(error_log_text(), qr/\[error\]/, 'no error');

    my $j = journal($path);
    ok($j, 'the compacted journal is valid JSON lines');
    is_deeply(sans_uid([map { $_->{order} } @$j[1 .. $#$j]]), \@orders,
              'it holds the loaded orders');
    unlike(slurp($path), qr/"order":\{"id":4,/, 'and not the torn one');

    my $n = order(target => 'host:e', action => 'ban', reason => 'next');
    is($n->{id}, 4, 'the torn id, never acknowledged, is given out');
    my (undef, undef, $m) = api('GET', 'metrics');
    like($m, qr/^compliance_state_errors_total 0$/m, 'no state errors');
}


=== TEST 5: corrupt lines are skipped with an error and the file is kept as PATH.corrupt.TIME
--- rtmp_config eval: zone_conf('p5')
--- post_check eval
sub {
    my $path = state_path('p5');
    my $now = time;
    my $o1 = { id => 1, target => 'host:a', action => 'ban',
               created => $now, until => undef, reason => 'one', ref => '' };
    my $o5 = { id => 5, target => 'host:e', action => 'suspend',
               created => $now, until => $now + 3600, reason => 'five',
               ref => 'R5' };
    my $text = json_line({ op => 'next', id => 1 })
             . json_line({ op => 'create', order => $o1 })
             . "this is not json\n"
             . '{"op":"create","order":{"id":2,"target":"host:b",'
               . '"action":"explode","created":1,"until":null,'
               . '"reason":"bad action","ref":""}}' . "\n"
             . '{"op":"create","order":{"id":3,"target":"host:c",'
               . '"action":"ban","until":null,"reason":"r","ref":"",'
               . '"colour":"red"}}' . "\n"
             . '{"op":"lift","id":"x"}' . "\n"
             . '{"op":"frobnicate","id":4}' . "\n"
             . json_line({ op => 'create', order => $o5 });
    my @bad = (3, 4, 5, 6, 7);

    ok(stop_nginx(), 'stop');
    unlink glob("$path.corrupt.*");
    spew($path, $text);
    my $t0 = time;
    ok(start_nginx(), 'start with corrupt lines');
    my $t1 = time;

    for my $line (@bad) {
        like(error_log_text(),
             qr/\[error\] .*compliance_state: ".*p5\.jsonl" line $line is not a valid record, skipped/,
             "line $line is reported");
    }
    unlike(error_log_text(), qr/line [128] is not a valid record/,
           'the good lines are not');
    like(error_log_text(),
         qr/compliance_state: 2 orders in force loaded from ".*p5\.jsonl", with errors/,
         'the load says it had errors');

    my @corrupt = glob("$path.corrupt.*");
    is(scalar @corrupt, 1, 'one copy is kept');
    my ($stamp) = ($corrupt[0] || '') =~ /\.corrupt\.(\d+)$/;
    ok($stamp && $stamp >= $t0 - 1 && $stamp <= $t1 + 1,
       'named PATH.corrupt.TIME');
    is(slurp($corrupt[0]), $text, 'the copy is the file as it was');
    like(error_log_text(),
         qr/compliance_state: a copy of ".*p5\.jsonl" is kept as ".*p5\.jsonl\.corrupt\.\d+"/,
         'the copy is logged');

    is_deeply(sans_uid(orders()), [$o1, $o5], 'the valid records are loaded');
    my (undef, undef, $m) = api('GET', 'metrics');
    like($m, qr/^compliance_state_errors_total ${\ scalar @bad}$/m,
         'compliance_state_errors_total counts the bad lines');

    my $j = journal($path);
    ok($j, 'the compacted journal is valid');
    is_deeply([map { $_->{order}{id} } @$j[1 .. $#$j]], [1, 5],
              'with the loaded orders');

    my $n = order(target => 'host:f', action => 'ban', reason => 'six');
    is($n->{id}, 6, 'ids continue after the highest loaded');

    # the next start is clean: no new copy, no error
    ok(restart_nginx(), 'restart');
    is(scalar(() = glob("$path.corrupt.*")), 1, 'no new copy');
    is_deeply([map { $_->{id} } @{orders()}], [1, 5, 6], 'all three');
}


=== TEST 6: expired orders are not loaded; their ids are not given out again
--- rtmp_config eval: zone_conf('p6')
--- post_check eval
sub {
    my $path = state_path('p6');

    # an order that expires while nginx is down
    my $short = order(target => 'host:s', action => 'suspend',
                      duration => 2, reason => 'short');
    my $long = order(target => 'host:l', action => 'suspend',
                     duration => 3600, reason => 'long');
    ok(stop_nginx(), 'stop');
    ok(wait_for(sub { time > $short->{until} }, 5), 'the short one expires');

    # and one written as already expired, with the highest id
    my $j = journal($path);
    my $now = time;
    spew($path, slurp($path) . json_line({ op => 'create',
        order => { id => 9, target => 'host:x', action => 'warn',
                   created => $now - 100, until => $now - 10,
                   reason => 'old', ref => '' } }));

    ok(start_nginx(), 'start');
    is_deeply(orders(), [$long], 'only the order in force is loaded');
    my ($st) = api('GET', "orders/$short->{id}");
    is($st, 404, 'the expired order is gone');
    ($st) = api('GET', 'orders/9');
    is($st, 404, 'so is the one written expired');
    unlike(slurp($path), qr/"id":(9|$short->{id}),/,
           'the compacted journal drops them');
    my (undef, undef, $m) = api('GET', 'metrics');
    like($m, qr/^compliance_orders 1$/m, 'compliance_orders 1');
    like($m, qr/^compliance_state_errors_total 0$/m,
         'an expired order is no error');

    my ($rc) = once('publish', stream('room1', sub => 's'));
    is($rc, 0, 'the host of the expired order publishes');

    my $n = order(target => 'host:n', action => 'ban', reason => 'n');
    is($n->{id}, 10, 'the next id is above the expired ones');
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/


=== TEST 7: the journal's next id is honoured; a missing state file is created
--- rtmp_config eval: zone_conf('p7')
--- post_check eval
sub {
    my $path = state_path('p7');
    ok(stop_nginx(), 'stop');
    spew($path, json_line({ op => 'next', id => 100 }));
    ok(start_nginx(), 'start');
    my $n = order(target => 'host:a', action => 'ban', reason => 'a');
    is($n->{id}, 100, 'the first order gets the id the journal gives');

    ok(stop_nginx(), 'stop');
    unlink $path;
    ok(start_nginx(), 'start without a state file');
    ok(-f $path, 'the state file is created');
    is_deeply(journal($path), [{ op => 'next', id => 1 }], 'empty journal');
    is_deeply(orders(), [], 'no orders');
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/


=== TEST 8: a state file in a missing directory stops the start
--- rtmp_config
compliance_zone comp 16m;
compliance_state $TEST_NGINX_SERVROOT/no/such/dir/state.jsonl;
--- http_server_config
--- must_die
--- error_log eval
qr/compliance_state: .*no\/such\/dir\/state\.jsonl.* failed/


=== TEST 9: a write cut short by a full disk does not swallow the next record
--- rtmp_config eval: zone_conf('p9')
--- post_check eval
sub {
    my $fs = "$ENV{TEST_NGINX_SERVROOT}/fs9";
    mkdir $fs;

    SKIP: {
        Test::More::skip('needs root to mount a small tmpfs', 1)
            unless $> == 0
                   && system("mount -t tmpfs -o size=64k tmpfs $fs "
                             . ">/dev/null 2>&1") == 0;

        my $ok = eval {
            my $path = "$fs/state.jsonl";
            my $conf = "compliance_zone comp 16m;\n"
                       . "compliance_state $path;\n";
            ok(restart_nginx(rtmp_config => $conf),
               'restart with the state file on a 64k tmpfs');

            # fill the file system: the state file has the rest of its
            # page, and no page more
            open my $fill, '>', "$fs/filler" or die "filler: $!";
            for (;;) {
                my $n = syswrite($fill, 'f' x 4096);
                last unless $n && $n == 4096;
            }
            close $fill;

            my (@made, $failed);
            for my $i (1 .. 40) {
                my ($st, $json) = api('POST', 'orders', {
                    target => "host:f$i", action => 'ban',
                    reason => ('r' x 400) . $i });
                if ($st == 201) { push @made, $json; next }
                $failed = [$st, $json];
                last;
            }
            cmp_ok(scalar @made, '>=', 1, scalar(@made) . ' orders fit');
            is($failed && $failed->[0], 500, 'then the disk is full: 500');
            is($failed && $failed->[1]{error}, 'state_unwritable',
               'state_unwritable');

            my $size = -s $path;
            my $text = slurp($path);
            Test::More::note("state file: $size bytes, ends with "
                             . ($text =~ /\n\z/ ? 'a newline'
                                                : 'a partial record'));

            # space again: the next order is acknowledged
            unlink "$fs/filler";
            my ($st, $next) = api('POST', 'orders', { target => 'host:next',
                action => 'ban', reason => 'acknowledged after the full '
                                          . 'disk' });
            is($st, 201, 'with space again, an order is acknowledged');

            ok(restart_nginx(rtmp_config => $conf), 'restart');
            my $list = orders() || [];
            my %in = map { $_->{id} => 1 } @$list;
            is_deeply([grep { !$in{$_} } map { $_->{id} } @made], [],
                      'the orders from before the full disk are loaded');
            ok($next && $in{$next->{id}},
               'the order acknowledged after the full disk is loaded');
            unlike(error_log_text(), qr/is not a valid record/,
                   'no record is skipped');

            stop_nginx();
            1;
        };

        Test::More::fail("the full-disk run died: $@") unless $ok;

        stop_nginx();
        system("umount -l $fs >/dev/null 2>&1");
    }
}


=== TEST 10: a reload that resizes the zone is refused; orders and sessions carry on
--- workers: 2
--- rtmp_config eval: zone_conf('p10')
--- post_check eval
sub {
    my $pub = publisher('room1', sub => 'h1');
    ok(wait_sessions(1), 'a publisher');
    my $o = order(target => 'host:h9', action => 'ban', reason => 'kept');
    my @before = worker_pids();

    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    my $text = slurp($conf);
    (my $bigger = $text) =~ s/compliance_zone comp \d+m;/compliance_zone comp 32m;/
        or die "no compliance_zone in nginx.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh $bigger;
    close $fh;

    kill 'HUP', nginx_pid();
    ok(wait_for(sub { error_log_text()
                      =~ /compliance_zone "comp" cannot change its size on reload/ }),
       'the reload is refused, saying why');
    is("@{[worker_pids()]}", "@before", 'the workers carry on');
    is_deeply(orders(), [$o], 'the orders are there');

    my (undef, $s) = api('GET', 'sessions');
    is(scalar @$s, 1, 'the live session is still listed');
    my $n = order(target => 'host:h1', action => 'ban',
                  reason => 'after the refused reload');
    is($n->{id}, $o->{id} + 1, 'the next id');
    ok(wait_for(sub { client_done($pub) }, 3),
       'an order after the refused reload drops the live session');

    open $fh, '>', $conf or die "$conf: $!";
    print $fh $text;
    close $fh;
    stop_client($pub);
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/
--- expect_emerg
cannot change its size on reload


=== TEST 11: nginx -t while nginx runs does not take the journal from under the workers
--- workers: 2
--- rtmp_config eval: zone_conf('p11')
--- post_check eval
sub {
    my $path = state_path('p11');
    my @o = map { order(target => "host:t$_", action => 'ban',
                        reason => "before -t $_") } 1 .. 4;

    my $cmd = join ' ', map { "'$_'" } nginx_command('-t');
    my $out = `$cmd 2>&1`;
    is($?, 0, 'nginx -t passes') or Test::More::diag($out);

    my @n = map { order(target => "host:n$_", action => 'ban',
                        reason => "after -t $_") } 1 .. 4;
    my $ids = [map { $_->{id} } @o, @n];
    is_deeply([map { $_->{id} } @{orders()}], $ids, 'eight orders in force');
    my $text = slurp($path);
    like($text, qr/"reason":"after -t 4"/,
         'an order acknowledged after nginx -t is in the state file');

    ok(restart_nginx(), 'restart');
    is_deeply([map { $_->{id} } @{orders() || []}], $ids,
              'every acknowledged order survives the restart');
}



=== TEST 12: a directory where the state file should be stops the start, saying so
--- rtmp_config
compliance_zone comp 16m;
compliance_state $TEST_NGINX_SERVROOT/logs;
--- http_server_config
--- must_die
--- error_log eval
qr/compliance_state: ".*\/logs" is not a regular file/



=== TEST 13: a damaged or unreadable state file: the running server keeps its orders, a start says what is wrong, nothing acknowledged is lost
--- workers: 2
--- rtmp_config eval: zone_conf('p13')
--- post_check eval
sub {
    my $path = state_path('p13');
    my $o1 = order(target => 'host:h1', action => 'ban', reason => 'one');
    my $o2 = order(target => 'host:h2', action => 'suspend',
                   duration => 3600, reason => 'two');

    # the file is overwritten under the running server: binary garbage,
    # a NUL, invalid UTF-8 inside a JSON string, a line of 1 MB
    my $junk = "\x00\xff\xfe garbage\n"
             . qq({"op":"create","order":{"id":9,"target":"host:\xc3\x28",)
             . qq("action":"ban","until":null,"reason":"r","ref":""}}\n)
             . ('{' x (1024 * 1024)) . "\n";
    spew($path, $junk);

    ok(reload_nginx(), 'a reload with the damaged file');
    is_deeply([map { $_->{id} } @{orders() || []}], [$o1->{id}, $o2->{id}],
              'the running server keeps its orders');
    my ($rc, $out) = once('publish', stream('room1', sub => 'h1'));
    like($out, qr/Rejected banned: .*order $o1->{id}: one/,
         'and enforces them');

    my $o3 = order(target => 'host:h3', action => 'ban', reason => 'three');
    is($o3->{id}, $o2->{id} + 1, 'ids go on');

    # a restart reads what it can: the order acknowledged after the damage
    ok(stop_nginx(), 'stop');
    unlink glob("$path.corrupt.*");
    ok(start_nginx(), 'a start with the damaged file');
    like(error_log_text(),
         qr/compliance_state: ".*p13\.jsonl" line 1 is not a valid record, skipped/,
         'the garbage line is reported');
    like(error_log_text(),
         qr/compliance_state: ".*p13\.jsonl" line 3 is not a valid record, skipped/,
         'the 1 MB line is reported');
    is(scalar(() = glob("$path.corrupt.*")), 1,
       'the damaged file is kept for the operator');
    is_deeply([map { $_->{id} } @{orders() || []}], [$o3->{id}],
              'the order acknowledged after the damage is loaded');
    my $o4 = order(target => 'host:h4', action => 'ban', reason => 'four');
    is($o4->{id}, $o3->{id} + 1, 'ids do not go back');

    # a FIFO (a mistake in a deployment script) would block open() for
    # good: the start is refused at once
    ok(stop_nginx(), 'stop');
    rename $path, "$path.saved" or die "rename: $!";
    POSIX::mkfifo($path, 0600) or die "mkfifo: $!";
    my $cmd = join ' ', map { "'$_'" } nginx_command('-t');
    my $t0 = Time::HiRes::time();
    my $t = `timeout 20 $cmd 2>&1`;
    isnt($?, 0, 'nginx -t fails on a FIFO');
    like($t, qr/compliance_state: ".*p13\.jsonl" is not a regular file/,
         'saying why');
    ok(!start_nginx(), 'nginx does not start on a FIFO');
    ok(Time::HiRes::time() - $t0 < 15 * $Test::Compliance::Slow,
       'and does not hang');
    like(error_log_text(),
         qr/compliance_state: ".*p13\.jsonl" is not a regular file/,
         'the start says why');

    unlink $path;
    rename "$path.saved", $path or die "rename: $!";
    ok(start_nginx(), 'the file back: a start');
    is_deeply([map { $_->{id} } @{orders() || []}], [$o3->{id}, $o4->{id}],
              'with every order');

    # the state file cannot move on reload: the zone's orders are
    # journaled in the first one
    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    my $text = slurp($conf);
    (my $other = $text) =~ s/p13\.jsonl/p13-other.jsonl/
        or die "no p13.jsonl in nginx.conf";
    spew($conf, $other);
    my @before = worker_pids();
    ok(kill('HUP', nginx_pid()), 'a reload to another state file');
    ok(wait_log(qr/compliance_state cannot change on reload/),
       'is refused, saying why');
    spew($conf, $text);
    is("@{[worker_pids()]}", "@before", 'the workers carry on');
    ok(!-e state_path('p13-other'), 'the other file is not made');
    my $o5 = order(target => 'host:h5', action => 'ban', reason => 'five');
    like(slurp($path), qr/"reason":"five"/,
         'orders go on into the first file');
}
--- expect_emerg
is not a regular file
compliance_state cannot change on reload
