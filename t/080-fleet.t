# The fleet (compliance_redis): three nginx nodes share their orders
# through a Redis Stream.  Node A is the harness's nginx; nodes B and C
# are two more nginx instances (own servroots under this file's servroot,
# own ports, the harness's binary, modules and wrapper) and Redis is a
# redis-server on a free loopback port (with a password, db 3; node C
# uses its unix socket), all started here and stopped at the end, even
# when a test dies.
#
# An order made on node A drops a publisher on node C within 1.5 s (the
# latency, from the POST's reply as make bench measures it, ten times, p50
# and max reported); an order written straight to Redis applies on every
# node, a lift through node B's API lifts it on all; while Redis is down
# orders still apply locally at once, the outage is logged once per node, a
# node restarted meanwhile enforces its orders, and when Redis is back every
# node converges to the same orders; a Redis that hangs (SIGSTOP) is no
# outage; kill -9 of the worker that holds a node's connection hands it to
# another worker; a node that was down catches up from its last stream id;
# after Redis lost its data a backend re-publishes the orders with their
# uids; a "duration" in a stream entry counts from when it was written;
# after a reload the new workers take the connection over; a refused XADD
# reconnects and retries.

use lib 't/lib';

use Test::Compliance;
use Test::Compliance::Fleet;
use HTTP::Tiny ();
use JSON::PP ();
use Time::HiRes ();

our $Json = JSON::PP->new->canonical(1)->allow_nonref(1);
our $Stream = 'compliance:orders';      # the default key=


#-----------------------------------------------------------------------------
# Redis (t/lib/Test/Compliance/Fleet.pm: redis, redis_start, redis_stop)
#-----------------------------------------------------------------------------

{
    my ($ok, $why) = redis_init('fleet-080-secret', 3);
    Test::More::plan(skip_all => $why) unless $ok;
}

our $Root = $RedisRoot;                 # the harness's servroot


# XADD an entry: its id

sub xadd {
    my (%f) = @_;
    my @fields = map { ($_, ref $f{$_} ? $Json->encode($f{$_}) : $f{$_}) }
                 grep { exists $f{$_} } qw(op uid origin order);
    return redis('XADD', $Stream, '*', @fields);
}


# the stream's entries: [{id => ID, FIELD => VALUE, ...}, ...]

sub stream_entries {
    my @lines = split /\n/, redis('XRANGE', $Stream, '-', '+');
    my @entries;

    while (@lines) {
        my $line = shift @lines;

        if ($line =~ /^\d+-\d+$/) {
            push @entries, { id => $line };
            next;
        }

        my $value = shift @lines;
        $entries[-1]{$line} = $value if @entries;
    }

    return \@entries;
}


#-----------------------------------------------------------------------------
# the nodes: A is the harness's nginx, B and C are started here
#-----------------------------------------------------------------------------

our $Config = tiers('basic') . live_app();


# the rtmp{} config of node NAME, its files under ROOT: node C connects
# through Redis' unix socket, A and B over TCP; EXTRA: more
# compliance_redis parameters (node A's block gives them; nodes B and C
# take $RedisExtra)

our $RedisExtra = '';

sub rtmp_conf {
    my ($name, $root, $extra) = @_;
    my $addr = $name eq 'c' ? "unix:$RedisDir/redis.sock"
                            : "127.0.0.1:$RedisPort";
    $extra = $RedisExtra unless defined $extra;
    return <<"EOF";
compliance_zone comp 16m;
compliance_state $root/state-$name.jsonl;
compliance_audit_log $root/audit-$name node=$name;
compliance_redis $addr password=$Root/redis.pass db=$RedisDb $extra;
EOF
}


block_defaults(
    workers            => 2,
    rtmp_config        => sub { rtmp_conf('a', '$TEST_NGINX_SERVROOT') },
    config             => $Config,
    http_server_config => api_location(),
);


our %Node = (
    a => { name => 'a', harness => 1, rtmp => rtmp_port(),
           http => http_port(), root => $Root },
    b => { name => 'b', workers => 2, root => "$Root/node-b",
           conf => \&node_conf },
    c => { name => 'c', workers => 2, root => "$Root/node-c",
           conf => \&node_conf },
);

for my $n (@Node{qw(b c)}) {
    $n->{rtmp} = free_port();
    $n->{http} = free_port();
}

our @Nodes = map { $Node{$_} } qw(a b c);


# nginx.conf of node B or C, as the harness writes its own

sub node_conf {
    my ($n) = @_;

    return nginx_conf(title => "node $n->{name} of t/080-fleet.t",
                      root => $n->{root}, rtmp_port => $n->{rtmp},
                      http_port => $n->{http}, workers => $n->{workers},
                      rtmp_config => rtmp_conf($n->{name}, $n->{root}),
                      config => $Config,
                      http_server_config => api_location());
}


# nginx -s reload: true once the new workers run and the old ones are
# gone or shutting down

sub node_reload {
    my ($n) = @_;

    my $pid = node_pid($n);
    my %old = map { $_ => 1 } worker_pids($pid);

    kill 'HUP', $pid;

    return wait_for(sub {
        my @now = worker_pids($pid);
        my @new = grep { !$old{$_} } @now;
        return @new >= $n->{workers} && @new == @now;
    }, 10);
}


sub log_path {
    my ($n) = @_;
    return $n->{harness} ? "$Root/logs/error.log" : "$n->{root}/logs/error.log";
}


# the node's error log: mark() is where it ends now, log_since() the text
# after a mark

sub mark { return -s log_path($_[0]) || 0 }

sub log_since {
    my ($n, $mark) = @_;
    return slurp(log_path($n), $mark || 0) // '';
}

