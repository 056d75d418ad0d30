# A reload that adds, moves or removes compliance_audit_log is refused
# with an [emerg] that says to restart; the running workers go on with
# the old configuration (so no record is written that the chain cannot
# verify), and a restart then does everything a start does: the
# directory, the writer lock, audit.start, a chain that verifies.

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();
use Digest::SHA ();

block_defaults(
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);


sub audit_line {
    my ($dir) = @_;
    return "compliance_audit_log \$TEST_NGINX_SERVROOT/$dir;\n";
}


# rewrite nginx.conf with FROM replaced by TO, SIGHUP: true once the
# reload is refused with the audit log's [emerg]; nginx.conf is put back

sub refused_reload {
    my ($from, $to) = @_;

    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    my $text = slurp($conf);
    (my $new = $text) =~ s/\Q$from\E/$to/ or die "no \"$from\" in nginx.conf";
    spew($conf, $new);

    my $emerg = qr/\[emerg\].*compliance_audit_log cannot be added, moved or removed on reload .*restart nginx to change it/;
    my $count = sub { my @m = error_log_text() =~ /$emerg/g; scalar @m };
    my $seen = $count->();

    my @before = worker_pids();
    kill 'HUP', nginx_pid();

    my $ok = wait_for(sub { $count->() > $seen }, 10);

    spew($conf, $text);

    Test::More::is("@{[worker_pids()]}", "@before", 'the workers carry on');

    return $ok;
}


sub records {
    my ($dir) = @_;
    my @r;
    for my $f (sort glob "$ENV{TEST_NGINX_SERVROOT}/$dir/*.jsonl") {
        push @r, map { JSON::PP::decode_json($_) } grep { /\S/ }
                 split /\n/, slurp($f);
    }
    return @r;
}


run_tests();

__DATA__

=== TEST 1: adding compliance_audit_log by reload is refused; publishes go on; a restart starts a verifiable chain
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/added";

    ok(refused_reload("compliance_zone comp 16m;\n",
                      "compliance_zone comp 16m;\n" . audit_line('added')),
       'a reload adding compliance_audit_log is refused, saying to restart');
    ok(!-e $dir, 'the directory is not made');

    my ($rc, $out) = once('publish', stream('a1'));
    is($rc, 0, 'a publish is admitted by the running workers');
    like($out, qr/NetStream\.Publish\.Start/, 'and goes live');

    my $m = metrics();
    is($m->{compliance_audit_records_total}, 0,
       'metrics count no audit record: none was written');

    # a restart with it does what a start does
    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    my $text = slurp($conf);
    $text =~ s/(compliance_zone comp 16m;\n)/$1 . audit_line('added')/e;
    $text =~ s/\$TEST_NGINX_SERVROOT/$ENV{TEST_NGINX_SERVROOT}/g;
    spew($conf, $text);
    ok(stop_nginx() && start_nginx(), 'a restart with the audit log');
    ok(wait_for(sub { grep { $_->{event} eq 'audit.start' } records('added') }, 10),
       'the first record is audit.start');
    my @r = records('added');
    is($r[0]{event}, 'audit.start', 'audit.start comes first');
    is($r[0]{prev}, '0' x 64, 'its prev is the zero hash');
    ok(-e "$dir/.writer", 'the writer lock is taken');

    my $tool = repo_root() . '/build/compliance-audit';
    my $v = `$tool verify $dir 2>&1`;
    is($?, 0, 'compliance-audit verify passes') or diag($v);
}
--- expect_emerg
compliance_audit_log cannot be added, moved or removed on reload


=== TEST 2: moving or removing compliance_audit_log by reload is refused; the chain goes on in the first directory
--- rtmp_config eval: zone_conf() . "compliance_audit_log \$TEST_NGINX_SERVROOT/first;\n"
--- post_check eval
sub {
    ok(wait_for(sub { records('first') }, 10), 'the audit log is written');

    ok(refused_reload('/first;', '/second;'),
       'a reload to another directory is refused');
    ok(!-e "$ENV{TEST_NGINX_SERVROOT}/second", 'the other one is not made');

    ok(refused_reload("compliance_audit_log $ENV{TEST_NGINX_SERVROOT}/first;\n", ''),
       'a reload without the audit log is refused');

    my ($rc) = once('publish', stream('a2'));
    is($rc, 0, 'a publish is admitted');
    ok(wait_for(sub { grep { $_->{event} eq 'publish.accept' } records('first') }, 10),
       'and recorded in the first directory');

    my $tool = repo_root() . '/build/compliance-audit';
    my $v = `$tool verify $ENV{TEST_NGINX_SERVROOT}/first 2>&1`;
    is($?, 0, 'the chain verifies') or diag($v);
}
--- expect_emerg
compliance_audit_log cannot be added, moved or removed on reload


=== TEST 3: compliance-audit verify names a record whose prev is not a hash as the writer's fault, not tampering
--- post_check eval
sub {
    # what the writer produced when the log was turned on by a reload:
    # an audit.gap whose prev was 64 NUL bytes
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/nul";
    mkdir $dir;
    my $body = '{"seq":1,"ts":"2026-12-01T21:00:00.000Z","event":"audit.gap",'
             . '"node":"n1","lost":1,"prev":"' . ('\u0000' x 64) . '"';
    my $hash = Digest::SHA::sha256_hex($body . '}');
    spew("$dir/audit-20261201.jsonl", "$body,\"hash\":\"$hash\"}\n");

    my $tool = repo_root() . '/build/compliance-audit';
    my $v = `$tool verify $dir 2>&1`;
    isnt($?, 0, 'verify fails');
    like($v, qr/"prev" holds NUL bytes: the writer's fault, not a broken link/,
         'and says it is the writer\'s fault');

    # a prev of other bytes than hex digits: the same
    (my $bad = $body) =~ s/"prev":"[^"]*"/'"prev":"' . ('Z' x 64) . '"'/e;
    $hash = Digest::SHA::sha256_hex($bad . '}');
    spew("$dir/audit-20261201.jsonl", "$bad,\"hash\":\"$hash\"}\n");
    $v = `$tool verify $dir 2>&1`;
    isnt($?, 0, 'verify fails on a prev that is not hex');
    like($v, qr/"prev" must be 64 lowercase hex digits \(the writer's fault, not a broken link/,
         'the writer\'s fault too');
}
