# Paths the workers cannot reach: with "user nobody", nginx -t and a start
# refuse a compliance_state or a compliance_audit_log that user cannot
# write (a directory on the way it cannot search), naming the path and the
# user; before, the first order failed with 500 state_unwritable and every
# publish with audit_unavailable.  A path the master makes and hands to
# the user (a directory that is root's but searchable) is accepted, and
# the workers then write it: an order is journalled, a publish audited.
# The workers switch users only under a master running as root: as
# another user there is nothing to check that the master's own checks do
# not.

# before Test::Base is loaded: its END would run the blocks otherwise
BEGIN {
    if ($> != 0) {
        print "1..0 # SKIP the workers run as another user only under "
              . "root\n";
        exit 0;
    }
}

use lib 't/lib';

use Test::Compliance;
use File::Path ();

our $Base = "/tmp/compliance-028-$$";
File::Path::make_path("$Base/closed", "$Base/open");
chmod 0755, $Base;
chmod 0700, "$Base/closed";     # root's: nobody cannot search it
chmod 0777, "$Base/open";
spew("$Base/s3.jsonl", '');     # root's, 0600: the master hands it over
chmod 0600, "$Base/s3.jsonl";
$ENV{TEST_NGINX_PATHS} = $Base;

END { File::Path::remove_tree($Base) if $Base && -d $Base }

block_defaults(
    main_config        => "user nobody nogroup;\n",
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);

run_tests();

__DATA__

=== TEST 1: compliance_state in a directory user nobody cannot search
--- rtmp_config
compliance_zone comp 16m;
compliance_state $TEST_NGINX_PATHS/closed/s1.jsonl;
--- must_die
--- error_log eval
qr{\[emerg\] .*compliance_state: "\Q$ENV{TEST_NGINX_PATHS}\E/closed/s1\.jsonl" cannot be written by user "nobody", that the workers run as}


=== TEST 2: compliance_audit_log in a directory user nobody cannot search
--- rtmp_config
compliance_zone comp 16m;
compliance_audit_log $TEST_NGINX_PATHS/closed/audit2;
--- must_die
--- error_log eval
qr{\[emerg\] .*compliance_audit_log: "\Q$ENV{TEST_NGINX_PATHS}\E/closed/audit2" cannot be written by user "nobody", that the workers run as}


=== TEST 3: the state file there already, root's and 0600, is handed over at start: accepted
--- rtmp_config
compliance_zone comp 16m;
compliance_state $TEST_NGINX_PATHS/s3.jsonl;
compliance_audit_log $TEST_NGINX_PATHS/audit3;
--- post_check eval
sub {
    my ($st, $json, $text) = api('POST', 'orders', { target => 'host:h1',
        action => 'ban', reason => 'fraud' });
    is($st, 201, 'an order is journalled by a worker of user nobody')
        or diag($text);
    like(slurp("$ENV{TEST_NGINX_PATHS}/s3.jsonl"), qr/"op":"create"/,
         'in the state file');
    is((stat "$ENV{TEST_NGINX_PATHS}/s3.jsonl")[4], scalar getpwnam('nobody'),
       'which is nobody\'s');
    my ($rc, $out) = once('publish', stream('room3', sub => 'h3'));
    like($out, qr/NetStream\.Publish\.Start/, 'a publish is audited and admitted');
}
--- no_error_log
audit_unavailable
state_unwritable


=== TEST 4: both in a directory user nobody can write: accepted
--- rtmp_config
compliance_zone comp 16m;
compliance_state $TEST_NGINX_PATHS/open/s4.jsonl;
compliance_audit_log $TEST_NGINX_PATHS/open/audit4;
--- post_check eval
sub {
    my ($st) = api('POST', 'orders', { target => 'host:h1',
        action => 'ban', reason => 'fraud' });
    is($st, 201, 'an order');
}
