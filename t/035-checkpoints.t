# Signed checkpoints (compliance_audit_sign KEYFILE interval=...): nginx -t
# refuses a missing key, another key type and a key others can read; the
# writer signs the chain every interval, idle or not, and at shutdown;
# compliance-audit verify --pubkey accepts the log, and refuses a wrong
# key, a bad signature, the edit-and-recompute rewrite of docs/audit.md
# and checkpoints cut out of a recomputed chain.  Fleet witnesses (a real
# Redis, a second nginx node): each node writes the other's checkpoints
# into its chain; verify --witness finds a truncation past a witnessed
# checkpoint and a rewrite re-signed with the node's own key, which
# --pubkey alone passes, and ignores (and names) a witness with a bad
# signature; a malformed checkpoint on the stream is skipped and logged.
# seal takes the checkpoint that signs the excerpt; verify-excerpt
# --pubkey says "signed through seq N" and refuses an edited, recomputed
# excerpt; seal --witness puts the other node's witnesses of the
# excerpt's checkpoints in it, which verify-excerpt --pubkey checks
# ("witnessed by NODE: seq N") and refuses when one was tampered with.
#
#   prove -v t/035-checkpoints.t

use lib 't/lib';

use Test::Compliance;
use Test::Compliance::Fleet;
use Digest::SHA ();
use File::Temp ();
use JSON::PP ();
use POSIX ();
use Test::More ();
use Time::HiRes ();

our $Keys = File::Temp::tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_SIGN} = $Keys;

sub openssl { system('openssl', @_) == 0 or die "openssl @_ failed\n" }

for my $k (qw(sign other open)) {
    openssl('genpkey', '-algorithm', 'ed25519', '-out', "$Keys/$k.key");
    openssl('pkey', '-in', "$Keys/$k.key", '-pubout', '-out', "$Keys/$k.pub");
}
openssl('genpkey', '-algorithm', 'rsa', '-pkeyopt', 'rsa_keygen_bits:2048',
        '-out', "$Keys/rsa.key");
chmod 0600, "$Keys/sign.key", "$Keys/other.key", "$Keys/rsa.key";
chmod 0644, "$Keys/open.key";


sub sign_conf {
    my ($dir, $sign) = @_;
    return zone_conf()
         . "compliance_audit_log \$TEST_NGINX_SERVROOT/$dir node=edge-s;\n"
         . (defined $sign ? "compliance_audit_sign $sign;\n" : '');
}

block_defaults(
    config => tiers('basic')
              . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key kid=k1'),
    http_server_config => api_location(),
);

token_defaults(kid => 'k1');


#-----------------------------------------------------------------------------
# the log: its lines in chain order, read and rewritten as docs/audit.md
# defines the chain

sub lines_of {
    my ($dir) = @_;
    my @l;
    for my $s (sort map { m{([^/]+)\z} } glob("$dir/audit-*.jsonl")) {
        push @l, map { { seg => $s, text => $_ } } split /\n/, slurp("$dir/$s");
    }
    return @l;
}

sub event_of { my ($l) = @_; return $l->{text} =~ /"event":"([^"]+)"/ ? $1 : '' }

# every prev and hash from the first line on, recomputed, seq renumbered
sub rechain { return rechain_from('0' x 64, 0, @_) }

# the same from PREV, the first line seq SEQ + 1; with SIGN => KEYFILE
# (a hash ref first) every checkpoint signed again over the new chain,
# as the holder of the node's key can
sub rechain_from {
    my ($prev, $seq, @l) = @_;
    my $sign = ref $l[0] eq 'HASH' && $l[0]{sign} ? shift(@l)->{sign} : undef;
    for my $l (@l) {
        my $t = $l->{text};
        $seq++;
        $t =~ s/^\{"seq":\d+,/{"seq":$seq,/;
        if ($sign && event_of($l) eq 'checkpoint') {
            my ($node) = $t =~ /"node":"([^"]*)"/;
            my $n = $seq - 1;
            spew("$::Keys/resign.msg", "$node\n$n\n$prev");
            my $sig = unpack 'H*', `openssl pkeyutl -sign -inkey $sign -rawin -in $::Keys/resign.msg`;
            $t =~ s/"signed_seq":\d+,"signed_hash":"[0-9a-f]{64}"/"signed_seq":$n,"signed_hash":"$prev"/;
            $t =~ s/"sig":"[0-9a-f]{128}"/"sig":"$sig"/;
        }
        $t =~ s/,"prev":"[0-9a-f]{64}","hash":"[0-9a-f]{64}"\}\z//
            or die "not a record: $t\n";
        $t .= ",\"prev\":\"$prev\"";
        $prev = Digest::SHA::sha256_hex("$t}");
        $l->{text} = "$t,\"hash\":\"$prev\"}";
    }
    return @l;
}

