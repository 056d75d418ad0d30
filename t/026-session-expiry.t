# compliance_session_expiry on: a live publisher whose token expires is
# dropped with token_expired (off, the default: it goes on); session time
# is counted in ms from the admission, so max_duration never cuts early.

use lib 't/lib';

use Test::Compliance;
use Time::HiRes ();

block_defaults(
    rtmp_config        => zone_conf(),
    http_server_config => api_location(),
);

our $Short = tiers('basic', 'short max_duration=2s');

sub app {
    return $Short . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key',
                             'compliance_recheck 200ms',
                             'compliance_leeway 0s', @_);
}


run_tests();

__DATA__

=== TEST 1: on: a publisher is dropped within about a second of its token's exp
--- config eval: app('compliance_session_expiry on')
--- post_check eval
sub {
    my $exp = time() + 3;
    my $t0 = Time::HiRes::time();
    my $run = publisher('r1', exp => $exp, duration => 15000);

    ok(wait_output($run, qr/^status: error NetStream\.Publish\.Rejected token_expired: the token expired while live, \d+ s ago \(leeway 0 s\)$/m, 10),
       'the publisher is told: token_expired');
    my $t = Time::HiRes::time();
    ok($t >= $exp - 0.05, 'not before the token\'s exp');
    ok($t - $exp < 2.5, sprintf('%.2f s after it', $t - $exp));
    ok(wait_for(sub { !find_sessions(room => 'r1') }, 5), 'the session is gone');
}
--- error_log eval
qr/compliance: session \d+ dropped: token_expired, room: "r1", the token expired while live/


=== TEST 2: off (the default): an expired token's session goes on
--- config eval: app()
--- post_check eval
sub {
    my $run = publisher('r2', exp => time() + 2, duration => 4500);
    is(wait_client($run, 20), 0, 'the publisher runs past its token\'s exp');
    like(client_output($run), qr/closed: by=client/, 'to its own end');
}
--- no_error_log
token_expired


=== TEST 3: max_duration=2s ends a session no earlier than 2 s after its admission
--- config eval: app()
--- post_check eval
sub {
    for my $i (1 .. 3) {
        my $run = publisher("r3-$i", tier => 'short', duration => 10000);
        ok(defined wait_client($run, 15), "publisher $i ends");
        my ($after) = client_output($run) =~ /closed: by=server after_ms=(\d+)/;
        ok(defined $after && $after >= 2000,
           "publisher $i: dropped " . ($after // '?') . ' ms after its publish, not earlier than 2 s');
        ok(defined $after && $after < 3500, 'and within the recheck after it');
    }
}
--- error_log eval
qr/dropped: duration_limit, room: "r3-1", live for 2 s, tier "short" allows 2 s/
