# compliance_admission_timeout: a connection that has not been admitted
# to publish or play within it of its connect is closed, logged and
# counted; an admitted session, one in an application without
# compliance, and "0" (off) are not.

use lib 't/lib';

use Test::Compliance;

block_defaults(
    rtmp_config        => zone_conf(),
    config             => tiers('basic') . live_app()
                          . "application plain {\n    live on;\n}\n",
    http_server_config => api_location(),
);


# a client that connects to APP and then only sends pings for MS

sub idle {
    my ($app, $ms) = @_;
    my $run = start_client('publish', "$app/unused", '--idle', $ms);
    my $rc = wait_client($run, $ms / 1000 + 10);
    return ($rc, client_output($run));
}


run_tests();

__DATA__

=== TEST 1: a connection that only pings is closed at the deadline, logged and counted
--- rtmp_config eval: zone_conf() . "compliance_admission_timeout 1s;\n"
--- post_check eval
sub {
    my ($rc, $out) = idle('live', 8000);
    is($rc, 4, 'the server closed it');
    my ($after) = $out =~ /closed: by=server after_ms=(\d+)/;
    ok(defined $after && $after >= 900 && $after < 4000,
       "after the 1 s deadline (" . ($after // '?') . " ms)");
    is(metrics()->{compliance_admission_timeouts_total}, 1,
       'compliance_admission_timeouts_total counts it');
}
--- error_log eval
qr/\[info\] .*compliance: no publish or play admitted within 1000 ms of connect, closed \(admission_timeout\)/


=== TEST 2: a publisher admitted before the deadline lives past it
--- rtmp_config eval: zone_conf() . "compliance_admission_timeout 1s;\n"
--- post_check eval
sub {
    my $run = publisher('r2', duration => 3000);
    is(wait_client($run, 15), 0, 'the publisher ran its 3 s');
    like(client_output($run), qr/closed: by=client/, 'and closed itself');
    is(metrics()->{compliance_admission_timeouts_total}, 0, 'no timeout');
}
--- no_error_log
admission_timeout


=== TEST 3: the default is 10 s: a connection idle for 2 s is not closed
--- post_check eval
sub {
    my ($rc, $out) = idle('live', 2000);
    is($rc, 0, 'not closed by the server');
    like($out, qr/closed: by=client/, 'the client closed it');
}
--- no_error_log
admission_timeout


=== TEST 4: 0 turns it off
--- rtmp_config eval: zone_conf() . "compliance_admission_timeout 0;\n"
--- post_check eval
sub {
    my ($rc) = idle('live', 2500);
    is($rc, 0, 'not closed');
}
--- no_error_log
admission_timeout


=== TEST 5: a publish in an application without compliance needs no admission
--- rtmp_config eval: zone_conf() . "compliance_admission_timeout 1s;\n"
--- post_check eval
sub {
    my $run = start_client('publish', 'plain/p5', '--duration', 3000);
    is(wait_client($run, 15), 0, 'the publisher of the plain application ran its 3 s');
    like(client_output($run), qr/closed: by=client/, 'and closed itself');
}
--- no_error_log
admission_timeout


=== TEST 6: the application's own setting applies once connect has chosen it; an application without compliance has none
--- config eval: tiers('basic') . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key', 'compliance_admission_timeout 1s') . "application plain {\n    live on;\n}\n"
--- rtmp_config eval: zone_conf() . "compliance_admission_timeout 30s;\n"
--- post_check eval
sub {
    my ($rc, $out) = idle('live', 8000);
    is($rc, 4, 'live: closed by the server');
    my ($after) = $out =~ /closed: by=server after_ms=(\d+)/;
    ok(defined $after && $after < 4000,
       'at the application\'s 1 s, not the 30 s above it ('
       . ($after // '?') . ' ms)');

    ($rc) = idle('plain', 2500);
    is($rc, 0, 'plain (no compliance): not closed');
}
--- error_log eval
qr/compliance: no publish or play admitted within 1000 ms of connect, closed \(admission_timeout\)/