sub write_dir {
    my ($dir, @l) = @_;
    mkdir $dir;
    my %seg;
    $seg{$_->{seg}} .= "$_->{text}\n" for @l;
    spew("$dir/$_", $seg{$_}) for keys %seg;
    return $dir;
}

# (exit code, stdout and stderr) of compliance-audit
sub audit_tool {
    my (@args) = @_;
    my $tool = $ENV{AUDIT_TOOL} || repo_root() . '/build/compliance-audit';
    my $out = "$ENV{TEST_NGINX_SERVROOT}/tmp/ck.$$";
    my $pid = fork // die "fork: $!\n";
    if ($pid == 0) {
        open STDOUT, '>', $out; open STDERR, '>&', \*STDOUT;
        exec $tool, @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    my $text = slurp($out);
    unlink $out;
    return ($rc, $text);
}

sub checkpoints { return grep { event_of($_) eq 'checkpoint' } @_ }
sub witnesses { return grep { event_of($_) eq 'witness' } @_ }
sub rec { return JSON::PP->new->decode($_[0]{text}) }

sub ms_of {
    my ($l) = @_;
    my ($h, $m, $s) = $l->{text} =~ /"ts":"[^"]*T(\d\d):(\d\d):(\d\d\.\d{3})Z"/;
    return int((($h * 60 + $m) * 60 + $s) * 1000 + 0.5);
}

sub wait_checkpoints {
    my ($dir, $n, $after) = @_;
    my @c;
    wait_for(sub {
        @c = checkpoints(lines_of($dir));
        @c = grep { ms_of($_) > $after } @c if defined $after;
        @c >= $n }, 15);
    return @c;
}


#-----------------------------------------------------------------------------
# the fleet: Redis, and node B beside the harness's nginx (node A)

our ($HaveRedis, $NoRedis) = redis_init('ck-035-secret', 5);

sub redis_conf {
    return "compliance_redis 127.0.0.1:$RedisPort "
         . "password=$RedisRoot/redis.pass db=$RedisDb;\n";
}

our $NodeB = { name => 'b', workers => 1, root => "$RedisRoot/node-b",
               rtmp => free_port(), http => free_port() };

$NodeB->{conf} = sub {
    my ($n) = @_;
    return nginx_conf(
        title => 't/035-checkpoints.t node b', root => $n->{root},
        rtmp_port => $n->{rtmp}, http_port => $n->{http},
        workers => $n->{workers},
        rtmp_config => "compliance_zone comp 16m;\n"
                     . "compliance_state $n->{root}/state.jsonl;\n"
                     . "compliance_audit_log $n->{root}/audit node=b;\n"
                     . "compliance_audit_sign $::Keys/other.key interval=1s;\n"
                     . redis_conf(),
        config => tiers('basic')
                  . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key kid=k1'),
        http_server_config => api_location());
};