sub wait_node_log {
    my ($n, $mark, $re, $secs) = @_;
    return wait_for(sub { log_since($n, $mark) =~ $re }, $secs || 10);
}


#-----------------------------------------------------------------------------
# each node's API (http_json talks to the harness's node only)
#-----------------------------------------------------------------------------

our $Http = HTTP::Tiny->new(timeout => 10, keep_alive => 0);

# (status, decoded JSON or undef, body)

sub napi {
    my ($n, $method, $path, $data) = @_;

    my %req = (headers => { 'Content-Type' => 'application/json' });
    $req{content} = ref $data ? $Json->encode($data) : $data
        if defined $data;

    my $res = $Http->request($method,
                             "http://127.0.0.1:$n->{http}/compliance/$path",
                             \%req);

    my $json = eval { $Json->decode($res->{content}) };

    return ($res->{status}, $json, $res->{content});
}


# POST orders on a node: the stored order (and a passed test) or undef

sub order_on {
    my ($n, %o) = @_;

    my ($st, $json, $body) = napi($n, 'POST', 'orders', \%o);

    Test::More::is($st, 201, "node $n->{name}: order $o{action} $o{target}")
        or Test::More::diag($body);

    return $st == 201 ? $json : undef;
}


sub orders_on {
    my ($n) = @_;
    my ($st, $json) = napi($n, 'GET', 'orders');
    return $st == 200 && ref $json eq 'ARRAY' ? $json : [];
}


# the node's order with this uid, or undef

sub by_uid {
    my ($n, $uid) = @_;
    my ($o) = grep { ($_->{uid} || '') eq $uid } @{orders_on($n)};
    return $o;
}


sub uids_on {
    my ($n) = @_;
    return join ' ', sort map { $_->{uid} || '-' } @{orders_on($n)};
}


# true once every node has (or, with $gone, no longer has) the uid

sub everywhere {
    my ($uid, $gone, $secs, @nodes) = @_;
    @nodes = @Nodes unless @nodes;
    return wait_for(sub {
        !grep { $gone ? by_uid($_, $uid) : !by_uid($_, $uid) } @nodes
    }, $secs || 5);
}


