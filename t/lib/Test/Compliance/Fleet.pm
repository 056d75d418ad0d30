package Test::Compliance::Fleet;

# What the test files of the fleet share (t/080-fleet.t, t/037-witness.t):
# a real redis-server on a free loopback port (with a password; its unix
# socket too), more nginx nodes beside the harness's (own servroots and
# ports, the harness's binary, modules and wrapper), and their stop
# however the file ends, even when a test dies.
#
#   use Test::Compliance::Fleet;
#   redis_init('secret', 3) or plan(skip_all => ...);
#   my $b = { name => 'b', workers => 2, root => "$RedisRoot/node-b",
#             conf => sub { nginx_conf(...) } };
#   node_start($b); ... node_stop($b);
#
# A node is a hash: name, root, workers, rtmp and http ports, conf (a sub
# that returns its nginx.conf), harness => 1 for the harness's own nginx.

use strict;
use warnings;
use Exporter 'import';
use File::Path ();
use POSIX ();
use Test::Compliance ();

# the harness's helpers but its redis(): this file's speaks to the
# fleet's Redis, with its password and database
BEGIN {
    Exporter::export('Test::Compliance', __PACKAGE__,
                     grep { $_ ne 'redis' } @Test::Compliance::EXPORT);
}

our @EXPORT = qw(
    $RedisPort $RedisPass $RedisDb $RedisDir $RedisPid $RedisRoot
    redis_init redis redis_up redis_start redis_stop
    node_pid node_start node_stop
);

our ($RedisPort, $RedisPass, $RedisDb, $RedisDir, $RedisPid, $RedisRoot);

our $Redis = '/usr/bin/redis-server';
our $MainPid = $$;
our @Started;                           # the nodes node_start() started


# Redis on a free port, its password in $RedisRoot/redis.pass (the
# harness's servroot); $ENV{TEST_NGINX_REDIS_PORT} for the harness's
# nginx.conf.  Not started: redis_start().  False (and why) when
# redis-server is not installed and scripts/install-deps could not
# install it.

sub redis_init {
    my ($pass, $db) = @_;

    unless (-x $Redis) {
        system(repo_root() . '/scripts/install-deps redis-server '
               . '>/dev/null 2>&1');
    }

    unless (-x $Redis && -x '/usr/bin/redis-cli') {
        return wantarray ? (0, 'redis-server is not installed and '
                               . 'scripts/install-deps could not install it')
                         : 0;
    }

    $RedisRoot = servroot();            # makes the harness's servroot
    $RedisPass = $pass;
    $RedisDb = $db;
    $RedisPort = free_port();
    $RedisDir = "$RedisRoot/redis";

    $ENV{TEST_NGINX_REDIS_PORT} = $RedisPort;

    File::Path::mkpath($RedisDir);
    spew("$RedisRoot/redis.pass", "$RedisPass\n");

    return 1;
}


# redis-cli ARGS: its output (raw, as when not on a terminal), trimmed

sub redis {
    my @cmd = ('redis-cli', '-h', '127.0.0.1', '-p', $RedisPort,
               '-a', $RedisPass, '--no-auth-warning', '-n', $RedisDb, @_);

    my $pid = open(my $fh, '-|');
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        { no warnings "exec"; exec { $cmd[0] } @cmd; }
        POSIX::_exit(127);
    }

    local $/;
    my $out = <$fh>;
    close $fh;

    $out = '' unless defined $out;
    $out =~ s/\s+\z//;

    return $out;
}


sub redis_up { return redis('PING') eq 'PONG' }


# starts redis-server on $RedisPort; it loads $RedisDir/dump.rdb if there
# is one (a Redis that comes back with its data)

sub redis_start {
    my @cmd = ($Redis, '--port', $RedisPort, '--bind', '127.0.0.1',
               '--save', '', '--appendonly', 'no', '--daemonize', 'yes',
               '--pidfile', "$RedisDir/redis.pid", '--dir', $RedisDir,
               '--logfile', "$RedisDir/redis.log",
               '--unixsocket', "$RedisDir/redis.sock",
               '--unixsocketperm', '700', '--requirepass', $RedisPass);

    system(@cmd) == 0 or return 0;

    wait_for(\&redis_up, 10) or return 0;

    open my $fh, '<', "$RedisDir/redis.pid" or return 0;
    ($RedisPid) = <$fh> =~ /(\d+)/;
    close $fh;

    return $RedisPid ? 1 : 0;
}


# stops it: SHUTDOWN SAVE keeps the stream in dump.rdb, NOSAVE loses it

sub redis_stop {
    my (%opt) = @_;

    return 1 unless $RedisPid && kill 0, $RedisPid;

    unlink "$RedisDir/dump.rdb" unless $opt{save};

    redis('SHUTDOWN', $opt{save} ? 'SAVE' : 'NOSAVE');

    unless (wait_for(sub { !kill 0, $RedisPid }, 10)) {
        kill 'KILL', $RedisPid;
        wait_for(sub { !kill 0, $RedisPid }, 5);
    }

    $RedisPid = undef;

    return 1;
}


sub node_pid {
    my ($n) = @_;
    return $n->{harness} ? nginx_pid()
                         : ((slurp("$n->{root}/logs/nginx.pid") // '')
                            =~ /(\d+)/)[0];
}


# starts a node: true once its master, workers and listeners are up

sub node_start {
    my ($n) = @_;

    my $root = $n->{root};

    File::Path::mkpath("$root/$_") for qw(conf logs tmp);
    unlink "$root/logs/nginx.pid";

    spew("$root/conf/nginx.conf", $n->{conf}->($n));
    push @Started, $n unless grep { $_ == $n } @Started;

    # the harness's command line (TEST_NGINX_WRAPPER, TEST_NGINX_BINARY),
    # with this node's prefix
    my @cmd = nginx_command();
    $cmd[-3] = "$root/";

    my $out = `@{[ map { quotemeta } @cmd ]} 2>&1`;

    if ($? != 0) {
        Test::More::diag("node $n->{name} does not start: $out");
        return 0;
    }

    my $pid;

    return wait_for(sub {
        $pid = node_pid($n);
        return $pid && kill(0, $pid)
               && worker_pids($pid) >= $n->{workers}
               && listening($n->{rtmp}) && listening($n->{http});
    }, 15);
}


sub node_stop {
    my ($n) = @_;

    my $pid = node_pid($n);
    return 1 unless $pid && kill 0, $pid;

    my @workers = worker_pids($pid);

    kill 'QUIT', $pid;

    return 1 if wait_for(sub { !grep { kill 0, $_ } $pid, @workers }, 15);

    kill 'KILL', $pid, @workers;
    wait_for(sub { !grep { kill 0, $_ } $pid, @workers }, 5);
    Test::More::diag("node $n->{name} did not stop on SIGQUIT: killed");

    return 0;
}


# the nodes started here and Redis, stopped however the file ends

END {
    if ($$ == $MainPid) {
        for my $n (@Started) {
            my $pid = node_pid($n) or next;
            my @workers = worker_pids($pid);
            kill 'QUIT', $pid if kill 0, $pid;
            wait_for(sub { !grep { kill 0, $_ } $pid, @workers }, 5);
            kill 'KILL', grep { kill 0, $_ } $pid, @workers;
        }

        if ($RedisPid && kill 0, $RedisPid) {
            kill 'CONT', $RedisPid;
            kill 'TERM', $RedisPid;
            wait_for(sub { !kill 0, $RedisPid }, 5);
            kill 'KILL', $RedisPid if kill 0, $RedisPid;
        }
    }
}

$SIG{INT} = $SIG{TERM} = sub { exit 1 };


1;