sub node_log { return slurp("$_[0]{root}/logs/error.log") // '' }


run_tests();

__DATA__

=== TEST 1: a key file that is not there fails nginx -t, naming it
--- rtmp_config eval: sign_conf('ck1', '$TEST_NGINX_SIGN/missing.key')
--- http_server_config
--- must_die
--- error_log eval
qr/compliance_audit_sign: the key "\S+\/missing\.key" cannot be read/


=== TEST 2: an RSA key fails nginx -t
--- rtmp_config eval: sign_conf('ck2', '$TEST_NGINX_SIGN/rsa.key')
--- http_server_config
--- must_die
--- error_log eval
qr/compliance_audit_sign: "\S+\/rsa\.key" is not an Ed25519 private key/


=== TEST 3: a key that group or others can read (mode 0644) fails nginx -t
--- rtmp_config eval: sign_conf('ck3', '$TEST_NGINX_SIGN/open.key')
--- http_server_config
--- must_die
--- error_log eval
qr/compliance_audit_sign: the key "\S+\/open\.key" can be read by group or others \(mode 0644\)/


=== TEST 4: compliance_audit_sign needs compliance_audit_log
--- rtmp_config eval
zone_conf() . "compliance_audit_sign \$TEST_NGINX_SIGN/sign.key;\n"
--- http_server_config
--- must_die
--- error_log
"compliance_audit_sign" requires "compliance_audit_log"


=== TEST 5: idle, two workers: one checkpoint a second, signed as docs/audit.md says; verify --pubkey clean, another key fails
--- workers: 2
--- rtmp_config eval: sign_conf('ck5', '$TEST_NGINX_SIGN/sign.key interval=1s')
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/ck5";
    Time::HiRes::sleep(3.3);
    my @l = lines_of($dir);
    my @c = checkpoints(@l);
    ok(@c >= 2, scalar(@c) . ' checkpoints in 3.3 s with no session');
    is(join(',', sort { $a cmp $b } keys %{{ map { event_of($_) => 1 } @l }}),
       'audit.start,checkpoint', 'idle: only audit.start and checkpoints');
    my @gap = map { ms_of($c[$_]) - ms_of($c[$_ - 1]) } 1 .. $#c;
    # not two in an interval (two workers), none missed (a busy machine
    # may fire a timer late, never by a whole interval)
    is(scalar(grep { $_ < 800 || $_ > 1900 } @gap), 0,
       'one checkpoint an interval across the workers (' . "@gap" . ' ms)');

    my $m = metrics()->{compliance_audit_last_checkpoint_timestamp_seconds};
    ok(defined $m && $m >= time - 3 && $m <= time,
       'compliance_audit_last_checkpoint_timestamp_seconds is recent ('
       . ($m // 'none') . ')');

    my $r = JSON::PP->new->decode($c[-1]{text});
    my $prev = JSON::PP->new->decode((grep { $_->{text} =~ /^\{"seq":\Q@{[$r->{seq} - 1]}\E,/ } @l)[0]{text});
    is($r->{signed_seq}, $prev->{seq}, 'signed_seq is the record before');
    is($r->{signed_hash}, $prev->{hash}, 'signed_hash is its hash');
    is($r->{interval_ms}, 1000, 'interval_ms');
    like($r->{sig}, qr/^[0-9a-f]{128}\z/, 'sig: 64 bytes in hex');

    # the signed bytes, checked by openssl alone
    spew("$::Keys/msg", "edge-s\n$r->{signed_seq}\n$r->{signed_hash}");
    spew("$::Keys/sig", pack('H*', $r->{sig}));
    is(system("openssl pkeyutl -verify -pubin -inkey $::Keys/sign.pub -rawin "
              . "-in $::Keys/msg -sigfile $::Keys/sig >/dev/null 2>&1"), 0,
       'openssl pkeyutl verifies "NODE\nSEQ\nHASH"');
    isnt(system("openssl pkeyutl -verify -pubin -inkey $::Keys/other.pub -rawin "
                . "-in $::Keys/msg -sigfile $::Keys/sig >/dev/null 2>&1"), 0,
         'and not with another key');
    my $der = `openssl pkey -pubin -in $::Keys/sign.pub -outform DER`;
    is($r->{key}, substr(Digest::SHA::sha256_hex(substr($der, -32)), 0, 32),
       'key: sha256 of the raw public key, 16 bytes');

    my ($rc, $out) = audit_tool('verify', $dir, '--pubkey', "$::Keys/sign.pub");
    is($rc, 0, 'verify --pubkey exits 0') or Test::More::diag($out);
    like($out, qr/^signed through seq \d+ \(\d{4}-\d\d-\d\dT[\d:.]+Z\); \d+ record\(s\) follow the last checkpoint$/m,
         'signed through seq N (TS)');

    ($rc, $out) = audit_tool('verify', $dir, '--pubkey', "$::Keys/other.pub");
    is($rc, 1, 'another public key: exit 1');
    like($out, qr/checkpoint seq \d+: wrong key/, 'says wrong key');

    # the Python verifier of docs/audit.md, where python3-cryptography is
    my ($py) = slurp(repo_root() . '/docs/audit.md')
        =~ /### Checking a signature in a few lines of Python.*?```python\n(.*?)```/s;
    ok($py, 'docs/audit.md has the Python verifier');
    SKIP: {
        Test::More::skip('no python3-cryptography', 2)
            if system('python3 -c "import cryptography" 2>/dev/null') != 0;
        spew("$::Keys/check.py", $py);
        my ($seg) = map { $_->{seg} } $c[0];
        my $ok = `python3 $::Keys/check.py $::Keys/sign.pub $dir/$seg 2>&1`;
        my $n = () = $ok =~ /^checkpoint \d+ signs seq \d+ ok$/mg;
        is($n, scalar(checkpoints(grep { $_->{seg} eq $seg } lines_of($dir))),
           'the Python verifier accepts every checkpoint of the segment')
            or Test::More::diag($ok);
        isnt(system("python3 $::Keys/check.py $::Keys/other.pub $dir/$seg "
                    . ">/dev/null 2>&1"), 0, 'and refuses another key');
    }
}
--- no_error_log
[crit]


=== TEST 6: shutdown signs once for two workers; the edit-and-recompute rewrite, a changed signature and cut checkpoints all fail verify --pubkey
--- workers: 2
--- rtmp_config eval: sign_conf('ck6', '$TEST_NGINX_SIGN/sign.key interval=1s')
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/ck6";
    my @c0 = wait_checkpoints($dir, 3);
    ok(@c0 >= 3, 'three checkpoints before the session');
    my ($rc, $out) = once('publish', stream('ckroom'));
    like($out, qr/NetStream\.Publish\.Start/, 'a publisher was live');
    my $since = ms_of((lines_of($dir))[-1]);
    ok(wait_checkpoints($dir, 1, $since), 'a checkpoint after the session');
    ok(stop_nginx(), 'nginx stopped');

    my @l = lines_of($dir);
    is(event_of($l[-1]), 'checkpoint', 'the last record is the shutdown checkpoint');
    ok(event_of($l[-2]) ne 'checkpoint' || ms_of($l[-1]) - ms_of($l[-2]) > 500,
       'one shutdown checkpoint, not one a worker');
    ($rc, $out) = audit_tool('verify', $dir, '--pubkey', "$::Keys/sign.pub");
    is($rc, 0, 'the log verifies with the key') or Test::More::diag($out);
    like($out, qr/; 0 record\(s\) follow the last checkpoint$/m,
         'nothing follows the last checkpoint');

    # the rewrite: a publish.accept's room changed, every later hash
    # recomputed (a consistent chain: verify without the key passes)
    my @w = map { {%$_} } @l;
    my ($acc) = grep { event_of($_) eq 'publish.accept' } @w;
    ok($acc && $acc->{text} =~ s/"room":"ckroom"/"room":"other"/,
       'a publish.accept edited');
    @w = rechain(@w);
    my $rw = write_dir("$ENV{TEST_NGINX_SERVROOT}/ck6-rewritten", @w);
    ($rc, $out) = audit_tool('verify', $rw);
    is($rc, 0, 'the rewrite verifies without --pubkey (the chain alone)')
        or Test::More::diag($out);
    ($rc, $out) = audit_tool('verify', $rw, '--pubkey', "$::Keys/sign.pub");
    is($rc, 1, 'with --pubkey the rewrite fails');
    like($out, qr/audit-\S+:\d+: checkpoint seq \d+: rewritten: it signed seq \d+ with hash/,
         'naming the checkpoint that no longer matches');

    # a signature changed (and the chain recomputed over it)
    @w = map { {%$_} } @l;
    ($w[-1]{text} =~ s/"sig":"(.)/'"sig":"' . ($1 eq '0' ? '1' : '0')/e)
        or die;
    $rw = write_dir("$ENV{TEST_NGINX_SERVROOT}/ck6-sig", rechain(@w));
    ($rc, $out) = audit_tool('verify', $rw, '--pubkey', "$::Keys/sign.pub");
    is($rc, 1, 'a changed signature fails');
    like($out, qr/checkpoint seq \d+: bad signature/, 'says bad signature');

    # every checkpoint after the first cut out, the chain recomputed:
    # the first one still verifies, the records after it run on for more
    # than two intervals
    @w = map { {%$_} } @l;
    my $first;
    @w = grep { event_of($_) ne 'checkpoint' || !$first++ } @w;
    my $tail = ms_of($w[-1]) - ms_of((checkpoints(@w))[0]);
    ok($tail > 2000, "the records after the first checkpoint span $tail ms");
    $rw = write_dir("$ENV{TEST_NGINX_SERVROOT}/ck6-cut", rechain(@w));
    ($rc, $out) = audit_tool('verify', $rw);
    is($rc, 0, 'the cut chain verifies without --pubkey') or Test::More::diag($out);
    ($rc, $out) = audit_tool('verify', $rw, '--pubkey', "$::Keys/sign.pub");
    is($rc, 1, 'with --pubkey the cut fails');
    like($out, qr/more than twice its interval_ms 1000: checkpoints were cut/,
         'says checkpoints were cut');
}
--- no_error_log
[crit]


=== TEST 7: a segment that closes ends with a checkpoint (rotate=hourly, the clock 8 s before the hour: a session across it)
--- rtmp_config eval: sign_conf('ck7', '$TEST_NGINX_SIGN/sign.key interval=1m') =~ s/node=edge-s;/node=edge-s rotate=hourly;/r
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/ck7";
    SKIP: {
        Test::More::skip('nginx runs under TEST_NGINX_WRAPPER already', 7)
            if ($ENV{TEST_NGINX_WRAPPER} // '') =~ /\S/;
        ok(stop_nginx(), 'nginx stopped');

        # gettimeofday() and time() moved on to 8 s before a full hour
        my $shift = 3600 - time % 3600 - 8;
        $shift += 3600 if $shift < 0;
        my $so = "$::Keys/shift.so";
        spew("$::Keys/shift.c", <<"C");
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <sys/time.h>
#include <time.h>
int gettimeofday(struct timeval *tv, void *tz) {
    static int (*real)(struct timeval *, void *);
    int rc;
    if (real == NULL) real = dlsym(RTLD_NEXT, "gettimeofday");
    rc = real(tv, tz);
    if (rc == 0 && tv) tv->tv_sec += $shift;
    return rc;
}
time_t time(time_t *t) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (t) *t = tv.tv_sec;
    return tv.tv_sec;
}
C
        system('cc', '-shared', '-fPIC', '-o', $so, "$::Keys/shift.c", '-ldl') == 0
            or die "cc shift.so failed\n";
        local $ENV{TEST_NGINX_WRAPPER} = "env LD_PRELOAD=$so";
        ok(start_nginx(), 'nginx started 8 s before the hour');
        my $p = publisher('ckrot', duration => 12000);
        ok(wait_output($p, 'NetStream.Publish.Start'), 'a publisher is live');
        wait_client($p, 30);
        ok(stop_nginx(), 'nginx stopped after the hour');

        my @l = lines_of($dir);
        my @segs = do { my %s; grep { !$s{$_}++ } map { $_->{seg} } @l };
        my ($acc) = grep { event_of($l[$_]) eq 'publish.accept' } 0 .. $#l;
        my ($end) = grep { event_of($l[$_]) eq 'session.end' } 0 .. $#l;
        ok(defined $acc && defined $end && $l[$acc]{seg} ne $l[$end]{seg},
           "the session crossed the hour (@segs)")
            or Test::More::diag(join "\n", map { $_->{text} } @l);
        my @closing = grep { $_->{seg} eq $l[$acc]{seg} } @l;
        like($closing[-1]{text},
             qr/"ts":"[^"]*:59:59\.999Z","event":"checkpoint"/,
             'the closed segment ends with a checkpoint at its last millisecond');
        my ($rc, $out) = audit_tool('verify', $dir, '--pubkey', "$::Keys/sign.pub");
        is($rc, 0, 'verify --pubkey across the segments') or Test::More::diag($out);
    }
}
--- no_error_log
[crit]


=== TEST 8: fleet witnesses: nodes A and B write each other's checkpoints; verify --witness finds a truncation and a re-signed rewrite that --pubkey alone passes; a witness with a bad signature is ignored and said, a malformed stream entry skipped and logged
--- workers: 2
--- rtmp_config eval
$::HaveRedis ? zone_conf('ck8state')
               . "compliance_audit_log \$TEST_NGINX_SERVROOT/ck8 node=a;\n"
               . "compliance_audit_sign \$TEST_NGINX_SIGN/sign.key interval=1s;\n"
               . redis_conf()
             : zone_conf()
--- post_check eval
sub {
    SKIP: {
    Test::More::skip($::NoRedis, 43) unless $::HaveRedis;
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/ck8";
    my $bdir = "$::NodeB->{root}/audit";
    ok(redis_start(), 'redis-server started');
    ok(node_start($::NodeB), 'node B started');

    # each writes the other's checkpoints
    my (@wb, @wa);
    ok(wait_for(sub {
        @wb = grep { rec($_)->{origin} eq 'a' } witnesses(lines_of($bdir));
        @wa = grep { rec($_)->{origin} eq 'b' } witnesses(lines_of($dir));
        @wb >= 3 && @wa >= 1 }, 20),
       'node B holds witnesses of A (' . @wb . '), node A of B (' . @wa . ')');

    # a witness is the checkpoint as A signed it
    my $w = rec($wb[0]);
    my ($ck) = grep { rec($_)->{signed_seq} == $w->{signed_seq} }
               checkpoints(lines_of($dir));
    ok($ck, "A's checkpoint of seq $w->{signed_seq}") or return;
    my $c = rec($ck);
    is(join(' ', map { $w->{$_} } qw(node origin signed_seq signed_hash signed_ts key sig)),
       join(' ', 'b', 'a', (map { $c->{$_} } qw(signed_seq signed_hash)),
            $c->{ts}, $c->{key}, $c->{sig}),
       'witness: node b, origin a, the checkpoint\'s seq, hash, ts, key and sig');
    ok(!grep({ rec($_)->{origin} eq 'a' } witnesses(lines_of($dir))),
       'a node does not witness its own checkpoints');
    my $mw = metrics()->{compliance_fleet_witnesses_total} // -1;
    @wa = grep { rec($_)->{origin} eq 'b' } witnesses(lines_of($dir));
    ok($mw >= 1 && $mw <= @wa,
       "compliance_fleet_witnesses_total $mw: the witnesses written (@{[ scalar @wa ]} in the chain now)");

    # a malformed checkpoint on the stream: skipped, logged, not written
    my $id = redis('XADD', 'compliance:orders', '*', 'op', 'checkpoint',
                   'origin', 'evil', 'seq', '5', 'hash', 'XYZ',
                   'ts', '2026-01-01T00:00:00.000Z', 'key', 'a' x 32,
                   'sig', 'b' x 128);
    like($id, qr/^\d+-\d+$/, 'a malformed checkpoint entry added to the stream');
    ok(wait_for(sub { node_log($::NodeB) =~ /compliance_redis: checkpoint entry "\Q$id\E" skipped: hash is not 64 lowercase hex digits/ }, 5),
       'node B logs why it skipped it');
    ok(wait_log(qr/compliance_redis: checkpoint entry "\Q$id\E" skipped: hash is not 64 lowercase hex digits/, 5),
       'so does node A');
    ok(!grep({ rec($_)->{origin} eq 'evil' } witnesses(lines_of($bdir), lines_of($dir))),
       'no witness of it in either chain');

    my ($rc, $out) = audit_tool('verify', $dir, '--pubkey', "$::Keys/sign.pub",
                                '--witness', $bdir);
    is($rc, 0, 'verify A --pubkey --witness B: exit 0') or Test::More::diag($out);
    like($out, qr/^witnessed:  \d+ checkpoint\(s\) of this node held as witnessed, through seq \d+;/m,
         'says what was witnessed');
    ($rc, $out) = audit_tool('verify', $dir, '--witness', $bdir);
    is($rc, 2, '--witness without --pubkey: usage error');
    like($out, qr/--witness needs --pubkey/, 'says so');

    ok(node_stop($::NodeB), 'node B stopped');
    ok(stop_nginx(), 'node A stopped');

    my @l = lines_of($dir);
    @wb = grep { rec($_)->{origin} eq 'a' } witnesses(lines_of($bdir));
    my $last = rec($wb[-1])->{signed_seq};

    # truncation: A's chain cut after an earlier checkpoint, before the
    # last seq B witnessed; it ends in a checkpoint, --pubkey passes
    my ($cut) = grep { event_of($l[$_]) eq 'checkpoint'
                       && rec($l[$_])->{signed_seq} < $last } reverse 0 .. $#l;
    ok(defined $cut, "a checkpoint before the last witnessed seq $last") or return;
    my $tr = write_dir("$ENV{TEST_NGINX_SERVROOT}/ck8-cut", @l[0 .. $cut]);
    ($rc, $out) = audit_tool('verify', $tr, '--pubkey', "$::Keys/sign.pub");
    is($rc, 0, 'the truncated chain passes --pubkey alone') or Test::More::diag($out);
    ($rc, $out) = audit_tool('verify', $tr, '--pubkey', "$::Keys/sign.pub",
                             '--witness', $bdir);
    is($rc, 1, 'with --witness B it fails');
    like($out, qr{truncated: \Q$bdir\E/audit-\S+:\d+ witnessed seq $last \(hash [0-9a-f]{64}\) of node "a", signed by it; the chain ends at seq @{[ $cut + 1 ]}: records were cut},
         'naming the witness, the seq and where the chain ends');

    # the rewrite by the key's holder: a record edited, the chain
    # recomputed and every checkpoint signed again
    my @r = map { {%$_} } @l;
    my ($wi) = grep { event_of($r[$_]) eq 'witness' } 0 .. $#r;
    ok($r[$wi]{text} =~ s/"origin":"b"/"origin":"x"/, 'a record of A edited');
    @r = rechain_from('0' x 64, 0, { sign => "$::Keys/sign.key" }, @r);
    my $rw = write_dir("$ENV{TEST_NGINX_SERVROOT}/ck8-resigned", @r);
    ($rc, $out) = audit_tool('verify', $rw, '--pubkey', "$::Keys/sign.pub");
    is($rc, 0, 'the re-signed rewrite passes --pubkey alone') or Test::More::diag($out);
    ($rc, $out) = audit_tool('verify', $rw, '--pubkey', "$::Keys/sign.pub",
                             '--witness', $bdir);
    is($rc, 1, 'with --witness B it fails');
    like($out, qr{audit-\S+:\d+: seq \d+: rewritten: \Q$bdir\E/audit-\S+:\d+ witnessed it with hash [0-9a-f]{64}, signed by this node; the chain has [0-9a-f]{64}},
         'naming the witness and both hashes');

    # the Python verifier of docs/audit.md checks the witnesses of A in
    # B's chain with A's key, and says B's own checkpoints are another's
    SKIP: {
        Test::More::skip('no python3-cryptography', 2)
            if system('python3 -c "import cryptography" 2>/dev/null') != 0;
        my ($py) = slurp(repo_root() . '/docs/audit.md')
            =~ /### Checking a signature in a few lines of Python.*?```python\n(.*?)```/s;
        spew("$::Keys/check.py", $py);
        my ($seg) = map { $_->{seg} } $wb[0];
        my $ok = `python3 $::Keys/check.py $::Keys/sign.pub $bdir/$seg 2>&1`;
        my $n = () = $ok =~ /^witness \d+ of a signs seq \d+ ok$/mg;
        is($n, scalar(grep { $_->{seg} eq $seg } @wb),
           'the Python verifier accepts every witness of A in the segment')
            or Test::More::diag($ok);
        like($ok, qr/^checkpoint \d+ is signed by another key [0-9a-f]{32}$/m,
             'and says B\'s own checkpoints are signed by another key');
    }

    # a witness whose signature was changed (B's chain recomputed)
    my @b = lines_of($bdir);
    my ($bi) = grep { event_of($b[$_]) eq 'witness' && rec($b[$_])->{origin} eq 'a' } 0 .. $#b;
    $b[$bi]{text} =~ s/"sig":"(.)/'"sig":"' . ($1 eq '0' ? '1' : '0')/e or die;
    my $bw = write_dir("$ENV{TEST_NGINX_SERVROOT}/ck8-badwitness", rechain(@b));
    # (what anyone who can write to the stream could inject): no
    # evidence about A, so it does not fail A's chain, but it is said
    ($rc, $out) = audit_tool('verify', $dir, '--pubkey', "$::Keys/sign.pub",
                             '--witness', $bw);
    is($rc, 0, 'a witness with a bad signature does not fail A\'s chain')
        or Test::More::diag($out);
    like($out, qr/--witness "\Q$bw\E": \S+:\d+: warning: witness seq \d+: bad signature: what it says node "a" signed \(seq \d+, hash [0-9a-f]{64}\) is not signed by key [0-9a-f]{32}: not this node's statement, ignored/,
         'it is named, and ignored');
    like($out, qr/^witnessed: .*, 1 ignored \(bad signature or fields\)$/m,
         'and counted');
    # the truncation is still found through the good ones
    ($rc, $out) = audit_tool('verify', $tr, '--pubkey', "$::Keys/sign.pub",
                             '--witness', $bw);
    is($rc, 1, 'the truncation is still found');

    # seal --witness B: the excerpt carries B's witnesses of its
    # checkpoints, and verify-excerpt --pubkey checks them with A's key
    my $ws = rec($wb[0])->{signed_seq};
    my ($wck) = grep { rec($_)->{seq} == $ws + 1 } checkpoints(@l);
    my $file = "$ENV{TEST_NGINX_SERVROOT}/ck8.excerpt";
    ($rc, $out) = audit_tool('seal', $dir, '--from', rec($wck)->{ts},
                             '--to', rec($wck)->{ts}, '--out', $file,
                             '--witness', $bdir);
    is($rc, 0, "seal A's checkpoint of seq $ws with --witness B")
        or Test::More::diag($out);
    my @x = split /\n/, slurp($file) // '';
    my $xh = JSON::PP->new->decode($x[0]);
    my @xw = grep { /^\{"evidence":"witness",/ } @x;
    ok(@xw >= 1 && $xh->{witnesses} == @xw,
       "the header counts the witness lines (@{[ scalar @xw ]})");
    is(JSON::PP->new->decode($xw[0])->{record}, $wb[0]{text},
       'the first is B\'s witness record of seq ' . $ws . ', byte for byte');
    ($rc, $out) = audit_tool('verify-excerpt', $file, '--pubkey',
                             "$::Keys/sign.pub");
    is($rc, 0, 'verify-excerpt --pubkey: exit 0') or Test::More::diag($out);
    like($out, qr/^witnessed by b: seq $ws$/m, "witnessed by b: seq $ws");

    # the witness's signature changed, its record's hash recomputed
    my @t = @x;
    my ($ti) = grep { $t[$_] eq $xw[0] } 0 .. $#t;
    my $e = JSON::PP->new->decode($t[$ti]);
    ($e->{record} =~ s/"sig":"(.)/'"sig":"' . ($1 eq '0' ? '1' : '0')/e) or die;
    $e->{record} =~ s/,"hash":"[0-9a-f]{64}"\}\z// or die;
    $e->{record} .= ',"hash":"' . Digest::SHA::sha256_hex("$e->{record}}") . '"}';
    my $js = JSON::PP->new->allow_nonref;
    $t[$ti] = '{"evidence":"witness","at":' . $js->encode($e->{at})
              . ',"record":' . $js->encode($e->{record}) . '}';
    my $bad = "$ENV{TEST_NGINX_SERVROOT}/ck8-witness.excerpt";
    spew($bad, join("\n", @t) . "\n");
    ($rc, $out) = audit_tool('verify-excerpt', $bad, '--pubkey',
                             "$::Keys/sign.pub");
    is($rc, 1, 'a tampered witness in the excerpt: exit 1');
    like($out, qr/^\Q$bad\E:@{[ $ti + 1 ]}: witnessed by b: seq $ws: bad signature: not what key [0-9a-f]{32} signed$/m,
         'names its line, the node and the seq');
    unlike($out, qr/^witnessed by b: seq $ws$/m, 'and does not say it witnessed');
    }
}
--- no_error_log
[crit]


=== TEST 9: seal takes the checkpoint that signs the excerpt: verify-excerpt --pubkey says "signed through seq N"; an edited, recomputed excerpt and another key fail
--- rtmp_config eval: sign_conf('ck9', '$TEST_NGINX_SIGN/sign.key interval=1s')
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/ck9";
    ok(wait_checkpoints($dir, 1), 'a checkpoint before the session');
    my ($rc, $out) = once('publish', stream('sealroom'));
    like($out, qr/NetStream\.Publish\.Start/, 'a publisher was live');
    my $since = ms_of((lines_of($dir))[-1]);
    ok(wait_checkpoints($dir, 1, $since), 'a checkpoint after the session');

    my @l = lines_of($dir);
    my ($acc) = grep { event_of($_) eq 'publish.accept' } @l;
    my ($end) = grep { event_of($_) eq 'session.end' } @l;
    my ($from, $to) = map { rec($_)->{ts} } $acc, $end;
    my $file = "$ENV{TEST_NGINX_SERVROOT}/ck9.excerpt";
    ($rc, $out) = audit_tool('seal', $dir, '--from', $from, '--to', $to,
                             '--out', $file);
    is($rc, 0, "seal $from .. $to") or Test::More::diag($out);
    my @x = split /\n/, slurp($file);
    my $h = JSON::PP->new->decode(shift @x);
    is($h->{last_seq}, rec($end)->{seq}, 'the range ends at the session.end');
    ok($h->{cover_seq} > $h->{last_seq}, "cover_seq $h->{cover_seq}: after it");
    like($x[-1], qr/"event":"checkpoint"/, 'the excerpt ends with that checkpoint');

    ($rc, $out) = audit_tool('verify-excerpt', $file, '--pubkey', "$::Keys/sign.pub");
    is($rc, 0, 'verify-excerpt --pubkey: exit 0') or Test::More::diag($out);
    like($out, qr/^signed through seq (\d+) \(/m, 'signed through seq N');
    my ($n) = $out =~ /^signed through seq (\d+)/m;
    ok($n >= $h->{last_seq}, "through seq $n, the excerpt's last $h->{last_seq}");
    ($rc, $out) = audit_tool('verify-excerpt', $file, '--pubkey', "$::Keys/other.pub");
    is($rc, 1, 'another key: exit 1');
    like($out, qr/checkpoint seq \d+: wrong key/, 'says wrong key');

    # the excerpt edited, its chain and header recomputed: the chain
    # alone cannot tell, the signature can
    my @e = map { { seg => 'x', text => $_ } } @x;
    ok($e[0]{text} =~ s/"room":"sealroom"/"room":"other"/, 'the publish.accept edited');
    @e = rechain_from($h->{prev}, $h->{first_seq} - 1, @e);
    my %h2 = %$h;
    ($h2{last_hash}) = map { rec($_)->{hash} } grep { rec($_)->{seq} == $h->{last_seq} } @e;
    $h2{cover_hash} = rec($e[-1])->{hash};
    my $bad = "$ENV{TEST_NGINX_SERVROOT}/ck9-edited.excerpt";
    spew($bad, join("\n", JSON::PP->new->canonical->encode(\%h2), map { $_->{text} } @e) . "\n");
    ($rc, $out) = audit_tool('verify-excerpt', $bad);
    is($rc, 0, 'the recomputed excerpt passes without the key') or Test::More::diag($out);
    ($rc, $out) = audit_tool('verify-excerpt', $bad, '--pubkey', "$::Keys/sign.pub");
    is($rc, 1, 'with --pubkey it fails');
    like($out, qr/ck9-edited\.excerpt:\d+: checkpoint seq \d+: rewritten: it signed seq \d+ with hash/,
         'naming the checkpoint that no longer matches');
}
--- no_error_log
[crit]
