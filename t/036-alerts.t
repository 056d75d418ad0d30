# The Prometheus alerting rules of monitoring/compliance.rules.yml: valid
# (promtool check rules), each alert firing on its failure and not on a
# healthy node (promtool test rules, monitoring/compliance.rules.test.yml),
# and every metric they use exported by GET /compliance/metrics.  promtool
# is in Debian's prometheus package (TEST_PACKAGES).

our $Promtool;

# before Test::Base is loaded: its END would run the blocks otherwise
BEGIN {
    $Promtool = `command -v promtool 2>/dev/null`;
    chomp $Promtool;

    unless ($Promtool) {
        print "1..0 # SKIP promtool is not installed (apt-get install "
              . "prometheus, or make test: TEST_PACKAGES has it)\n";
        exit 0;
    }
}

use lib 't/lib';

use Test::Compliance;

our $Dir = repo_root() . '/monitoring';

block_defaults(
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);

run_tests();

__DATA__

=== TEST 1: promtool check rules, promtool test rules, the metrics are exported
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    my $out = `cd $::Dir && $::Promtool check rules compliance.rules.yml 2>&1`;
    is($? >> 8, 0, 'promtool check rules') or diag($out);
    like($out, qr/SUCCESS: (\d+) rules found/, 'rules found');
    my ($n) = $out =~ /SUCCESS: (\d+) rules found/;
    cmp_ok($n || 0, '>=', 8, 'eight rules at least');

    $out = `cd $::Dir && $::Promtool test rules compliance.rules.test.yml 2>&1`;
    is($? >> 8, 0, 'promtool test rules') or diag($out);
    like($out, qr/SUCCESS/, 'the rule tests pass');

    # the metric names of each rule's expression
    my $rules = slurp("$::Dir/compliance.rules.yml");
    my (%used, @alerts);
    while ($rules =~ /- alert: (\w+)\n(?:\s*#[^\n]*\n)*\s+expr: (.*?)\n\s+(?:for|labels):/sg) {
        my ($alert, $expr) = ($1, $2);
        push @alerts, $alert;
        $expr =~ s/^\s*#.*$//mg;
        $used{$_} = 1 for $expr =~ /\b(compliance_[a-z_]+)\b/g;
    }
    is(scalar @alerts, $n, 'every rule is an alert with an expression');

    my %exported = map { /^(\w+)/ ? ($1 => 1) : () } keys %{metrics()};
    ok(scalar keys %exported > 10, 'GET metrics');
    is_deeply([grep { !/^compliance_/ } sort keys %used], [],
              'only compliance metrics');
    for my $m (sort keys %used) {
        ok($exported{$m}, "$m is exported by GET metrics");
    }
}
