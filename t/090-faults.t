# Faults with real processes: a worker killed with SIGKILL while its
# publishers stream, a reload while 100 clients publish, 1,000 API
# requests at once, and no session left behind in the zone once every
# client is gone.
#
#   prove -v t/090-faults.t
#
# The harness fails a block whose error log has "exited on signal" (an
# [alert] of the master).  TEST 1 kills a worker on purpose, so it runs
# its own nginx (the block's nginx.conf, its own prefix and error log,
# the same ports) and checks that log itself: the harness has no
# "expect_crash" section yet.

use lib 't/lib';

use Test::Compliance;
use Errno ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

our $Own;               # the master of our own nginx (TEST 1), if running


#-----------------------------------------------------------------------------
# configuration

block_defaults(
    workers            => 2,
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);


#-----------------------------------------------------------------------------
# helpers

# test 4: once every client has exited, GET sessions is empty

sub no_session_stuck {
    my ($runs, $what) = @_;

    my @left = grep { !defined wait_client($_, 40) } @$runs;
    ok(!@left, "$what: every client has exited");
    stop_client($_) for @left;

    ok(wait_sessions(0, 15),
       "$what: no session stuck in GET sessions")
        or Test::More::diag(JSON::PP->new->canonical->encode(sessions()));
}


#-----------------------------------------------------------------------------
# our own nginx for TEST 1: the block's nginx.conf under another prefix
# (own/logs/error.log, own/logs/nginx.pid), the same ports

sub own_prefix { return servroot() . '/own' }