sub metrics_on {
    my ($n) = @_;
    my (undef, undef, $body) = napi($n, 'GET', 'metrics');
    my %m = ($body // '') =~ /^(compliance_fleet_\w+) (\d+)$/mg;
    return \%m;
}


sub sessions_on {
    my ($n, %want) = @_;
    my (undef, $json) = napi($n, 'GET', 'sessions');
    return grep {
        my $s = $_;
        !grep { ($s->{$_} // '') ne $want{$_} } keys %want
    } @{ref $json eq 'ARRAY' ? $json : []};
}


#-----------------------------------------------------------------------------
# publishers on a node
#-----------------------------------------------------------------------------

# a background publisher on node N (the harness's client, another port)

our @Publishers;

sub publisher_on {
    my ($n, $room, %claims) = @_;
    my $run = publisher($room, %claims, args => ['-p', $n->{rtmp}]);
    push @Publishers, $run;
    return $run;
}


# the block's publishers that are still live are stopped (the harness
# would wait for them before it stops nginx)

sub stop_publishers {
    stop_client($_) for grep { !client_done($_) } @Publishers;
    @Publishers = ();
}


# one publish on node N: its output once it ended

sub publish_once {
    my ($n, $room, %claims) = @_;
    my (undef, $out) = once('publish', stream($room, %claims),
                            '-p', $n->{rtmp});
    return $out;
}


sub dropped {
    my ($run, $reason, $secs) = @_;
    return wait_output($run, qr/error NetStream\.Publish\.Rejected $reason:/,
                       $secs || 5);
}


# nodes B and C, once: (re)started when they are not running

sub fleet_up {
    for my $n (@Node{qw(b c)}) {
        my $pid = node_pid($n);
        next if $pid && kill 0, $pid;
        Test::More::ok(node_start($n), "node $n->{name} starts");
    }
}


# every node holds a connection to Redis

sub all_connected {
    my ($secs) = @_;
    return wait_for(sub {
        !grep { (metrics_on($_)->{compliance_fleet_connected} // 0) != 1 }
              @Nodes
    }, $secs || 10);
}


# nodes B and C up and every node connected (a test): nodes A, B and C

sub fleet_ready {
    fleet_up();
    Test::More::ok(all_connected(), 'every node is connected');
    return @Node{qw(a b c)};
}


# the workers of node N that logged that they hold its connection, since
# MARK, in order

sub connection_owners {
    my ($n, $mark) = @_;
    return log_since($n, $mark)
           =~ /compliance_redis: worker (\d+) holds this node's connection/g;
}


sub percentile {
    my ($p, @v) = @_;
    @v = sort { $a <=> $b } @v;
    return $v[int($p * $#v + 0.5)];
}


redis_start() or die "redis-server does not start on port $RedisPort\n";

run_tests();

__DATA__

=== TEST 1: three nodes on one stream; an order made on node A drops a publisher on node C within 1.5 s
--- post_check eval
sub {
    fleet_up();
    ok(all_connected(), 'compliance_fleet_connected 1 on every node');

    for my $n (@::Nodes) {
        like(log_since($n),
             qr/\[notice\] \d+#\d+: compliance_redis: worker \d+ holds this node's connection/,
             "node $n->{name}: one worker holds the connection");
        like(log_since($n),
             qr/compliance_redis: connected, stream "compliance:orders" from id "0"/,
             "node $n->{name}: a new node reads the stream from its start");
    }

    # ten publishers on node C, each the target of one order made on A
    my @runs = map { publisher_on($::Node{c}, "lat$_", sub => "lat$_",
                                  pid => "plat$_") } 1 .. 10;
    ok(wait_for(sub { sessions_on($::Node{c}, kind => 'publish') == 10 }, 15),
       'ten publishers live on node C');

    my (@lat, @made);

    for my $i (1 .. 10) {
        # out of step with the 200 ms timers (XREAD block, recheck)
        Time::HiRes::sleep(rand 0.2);

        # from the POST's reply, as make bench's fleet line measures it
        my $o = order_on($::Node{a}, target => "host:lat$i", action => 'suspend',
                         duration => 600, reason => "latency $i");
        my $t0 = Time::HiRes::time();
        my $ok = wait_for(sub {
            client_output($runs[$i - 1])
                =~ /NetStream\.Publish\.Rejected suspended: .*latency $i/
        }, 5);
        my $dt = Time::HiRes::time() - $t0;

        ok($ok, "order $i made on A drops its publisher on C");
        push @lat, $dt if $ok;
        push @made, $o;
    }

    my ($p50, $max) = (percentile(0.5, @lat), percentile(1, @lat));
    diag(sprintf 'fleet latency, order on node A to publisher dropped on '
                 . 'node C (compliance_recheck 200ms, %d runs): p50 %.0f ms, '
                 . 'max %.0f ms', scalar @lat, 1000 * $p50, 1000 * $max);
    is(scalar @lat, 10, 'all ten drops measured');
    ok($max < 1.5, sprintf 'every drop within 1.5 s (max %.3f s)', $max);

    is_deeply([map { $_->{uid} } @made], [map { "a:$_->{id}" } @made],
              'orders made through node A\'s API have the uid a:ID');
    ok(everywhere($made[-1]{uid}), 'node B has them too');
    like(log_since($::Node{c}),
         qr/compliance_redis: order "$made[0]{uid}" from the fleet applied \(local \d+\)/,
         'node C logs the order it applied');

    # the stream: what node A published
    my ($e) = grep { ($_->{uid} // '') eq $made[0]{uid} }
              @{stream_entries()};
    ok($e, 'the order is in the stream') or return;
    is($e->{op}, 'create', 'op create');
    is($e->{origin}, 'a', 'origin: the node\'s name');
    my $oj = eval { $::Json->decode($e->{order}) } || {};
    my %want = %{$made[0]};
    delete $want{id};
    is_deeply($oj, \%want,
              'order: the stored order as the API shows it, less the id');

    my $c = by_uid($::Node{c}, $made[0]{uid});
    is($c->{until}, $made[0]{until}, 'node C has the same until');
    is($c->{created}, $made[0]{created}, 'and the same created');

    my $ma = metrics_on($::Node{a});
    my $mc = metrics_on($::Node{c});
    is($ma->{compliance_fleet_outbox}, 0, 'node A: outbox empty');
    ok($mc->{compliance_fleet_entries_total} >= 10,
       'node C: compliance_fleet_entries_total counts the entries read');
    my ($last_ms) = stream_entries()->[-1]{id} =~ /^(\d+)-/;
    ok(wait_for(sub {
           metrics_on($::Node{c})->{compliance_fleet_last_id_ms} == $last_ms
       }, 3), 'node C: compliance_fleet_last_id_ms is the last entry\'s');
    ok(wait_for(sub {
           metrics_on($::Node{c})->{compliance_fleet_lag_ms} == 0
       }, 3), 'node C: compliance_fleet_lag_ms 0 once caught up');
    stop_publishers();
}
--- no_error_log
compliance_redis: Redis is unreachable


=== TEST 2: an order written straight to Redis applies on every node; a lift through node B's API lifts it on all
--- post_check eval
sub {
    fleet_ready();

    my %run = map { $_->{name} => publisher_on($_, "be-$_->{name}",
                                               sub => "be-$_->{name}",
                                               pid => 'p-backend') } @::Nodes;
    ok(wait_for(sub { !grep { !sessions_on($_, person => 'p-backend') }
                            @::Nodes }, 15),
       'person p-backend publishes on A, B and C');

    my %mark = map { $_->{name} => mark($_) } @::Nodes;
    my $t0 = Time::HiRes::time();
    my $id = xadd(op => 'create', uid => 'backend:42', order => {
        target => 'person:p-backend', action => 'suspend', duration => 600,
        reason => 'backend order', ref => 'CASE-42' });
    like($id, qr/^\d+-\d+$/, 'XADD compliance:orders * op create uid backend:42 order {...}');

    for my $n (@::Nodes) {
        ok(dropped($run{$n->{name}}, 'suspended', 3),
           "node $n->{name}: the backend's order drops the person's publisher");
        like(log_since($n, $mark{$n->{name}}),
             qr/compliance_redis: order "backend:42" from the fleet applied \(local \d+\)/,
             "node $n->{name}: applied, logged");
    }
    diag(sprintf 'backend XADD to three publishers dropped: %.0f ms',
                 1000 * (Time::HiRes::time() - $t0));

    my $b = by_uid($::Node{b}, 'backend:42');
    ok($b, 'node B lists the order with uid backend:42') or return;
    is($b->{reason}, 'backend order', 'its reason');
    is($b->{ref}, 'CASE-42', 'its ref');
    like(publish_once($::Node{c}, 'be-x', sub => 'be-x', pid => 'p-backend'),
         qr/Rejected suspended: .*backend order \(ref CASE-42\)/,
         'node C refuses a new publish of the person');

    # the lift, through node B's API, with B's own id for the order
    my ($st) = napi($::Node{b}, 'DELETE', "orders/$b->{id}");
    is($st, 204, "DELETE orders/$b->{id} on node B");
    ok(everywhere('backend:42', 1, 3), 'the order is gone on A, B and C');

    for my $n (@::Node{qw(a c)}) {
        like(log_since($n, $mark{$n->{name}}),
             qr/compliance_redis: order "backend:42" lifted by the fleet \(local \d+\)/,
             "node $n->{name}: lifted by the fleet, logged");
    }

    my ($lift) = grep { $_->{op} eq 'lift' && $_->{uid} eq 'backend:42' }
                 @{stream_entries()};
    is($lift && $lift->{origin}, 'b', 'node B published the lift');
    like(publish_once($::Node{a}, 'be-y', sub => 'be-y', pid => 'p-backend'),
         qr/status NetStream\.Publish\.Start/,
         'node A admits the person again');

    # a backend's lift, and an entry no node can use
    xadd(op => 'create', uid => 'backend:43',
         order => { target => 'host:be-ban', action => 'ban',
                    reason => 'backend ban' });
    ok(everywhere('backend:43'), 'a backend ban reaches every node');
    xadd(op => 'create', uid => 'backend:bad',
         order => { target => 'nothing', action => 'ban', reason => 'x' });
    xadd(op => 'create', uid => 'backend:44',
         order => '{"target":"host:be-44","action":"warn","until":'
                  . (time + 600) . ',"reason":"after the bad one"}');
    xadd(op => 'lift', uid => 'backend:43');
    ok(everywhere('backend:43', 1), 'XADD ... op lift uid backend:43 lifts it everywhere');
    ok(everywhere('backend:44'), 'an invalid entry does not stop the reading');
    like(log_since($::Node{c}, $mark{c}),
         qr/\[warn\] .*compliance_redis: order "backend:bad" of stream entry "\d+-\d+" is not valid \(.*target.*\), skipped/,
         'the invalid entry is skipped with a warning');
    ok(!grep({ by_uid($_, 'backend:bad') } @::Nodes), 'and applied nowhere');
    stop_publishers();
}


=== TEST 3: Redis down: orders apply locally at once, the outage is logged once per node, a node restarted meanwhile enforces its orders; Redis back: every node converges
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my $pre = order_on($B, target => 'person:p-pre', action => 'ban',
                       reason => 'before the outage');
    my $old = order_on($A, target => 'host:to-lift', action => 'ban',
                       reason => 'lifted during the outage');
    ok(everywhere($_), "$_ is everywhere before the outage")
        for $pre->{uid}, $old->{uid};

    my $pa = publisher_on($A, 'out-a', sub => 'out-a', pid => 'p-out-a');
    my $pc = publisher_on($C, 'out-c', sub => 'out-c', pid => 'p-out-c');
    ok(wait_for(sub { sessions_on($A, host => 'out-a')
                      && sessions_on($C, host => 'out-c') }, 15),
       'publishers on A and C');

    my %mark = map { $_->{name} => mark($_) } @::Nodes;
    my $down = Time::HiRes::time();
    ok(redis_stop(save => 1), 'Redis stops (SHUTDOWN SAVE)');

    for my $n (@::Nodes) {
        ok(wait_node_log($n, $mark{$n->{name}},
               qr/\[error\] .*compliance_redis: Redis is unreachable \(.+\); this node keeps enforcing its orders and retries/),
           "node $n->{name}: the outage is logged");
    }
    ok(wait_for(sub { !grep { metrics_on($_)->{compliance_fleet_connected} }
                            @::Nodes }, 3),
       'compliance_fleet_connected 0 on every node');

    # orders through the nodes' APIs apply at once, locally
    my $t0 = Time::HiRes::time();
    my $oa = order_on($A, target => 'host:out-a', action => 'suspend',
                      duration => 600, reason => 'made on A, Redis down');
    ok(dropped($pa, 'suspended', 1.5),
       'node A drops its publisher at once, Redis or not');
    diag(sprintf 'Redis down: order on A to publisher on A dropped: %.0f ms',
                 1000 * (Time::HiRes::time() - $t0));
    my $ob = order_on($B, target => 'host:out-b', action => 'ban',
                      reason => 'made on B, Redis down');
    my $oc = order_on($C, target => 'person:p-out-c', action => 'suspend',
                      duration => 600, reason => 'made on C, Redis down');
    ok(dropped($pc, 'suspended', 1.5), 'node C drops its publisher at once');

    # a lift while Redis is down
    my ($st) = napi($A, 'DELETE', "orders/$old->{id}");
    is($st, 204, "node A lifts $old->{uid}");

    is(metrics_on($A)->{compliance_fleet_outbox}, 2,
       'node A: two changes wait in the outbox');
    is(metrics_on($B)->{compliance_fleet_outbox}, 1, 'node B: one');
    ok(!by_uid($B, $oa->{uid}) && !by_uid($C, $oa->{uid}),
       'the other nodes do not have A\'s order yet');

    # node C restarts while Redis is down
    ok(node_stop($C), 'node C stops');
    my $cmark = mark($C);
    ok(node_start($C), 'node C starts again, Redis still down');
    ok(wait_node_log($C, $cmark, qr/compliance_redis: Redis is unreachable/),
       'the restarted node C logs the outage');
    is(metrics_on($C)->{compliance_fleet_outbox}, 1,
       'its outbox survived the restart (state file)');
    like(publish_once($C, 'out-c2', sub => 'out-c2', pid => 'p-out-c'),
         qr/Rejected suspended: .*made on C, Redis down/,
         'node C refuses by its order made while Redis was down');
    like(publish_once($C, 'pre', sub => 'pre', pid => 'p-pre'),
         qr/Rejected banned: .*before the outage/,
         'and by the order it had from the fleet before');

    # long enough for two retries (1 s, then 2 s later) on every node
    wait_for(sub { Time::HiRes::time() - $down >= 3.5 }, 5);

    ok(redis_start(), 'Redis is back, with its data');
    my $up = Time::HiRes::time();

    for my $n (@::Nodes) {
        my $from = $n == $C ? $cmark : $mark{$n->{name}};
        ok(wait_node_log($n, $from,
                         qr/compliance_redis: connected again; catching up from stream id "\d+-\d+"/,
                         20),
           "node $n->{name}: connected again, catching up");
    }

    my $all = join ' ', sort $pre->{uid}, $oa->{uid}, $ob->{uid}, $oc->{uid};
    my $conv = wait_for(sub {
        my @u = map { uids_on($_) } @::Nodes;
        return $u[0] eq $u[1] && $u[1] eq $u[2];
    }, 15);
    ok($conv, 'every node has the same orders (uids)')
        or diag(join "\n", map { "$_->{name}: " . uids_on($_) } @::Nodes);
    diag(sprintf 'Redis back to every node converged: %.1f s',
                 Time::HiRes::time() - $up);

    for my $n (@::Nodes) {
        my $u = ' ' . uids_on($n) . ' ';
        ok(!grep({ index($u, " $_ ") < 0 } split ' ', $all),
           "node $n->{name}: has the orders made on A, B and C during the "
           . 'outage');
        ok(index($u, " $old->{uid} ") < 0,
           "node $n->{name}: the lift made during the outage took effect");
        is(metrics_on($n)->{compliance_fleet_outbox}, 0,
           "node $n->{name}: outbox empty");
    }

    like(publish_once($B, 'out-c3', sub => 'out-c3', pid => 'p-out-c'),
         qr/Rejected suspended: .*made on C, Redis down/,
         'node B enforces the order node C made while Redis was down');

    # one line per node and outage, however many reconnections failed
    for my $n (@::Nodes) {
        my @seg = $n == $C ? ([$mark{c}, $cmark], [$cmark, undef])
                           : ([$mark{$n->{name}}, undef]);
        for my $s (@seg) {
            my $text = log_since($n, $s->[0]);
            $text = substr($text, 0, $s->[1] - $s->[0]) if defined $s->[1];
            my $count = () = $text =~ /Redis is unreachable/g;
            is($count, 1, "node $n->{name}"
                          . ($n == $C ? ($s->[1] ? ' (before its restart)'
                                                 : ' (after it)') : '')
                          . ': the outage is logged once');
        }
    }
    stop_publishers();
}


=== TEST 4: Redis stops answering (SIGSTOP): orders still apply locally at once and go out when it answers again; no outage is logged
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my $pa = publisher_on($A, 'slow-a', sub => 'slow-a', pid => 'p-slow-a');
    my $pc = publisher_on($C, 'slow-c', sub => 'slow-a2', pid => 'p-slow-c');
    ok(wait_for(sub { sessions_on($A, host => 'slow-a')
                      && sessions_on($C, host => 'slow-a2') }, 15),
       'publishers on A and C');

    my %mark = map { $_->{name} => mark($_) } @::Nodes;
    my $t0 = Time::HiRes::time();
    ok(kill('STOP', $::RedisPid), 'Redis is stopped (SIGSTOP): it accepts '
       . 'nothing and answers nothing');

    my $o = order_on($A, target => 'host:slow-a', action => 'suspend',
                     duration => 600, reason => 'Redis hangs');
    ok(dropped($pa, 'suspended', 1.5), 'node A drops its publisher at once');
    is(metrics_on($A)->{compliance_fleet_outbox}, 1,
       'the change waits in node A\'s outbox');
    my $o2 = order_on($A, target => 'host:slow-a2', action => 'suspend',
                      duration => 600, reason => 'Redis hangs');
    ok(!by_uid($B, $o->{uid}) && !by_uid($C, $o->{uid}),
       'the other nodes do not have it');

    # hung for 1.5 s
    wait_for(sub { Time::HiRes::time() - $t0 >= 1.5 }, 3);
    ok(kill('CONT', $::RedisPid), 'Redis answers again (SIGCONT)');

    ok(everywhere($o->{uid}, 0, 1.5), 'the orders reach B and C');
    ok(dropped($pc, 'suspended', 1.5),
       'and the second one drops its target on node C');
    ok(wait_for(sub { metrics_on($A)->{compliance_fleet_outbox} == 0 }, 2),
       'node A\'s outbox is empty');

    for my $n (@::Nodes) {
        unlike(log_since($n, $mark{$n->{name}}), qr/Redis is unreachable/,
               "node $n->{name}: a slow Redis is no outage");
    }
}

=== TEST 5: kill -9 of the worker holding node B's connection: another worker takes over, orders still propagate
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my $owner = (connection_owners($B))[-1];
    ok($owner && kill(0, $owner), "worker $owner holds node B's connection")
        or return;
    ok((grep { $_ == $owner } worker_pids(node_pid($B))),
       'it is one of node B\'s workers');

    my $mark = mark($B);
    $::Node{b}{killed} = $owner;
    ok(kill('KILL', $owner), "kill -9 $owner");

    my $new;
    ok(wait_for(sub {
           ($new) = connection_owners($B, $mark);
           return $new;
       }, 5), 'another worker takes the connection over');
    isnt($new, $owner, "worker $new, not the killed one");
    ok(wait_node_log($B, $mark,
                     qr/compliance_redis: connected, stream "compliance:orders" from id "\d+-\d+"/),
       'and connects, from its last stream id');
    ok(wait_for(sub { metrics_on($B)->{compliance_fleet_connected} == 1 }, 5),
       'compliance_fleet_connected 1');

    my $pb = publisher_on($B, 'kill-b', sub => 'kill-b', pid => 'p-kill-b');
    ok(wait_for(sub { sessions_on($B, host => 'kill-b') }, 10),
       'a publisher on node B');
    my $oa = order_on($A, target => 'host:kill-b', action => 'suspend',
                      duration => 600, reason => 'after the kill');
    ok(dropped($pb, 'suspended', 1.5), 'an order made on A drops it on B');
    my $ob = order_on($B, target => 'host:kill-x', action => 'ban',
                      reason => 'made on B after the kill');
    ok(everywhere($ob->{uid}, 0, 3), 'an order made on B reaches A and C');
    stop_publishers();
}


=== TEST 6: a node that was down catches up from its last stream id
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my $last = stream_entries()->[-1]{id};
    my $path = "$C->{root}/state-c.jsonl";
    ok(wait_for(sub {
           (slurp($path) // '') =~ /^\{"op":"stream","id":"\Q$last\E"\}$/m
       }, 3), 'node C has read the stream to its end: its state file has '
              . '{"op":"stream","id":"' . $last . '"}');
    ok(node_stop($C), 'node C stops');

    my $oa = order_on($A, target => 'host:away', action => 'suspend',
                      duration => 600, reason => 'made while C was away');
    my $t = time;
    xadd(op => 'create', uid => 'backend:away', order => {
        target => 'host:away2', action => 'suspend', duration => 600,
        reason => 'backend, while C was away' });
    ok(everywhere($_, 0, 3, $A, $B), "$_ on A and B") for $oa->{uid}, 'backend:away';

    # C stays away a little longer: a stream entry's "duration" counts
    # from the entry, not from when a node reads it
    wait_for(sub { time >= $t + 3 }, 5);

    my $mark = mark($C);
    ok(node_start($C), 'node C starts again');
    ok(wait_node_log($C, $mark,
                     qr/compliance_redis: connected, stream "compliance:orders" from id "\Q$last\E"/),
       'and reads from the id it had applied last');
    ok(everywhere($_, 0, 3, $C), "node C catches up: $_")
        for $oa->{uid}, 'backend:away';
    is(by_uid($C, $oa->{uid})->{until}, $oa->{until},
       'an order made through an API has the same until on C');

    {
        my $ua = (by_uid($A, 'backend:away') || {})->{until} // 0;
        my $uc = (by_uid($C, 'backend:away') || {})->{until} // 0;
        ok(abs($uc - $ua) <= 1,
           "a backend order with \"duration\" ends at the same time on A "
           . "and C (A $ua, C $uc)");
    }
    stop_publishers();
}


=== TEST 7: Redis restarted empty: new orders still flow; a backend re-publishes lost orders with their uids
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    ok(node_stop($C), 'node C stops');
    my $lost = order_on($A, target => 'host:lost', action => 'ban',
                        reason => 'C never read it');
    ok(everywhere($lost->{uid}, 0, 3, $B), 'node B has it');

    my %mark = map { $_->{name} => mark($_) } @::Nodes;
    ok(redis_stop(save => 0), 'Redis stops and loses its data');
    ok(redis_start(), 'Redis starts empty');
    is(redis('XLEN', $::Stream), 0, 'the stream is gone');
    ok(node_start($C), 'node C starts');
    ok(all_connected(20), 'every node is connected again');

    my $new = order_on($B, target => 'host:after-loss', action => 'ban',
                       reason => 'after the data loss');
    ok(everywhere($new->{uid}, 0, 5), 'a new order reaches every node: the '
       . 'new stream\'s ids are past the nodes\' last ids');
    ok(!by_uid($C, $lost->{uid}), 'the lost order never reaches node C');

    # the operator's fix: re-publish the orders in force with their uids
    my $mark = mark($A);
    my $n = 0;
    for my $o (@{orders_on($A)}) {
        my %order = %$o;
        my $uid = delete $order{uid};
        delete $order{id};
        xadd(op => 'create', uid => $uid, origin => 'backend',
             order => \%order);
        $n++;
    }
    ok($n > 0, "the backend re-publishes node A's $n orders");
    ok(everywhere($lost->{uid}, 0, 5, $C), 'node C gets the lost order');
    is(uids_on($C), uids_on($A), 'node C has the same orders as node A');
    my $count = grep { $_->{uid} eq $new->{uid} } @{orders_on($B)};
    is($count, 1, 'a node that has an order skips its copy');

    # a last entry: once node A has it, it has read the copies before it
    xadd(op => 'create', uid => 'backend:after-copies',
         order => { target => 'host:after-copies', action => 'ban',
                    reason => 'after the copies' });
    ok(everywhere('backend:after-copies'), 'a later entry reaches every node');
    my @applied = log_since($A, $mark) =~ /order "([^"]+)" from the fleet applied/g;
    is("@applied", 'backend:after-copies',
       'node A applied none of the copies, only the later entry');
    stop_publishers();
}


=== TEST 8: after a reload the draining old worker keeps the connection; when Redis drops meanwhile, the node reconnects
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my $owner = (connection_owners($B))[-1];

    # live publishers on node B until one is on the owner's worker: it
    # keeps that worker running after the reload
    my @runs;
    my $held = wait_for(sub {
        push @runs, publisher_on($B, 'drain' . @runs,
                                 sub => 'drain' . @runs, pid => 'p-drain');
        return wait_for(sub { sessions_on($B, worker => $owner) }, 1);
    }, 15);
    ok($held, "a publisher on node B's worker $owner, which holds the "
              . 'connection') or return;

    my $mark = mark($B);
    ok(node_reload($B), 'node B reloads');
    ok(kill(0, $owner), "the old worker $owner drains its sessions");

    my $o1 = order_on($A, target => 'host:drain-1', action => 'ban',
                      reason => 'after the reload');
    ok(everywhere($o1->{uid}, 0, 3, $B),
       'node B still gets orders, through the old worker\'s connection');

    ok(redis_stop(save => 1) && redis_start(), 'Redis restarts');

    my $connected = wait_node_log($B, $mark,
        qr/compliance_redis: (?:connected again|worker \d+ holds)/, 10);
    my $o2 = order_on($A, target => 'host:drain-2', action => 'ban',
                      reason => 'after the Redis restart');

    {
        ok($connected, 'node B connects again while the old worker drains');
        ok(everywhere($o2->{uid}, 0, 3, $B), 'and gets new orders');
        ok(metrics_on($B)->{compliance_fleet_connected}
           == (log_since($B, $mark) =~ /connected again|worker \d+ holds/ ? 1 : 0),
           'compliance_fleet_connected says whether node B is connected');
    }

    # the way out until then: the old worker's sessions end, it exits
    stop_publishers();
    ok(wait_for(sub { !kill 0, $owner }, 10), "worker $owner exits");
    ok(wait_for(sub {
           grep { $_ != $owner }
                log_since($B, $mark) =~ /compliance_redis: worker (\d+) holds/g
       }, 5), 'a new worker takes the connection');
    my $o3 = order_on($A, target => 'host:drain-3', action => 'ban',
                      reason => 'after the old worker left');
    ok(everywhere($o3->{uid}, 0, 3, $B), 'node B gets orders again');
}

=== TEST 9: an XADD refused by Redis (maxmemory) does not stop the node's reading; the change goes out once Redis accepts it
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my $mark = mark($B);
    is(redis('CONFIG', 'SET', 'maxmemory', '1'), 'OK',
       'CONFIG SET maxmemory 1: Redis refuses writes');
    my $ob = order_on($B, target => 'host:oom', action => 'ban',
                      reason => 'refused by Redis at first');
    ok(wait_node_log($B, $mark, qr/\[error\] .*compliance_redis: XADD: OOM/, 3),
       'node B logs the refused XADD');
    is(redis('CONFIG', 'SET', 'maxmemory', '0'), 'OK',
       'CONFIG SET maxmemory 0');

    {
        ok(everywhere($ob->{uid}, 0, 5, $A, $C),
           'the refused order reaches A and C once Redis accepts writes');
        xadd(op => 'create', uid => 'backend:oom',
             order => { target => 'host:oom2', action => 'ban',
                        reason => 'read after the refusal' });
        ok(everywhere('backend:oom', 0, 3, $B),
           'node B still reads the stream');
    }

    # the way out until then: another worker (or a reload) reconnects
    ok(node_stop($B) && node_start($B), 'node B restarts');
    ok(everywhere($ob->{uid}, 0, 5), 'then its order goes out');
    ok(everywhere('backend:oom', 0, 5), 'and it reads again');
    stop_publishers();
}


=== TEST 10: Redis hangs past compliance_redis timeout= (1s on A, 3s by default): an outage, logged once per node; orders apply locally, and reach every node when it answers again
--- rtmp_config eval: rtmp_conf('a', '$TEST_NGINX_SERVROOT', 'timeout=1s')
--- post_check eval
sub {
    # nodes B and C keep the default timeout (3s)
    my ($A, $B, $C) = fleet_ready();

    my $pc = publisher_on($C, 'hang-c', sub => 'hang-c', pid => 'p-hang-c');
    ok(wait_for(sub { sessions_on($C, host => 'hang-c') }, 15),
       'a publisher on C');

    my %mark = map { $_->{name} => mark($_) } @::Nodes;
    ok(kill('STOP', $::RedisPid), 'Redis is stopped (SIGSTOP)');

    for my $n (@::Nodes) {
        ok(wait_node_log($n, $mark{$n->{name}},
                         qr/Redis is unreachable \(no answer within \d+ ms\)/,
                         10),
           "node $n->{name} logs the outage");
    }

    ok(wait_for(sub { !grep { metrics_on($_)->{compliance_fleet_connected} }
                           @::Nodes }, 5),
       'compliance_fleet_connected 0 on every node');

    my $pa = publisher_on($A, 'hang-a', sub => 'hang-a', pid => 'p-hang-a');
    ok(wait_for(sub { sessions_on($A, host => 'hang-a') }, 15),
       'a publisher on A, admitted while Redis hangs');
    my $o = order_on($A, target => 'host:hang-a', action => 'suspend',
                     duration => 600, reason => 'Redis hangs long');
    ok(dropped($pa, 'suspended', 1.5), 'node A drops its publisher at once');
    my $o2 = order_on($A, target => 'host:hang-c', action => 'suspend',
                      duration => 600, reason => 'Redis hangs long');

    # reconnections meanwhile find it hung too: still one line per node
    wait_for(sub { 0 }, 3);

    for my $n (@::Nodes) {
        my @lines = log_since($n, $mark{$n->{name}})
                    =~ /Redis is unreachable/g;
        is(scalar @lines, 1, "node $n->{name}: the outage is logged once");
    }

    ok(kill('CONT', $::RedisPid), 'Redis answers again (SIGCONT)');
    ok(all_connected(40), 'every node reconnects');
    ok(everywhere($o2->{uid}, 0, 5), 'the orders reach B and C');
    ok(dropped($pc, 'suspended', 3), 'and drop their target on node C');
}


=== TEST 11: a node that lost its state file goes on with ids past those it published before, so its new orders reach the fleet
--- post_check eval
sub {
    my ($A, $B, $C) = fleet_ready();

    my @old = map { order_on($C, target => "host:lost-state-$_",
                             action => 'suspend', duration => 600,
                             reason => "C before the loss $_") } 1 .. 3;
    ok(everywhere($old[-1]{uid}, 0, 5), 'C\'s orders are everywhere');

    ok(node_stop($C), 'node C stops');
    my $path = "$C->{root}/state-c.jsonl";
    ok(unlink($path), 'its state file is lost');

    my $mark = mark($C);
    ok(node_start($C), 'node C starts without it');
    ok(wait_node_log($C, $mark,
                     qr/compliance_redis: the stream has "c:\d+", published by this node with an id it had not reached .*order ids go on from (\d+)/),
       'reading the stream from 0, it notices its own uids');
    ok(everywhere($old[-1]{uid}, 0, 5, $C), 'and has its old orders again');

    my $new = order_on($C, target => 'host:lost-state-new',
                       action => 'suspend', duration => 600,
                       reason => 'C after the loss');
    ok($new && !grep({ $_->{uid} eq $new->{uid} } @old),
       "its new order has a new uid ($new->{uid})");
    ok(everywhere($new->{uid}, 0, 5), 'and reaches every node');
    is((by_uid($A, $new->{uid}) || {})->{reason}, 'C after the loss',
       'as itself on node A');
    like((slurp($path) // ''), qr/^\{"id":\d+,"op":"next"\}$|^\{"op":"next","id":\d+\}$/m,
         'the next id is journaled');
}



=== TEST 12: room_lock=on: one publisher a room in the fleet; the same person takes the room over from another node, another person is dropped with room_busy; with Redis down both nodes admit, logged and counted
--- rtmp_config eval: rtmp_conf('a', '$TEST_NGINX_SERVROOT', 'room_lock=on')
--- post_check eval
sub {
    my ($A, $B) = @::Node{qw(a b)};
    my $key = 'compliance:room:live/lockroom';

    $::RedisExtra = 'room_lock=on';
    ok(node_stop($B) && node_start($B), 'node B with room_lock=on');
    fleet_ready();

    my $pa = publisher_on($A, 'lockroom', pid => 'pl1', duration => 30000);
    ok(wait_for(sub { sessions_on($A, kind => 'publish', room => 'lockroom') }, 10),
       'the room is live on A');
    ok(wait_for(sub { redis('GET', $key) =~ /^a\|\d+\|pl1$/ }, 5),
       'A holds its room lock: ' . redis('GET', $key));

    my $pb = publisher_on($B, 'lockroom', pid => 'pl1', duration => 30000);
    ok(wait_for(sub { sessions_on($B, kind => 'publish', room => 'lockroom') }, 10),
       'the same person publishes the room on B');
    ok(dropped($pa, 'replaced', 10),
       'the publisher on A is dropped: replaced, by a publish on another node');
    ok(wait_for(sub { redis('GET', $key) =~ /^b\|\d+\|pl1$/ }, 5),
       'B holds the room lock');
    ok(wait_for(sub { !sessions_on($A, kind => 'publish', room => 'lockroom') }, 5),
       'A has no publisher of the room');

    my $mark = mark($A);
    my $pc = publisher_on($A, 'lockroom', pid => 'pl2', duration => 30000);
    ok(dropped($pc, 'room_busy', 10),
       'another person publishing the room on A is dropped: room_busy');
    like(client_output($pc), qr/room_busy: the room has a live publisher on another node/,
         'told why');
    ok(wait_node_log($A, $mark, qr/compliance_redis: room lock "compliance:room:live\/lockroom" is held by "b\|\d+\|pl1": session \d+ is dropped \(room_busy\)/),
       'A logs who holds the room');
    ok(!client_done($pb), 'the publisher on B stays live');
    is(metrics_on($A)->{compliance_fleet_room_lock_busy_total}, 1,
       'A counts it');

    stop_client($pb);
    ok(wait_for(sub { redis('EXISTS', $key) eq '0' }, 10),
       'the lock is released when its session ends');

    # Redis down: both nodes admit, without the lock
    ok(redis_stop(save => 1), 'Redis stops');
    ok(wait_for(sub { !grep { (metrics_on($_)->{compliance_fleet_connected} // 1) != 0 } $A, $B }, 15),
       'both nodes see it');
    $mark = mark($A);
    my $qa = publisher_on($A, 'lockroom2', pid => 'pd1', duration => 20000);
    my $qb = publisher_on($B, 'lockroom2', pid => 'pd2', duration => 20000);
    ok(wait_for(sub { sessions_on($A, kind => 'publish', room => 'lockroom2')
                      && sessions_on($B, kind => 'publish', room => 'lockroom2') }, 15),
       'with Redis down both nodes admit a publisher of the same room');
    ok(wait_node_log($A, $mark, qr/compliance_redis: Redis cannot be reached, publishers are admitted without the fleet's room lock/),
       'logged');
    is(metrics_on($A)->{compliance_fleet_room_lock_skipped_total}, 1,
       'and counted');

    stop_client($qa);
    stop_client($qb);
    ok(redis_start(), 'Redis is back');

    $::RedisExtra = '';
    ok(node_stop($B) && node_start($B), 'node B as before');
    ok(all_connected(20), 'every node connected again');
    stop_publishers();
}



=== TEST 13: the fleet stops cleanly
--- workers: 1
--- post_check eval
sub {
    fleet_ready();

    for my $n (@::Node{qw(b c)}) {
        ok(node_stop($n), "node $n->{name} stops on SIGQUIT");

        my $killed = $n->{killed} || 0;
        my @bad = grep {
            !/worker process $killed exited on signal 9/
            && (/\[(?:alert|emerg)\]/ || /exited on signal/
                || /worker process \d+ exited with (?:fatal )?code [1-9]/)
        } split /\n/, log_since($n);

        ok(!@bad, "node $n->{name}: no [alert], [emerg] or crash in its log")
            or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    }

    ok(redis_stop(), 'Redis stops');
    stop_publishers();
}