sub own_log { return slurp(own_prefix() . '/logs/error.log') // '' }


sub own_start {
    my $p = own_prefix();
    mkdir $p;
    mkdir "$p/$_" for qw(conf logs);
    unlink "$p/logs/nginx.pid";

    spew("$p/conf/nginx.conf", slurp(servroot() . '/conf/nginx.conf'));

    # the later -p and -c win over the harness's
    my @cmd = nginx_command('-p', "$p/", '-c', "$p/conf/nginx.conf");

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', "$p/logs/start.out";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    return 0 if $rc;

    my $master;
    wait_for(sub {
        ($master) = (slurp("$p/logs/nginx.pid") // '') =~ /(\d+)/;
        $master && alive($master);
    }, 10) or return 0;

    $Own = $master;

    return wait_for(sub {
        return 0 unless worker_pids($master) >= 2;
        my ($st) = api('GET', 'orders');
        return defined $st && $st == 200;
    }, 10);
}


sub own_stop {
    my $master = $Own or return 1;
    my @w = worker_pids($master);
    kill 'QUIT', $master;
    my $ok = wait_for(sub { !grep { alive($_) } $master, @w }, 15);
    kill 'KILL', grep { alive($_) } $master, @w unless $ok;
    $Own = undef;
    return $ok;
}


END {
    if ($Own && alive($Own)) {
        my @w = worker_pids($Own);
        kill 'KILL', $Own, @w;
    }
}


#-----------------------------------------------------------------------------
# TEST 3: many HTTP requests at once; each {method, path, body} gets
# status and body (undef status: no answer)

sub http_storm {
    my ($total, $width, $next, $ondone) = @_;

    my $port = http_port();
    my $sel = IO::Select->new;
    my (%inflight, @done);
    my $started = 0;
    my $peak = 0;
    my $deadline = Time::HiRes::time() + 60;

    my $open = sub {
        my $req = $next->($started);
        $started++;

        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $port,
                                         Proto    => 'tcp',
                                         Timeout  => 10);
        unless ($sock) {
            push @done, { %$req, status => undef, body => "connect: $!" };
            return;
        }

        my $body = defined $req->{body} ? $req->{body} : '';
        my $text = "$req->{method} $req->{path} HTTP/1.0\r\n"
                 . "Host: localhost\r\nConnection: close\r\n"
                 . (length $body || $req->{method} eq 'POST'
                    ? "Content-Type: application/json\r\n"
                      . "Content-Length: " . length($body) . "\r\n" : '')
                 . "\r\n$body";
        binmode $sock;
        syswrite $sock, $text;
        $sock->blocking(0);
        $sel->add($sock);
        $inflight{fileno $sock} = { %$req, sock => $sock, resp => '' };
    };

    my $finish = sub {
        my ($r) = @_;
        $sel->remove($r->{sock});
        delete $inflight{fileno $r->{sock}};
        close $r->{sock};
        my ($head, $body) = split /\r\n\r\n/, $r->{resp}, 2;
        my ($status) = ($head // '') =~ m{^HTTP/\S+\s+(\d+)};
        push @done, { method => $r->{method}, path => $r->{path},
                      tag => $r->{tag}, status => $status,
                      body => $body // '' };
        $ondone->($done[-1]) if $ondone;
    };

    while (@done < $total && Time::HiRes::time() < $deadline) {
        $open->() while $started < $total && keys(%inflight) < $width;
        $peak = keys %inflight if keys %inflight > $peak;

        for my $s ($sel->can_read(1)) {
            my $r = $inflight{fileno $s};
            my $n = sysread($s, my $buf, 65536);
            if ($n) {
                $r->{resp} .= $buf;
            } elsif (defined $n || $! != Errno::EAGAIN) {
                $finish->($r);
            }
        }
    }

    $finish->($_) for values %inflight;     # timed out: no status
    Test::More::note("at most $peak connections at once");

    return @done;
}


run_tests();

__DATA__

=== TEST 1: SIGKILL of a worker during publish: its clients are closed, its sessions leave the zone, the other worker's stay
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    # our own nginx: the harness must not see the master's alert
    ok(stop_nginx(), "the harness's nginx stops");
    ok(own_start(), 'our own nginx starts with 2 workers')
        or return;

    my $master = $::Own;
    my %run;
    my @all;
    my %by;

    # publishers in batches until both workers hold some (bounded)
    for my $batch (1 .. 5) {
        my %s = map { ("k${batch}_$_" => stream("kr${batch}_$_",
                                                sub => "k${batch}_$_",
                                                jti => "kj${batch}_$_")) }
                1 .. 4;
        for my $h (sort keys %s) {
            $run{$h} = start_client('publish', $s{$h}, '--duration', 30000,
                                    '--bitrate', 20);
            push @all, $run{$h};
        }
        my $want = keys %run;
        wait_for(sub { find_sessions(kind => 'publish') == $want }, 15);
        %by = ();
        push @{$by{$_->{worker}}}, $_->{host} for @{sessions()};
        last if keys %by >= 2;
    }

    is(scalar(find_sessions(kind => 'publish')), scalar(keys %run),
       'GET sessions lists every publisher');
    is(scalar(keys %by), 2, 'the publishers are on both workers')
        or return own_stop();

    my ($victim, $other) = sort { @{$by{$b}} <=> @{$by{$a}} } keys %by;
    my @dead = @{$by{$victim}};
    my @kept = @{$by{$other}};
    Test::More::note("killing worker $victim (@dead); worker $other keeps "
                     . "@kept");

    ok(kill('KILL', $victim), "SIGKILL to worker $victim");

    for my $h (@dead) {
        my $rc = wait_client($run{$h}, 10);
        is($rc, 4, "the client of $h on the killed worker is dropped");
        like(client_output($run{$h}), qr/^closed: by=server/m,
             "the connection of $h is closed");
    }

    my $t0 = Time::HiRes::time();
    my %gone = map { $_ => 1 } @dead;
    ok(wait_for(sub { !grep { $gone{$_->{host}} } @{sessions()} }, 15),
       "the killed worker's sessions leave GET sessions within 15 s");
    Test::More::note(sprintf 'removed after %.1f s',
                     Time::HiRes::time() - $t0);

    ok(wait_for(sub { own_log() =~ /compliance: session \d+ of exited worker $victim removed/ }, 5),
       'the removal is logged');
    my @removed = own_log() =~ /compliance: session \d+ of exited worker $victim removed/g;
    is(scalar(@removed), scalar(@dead), 'one removal line per session');

    is_deeply([sort map { $_->{host} } @{sessions()}], [sort @kept],
              "the other worker's sessions stay");
    ok(!grep({ client_done($run{$_}) } @kept),
       "the other worker's clients still publish");

    ok(wait_for(sub { worker_pids($master) == 2 }, 10),
       'the master starts a new worker');

    # new publishes work, on both the old and the new worker
    my @new = map { start_client('publish', stream("knew$_", sub => "knew$_"),
                                 '--duration', 1500) } 1 .. 6;
    for my $i (0 .. $#new) {
        is(wait_client($new[$i], 20), 0, "new publish $i after the kill");
        like(client_output($new[$i]), qr/NetStream\.Publish\.Start/,
             "new publish $i is admitted");
    }

    # test 4: no session stuck
    stop_client($run{$_}) for @kept;
    no_session_stuck([@all, @new], 'after the kill');

    ok(own_stop(), 'our own nginx stops');

    my $log = own_log();
    like($log, qr/worker process $victim exited on signal 9/,
         'the master logged the kill');
    my @bad = grep { (/\[alert\]|\[emerg\]|exited on signal|exited with (?:fatal )?code [1-9]/)
                     && !/worker process $victim exited on signal 9/ }
              split /\n/, $log;
    ok(!@bad, 'no other alert, emerg or crash in our error log')
        or Test::More::diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
}


=== TEST 2: a reload while 100 clients publish drops none; the zone is kept; orders and new publishes work after it
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    my $n = 100;
    my %s = map { ($_ => stream("zr$_", sub => "zh$_", pid => "zp$_",
                                jti => "zj$_")) } 1 .. $n;
    my %run = map { $_ => start_client('publish', $s{$_}, '--duration',
                                       18000, '--bitrate', 20) } 1 .. $n;
    my $t0 = Time::HiRes::time();

    ok(wait_for(sub { find_sessions(kind => 'publish') == $n }, 30),
       "GET sessions lists the $n publishers")
        or Test::More::diag(scalar(@{sessions()}) . ' sessions');

    my %old = map { $_ => 1 } worker_pids();
    ok(reload_nginx(), 'reload: new workers run, the old ones shut down');
    my %new = map { $_ => 1 } worker_pids();
    ok(!grep({ $old{$_} } keys %new), 'the workers are new');

    my @dropped = grep { client_done($run{$_}) && $run{$_}{exit} ne '0' }
                  1 .. $n;
    ok(!@dropped, 'no publisher dropped by the reload')
        or Test::More::diag("dropped: @dropped: "
                            . client_output($run{$dropped[0]}));

    my @ss = find_sessions(kind => 'publish');
    my %live = map { $_->{host} => 1 } @ss;
    my @missing = grep { !$live{"zh$_"} && !client_done($run{$_}) } 1 .. $n;
    ok(!@missing, 'GET sessions still lists every live publisher')
        or Test::More::diag("missing: @missing");
    Test::More::note(sprintf '%d sessions listed %.1f s after the start',
                     scalar(@ss), Time::HiRes::time() - $t0);

    # an order after the reload drops a session of an old worker
    my ($s7) = find_sessions(host => 'zh7');
    ok($s7 && $old{$s7->{worker}}, 'zh7 is held by an old worker');
    my ($st, $o, $body) = api('POST', 'orders',
        { target => 'host:zh7', action => 'suspend', duration => 600,
          reason => 'after reload' });
    is($st, 201, 'an order after the reload') or Test::More::diag($body);
    ok(wait_output($run{7}, qr/NetStream\.Publish\.Rejected suspended: order \d+: after reload/, 5),
       'the order drops zh7');
    like(wait_client($run{7}, 5), qr/^[14]$/, 'the client of zh7 is dropped');
    ok(wait_for(sub { !find_sessions(host => 'zh7') }, 5),
       'zh7 leaves GET sessions');

    # new publishes go to the new workers
    my @fresh = map { start_client('publish', stream("zn$_", sub => "zn$_"),
                                   '--duration', 3000) } 1 .. 4;
    ok(wait_for(sub { find_sessions(room => 'zn1') && find_sessions(room => 'zn2')
                      && find_sessions(room => 'zn3') && find_sessions(room => 'zn4') }, 10),
       'new publishes after the reload are live');
    my @on = map { $_->{worker} } grep { $_->{room} =~ /^zn/ } @{sessions()};
    ok(@on && !grep({ !$new{$_} } @on),
       'new publishes are served by the new workers')
        or Test::More::diag("workers: @on; new: " . join ' ', keys %new);
    for my $i (0 .. $#fresh) {
        is(wait_client($fresh[$i], 20), 0, "new publish $i ends normally");
    }

    # the others end by themselves
    for my $i (grep { $_ != 7 } 1 .. $n) {
        wait_client($run{$i}, 30);
    }
    my @bad = grep { $_ != 7 && ($run{$_}{exit} // 'running') ne '0' } 1 .. $n;
    ok(!@bad, 'every other publisher ended normally (exit 0)')
        or Test::More::diag("not 0: " . join ' ', map { "$_=" . ($run{$_}{exit} // 'running') } @bad);

    ok(wait_for(sub { !grep { $old{$_} } map { $_->{pid} } Test::Compliance::_workers() }, 15),
       'the old workers exit once their clients are gone');

    no_session_stuck([values %run, @fresh], 'after the reload');
}


=== TEST 3: 1,000 API requests, 200 at a time: no order lost, valid answers, all orders after a restart
--- rtmp_config eval: zone_conf('f3')
--- post_check eval
sub {
    my $json = JSON::PP->new->canonical;
    my (@created, %deleted, %pending);
    my $posts = 0;

    my $next = sub {
        my ($i) = @_;
        my $k = $i % 10;
        if ($k <= 4) {
            $posts++;
            return { method => 'POST', path => '/compliance/orders',
                     tag => "host:f$i",
                     body => $json->encode({ target => "host:f$i",
                                             action => $i % 2 ? 'warn' : 'suspend',
                                             duration => 3600,
                                             reason => "storm $i" }) };
        }
        return { method => 'GET', path => '/compliance/orders' } if $k <= 6;
        return { method => 'GET', path => '/compliance/sessions' } if $k <= 8;
        return { method => 'GET', path => '/compliance/orders' } unless @created;
        my $id = shift @created;
        $pending{$id} = 1;
        return { method => 'DELETE', path => "/compliance/orders/$id",
                 tag => $id };
    };

    # the orders created so far feed the DELETEs
    my $ondone = sub {
        my ($r) = @_;
        return unless $r->{method} eq 'POST' && ($r->{status} // '') eq '201';
        my $v = eval { JSON::PP->new->decode($r->{body}) };
        push @created, $v->{id} if ref $v eq 'HASH' && $v->{id};
    };

    my %ok201;
    my $t0 = Time::HiRes::time();
    my @done = http_storm(1000, 200, $next, $ondone);
    Test::More::note(sprintf '1000 requests in %.2f s', Time::HiRes::time() - $t0);

    is(scalar(@done), 1000, '1000 answers');

    my (@bad, %by);
    for my $r (@done) {
        my $st = $r->{status} // 'none';
        $by{"$r->{method} $st"}++;
        $deleted{$r->{tag}} = 1 if $r->{method} eq 'DELETE' && $st eq '204';
        if ($st eq '204') {
            push @bad, "$r->{method} $r->{path}: 204 with a body" if length $r->{body};
            next;
        }
        my $v = eval { JSON::PP->new->decode($r->{body}) };
        push @bad, "$r->{method} $r->{path}: $st not JSON: " . substr($r->{body}, 0, 80)
            unless defined $v;
        if ($r->{method} eq 'POST' && $st eq '201' && ref $v eq 'HASH') {
            $ok201{$v->{id}} = $r->{tag};
            push @bad, "POST $r->{tag} answered with $v->{target}"
                unless $v->{target} eq $r->{tag};
        }
    }
    Test::More::note(join ', ', map { "$_: $by{$_}" } sort keys %by);
    ok(!@bad, 'every answer is JSON or a 204')
        or Test::More::diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);

    my @unexpected = grep { !/^(?:POST 201|GET 200|DELETE 204)$/ } keys %by;
    ok(!@unexpected, 'POST 201, GET 200, DELETE 204 only')
        or Test::More::diag("@unexpected");
    is(scalar(keys %ok201), $posts, "all $posts orders created");

    my %want = map { $_ => $ok201{$_} } grep { !$deleted{$_} } keys %ok201;

    my ($st, $orders) = api('GET', 'orders');
    is($st, 200, 'the server still answers');
    my %have = map { $_->{id} => $_->{target} } @{ref $orders eq 'ARRAY' ? $orders : []};
    is_deeply(\%have, \%want, 'GET orders: every created order but the deleted ones')
        or Test::More::diag(scalar(keys %have) . ' vs ' . scalar(keys %want));

    ok(restart_nginx(), 'restart');
    ($st, $orders) = api('GET', 'orders');
    is($st, 200, 'GET orders after the restart');
    %have = map { $_->{id} => $_->{target} } @{ref $orders eq 'ARRAY' ? $orders : []};
    is_deeply(\%have, \%want, 'the state file kept every order');

    # and 50 DELETEs at once against the restarted server
    my @ids = (sort { $a <=> $b } keys %want)[0 .. 49];
    my @del = http_storm(50, 50, sub {
        my $id = $ids[$_[0]];
        return { method => 'DELETE', path => "/compliance/orders/$id", tag => $id };
    });
    is(scalar(grep { ($_->{status} // '') eq '204' } @del), 50,
       '50 concurrent DELETEs: 204');
    delete $want{$_} for @ids;
    ($st, $orders) = api('GET', 'orders');
    %have = map { $_->{id} => $_->{target} } @{ref $orders eq 'ARRAY' ? $orders : []};
    is_deeply(\%have, \%want, 'GET orders after the DELETEs');

    is_deeply(sessions(), [], 'no session');
}
