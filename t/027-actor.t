# The moderator behind every change (compliance_api_actor): where the
# directive is set, a change (POST orders, DELETE orders/ID, DELETE
# sessions/ID) whose value is empty is refused with 403 actor_required
# and changes nothing (GET orders, the state file, the live session);
# where it is not empty, it is the order's "by" (API, state file, after a
# restart too) and the "by" of order.create, order.lift and of the
# session.end of an operator drop.  The body of a POST cannot give "by".
# auth_basic without a user is nginx's 401 before the API is reached.
# Without the directive nothing changes: no "by" anywhere.  With
# compliance_redis, "by" travels in the order of the stream: an order of
# the fleet keeps its origin's (redis-server on a free port; that block
# is skipped without it).

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();
use MIME::Base64 ();

block_defaults(
    config => tiers('basic', 'low') . live_app(),
);


sub actor_location {
    my ($actor, @more) = @_;
    return "location $Test::Compliance::ApiPrefix {\n    compliance_api;\n"
           . "    compliance_api_actor $actor;\n"
           . join('', map { "    $_;\n" } @more)
           . "    allow 127.0.0.1;\n    deny all;\n}\n";
}


# a refused change: 403 actor_required as JSON, nothing changed

sub refused_change {
    my ($name, $state, $method, $path, $body, $hdr) = @_;

    my (undef, undef, $orders) = api('GET', 'orders');
    my $file = slurp($state);

    my ($st, $json, $text, $h) = api($method, $path, $body, $hdr);
    is($st, 403, "$name: 403");
    like($h->{'content-type'} || '', qr{^application/json}, "$name: JSON");
    is(ref $json eq 'HASH' && $json->{error}, 'actor_required',
       "$name: actor_required") or diag($text);
    like(ref $json eq 'HASH' ? $json->{detail} : '',
         qr/compliance_api_actor is empty.*nothing was changed/,
         "$name: the detail says why");

    my (undef, undef, $after) = api('GET', 'orders');
    is($after, $orders, "$name: GET orders unchanged");
    is(slurp($state), $file, "$name: the state file unchanged");
}


# a redis-server of this file, for TEST 5 (none: that block checks
# nothing but says so)

our $Redis = defined redis_server();
$ENV{TEST_NGINX_REDIS_PORT} = redis_server() // 0;

run_tests();

__DATA__

=== TEST 1: $http_x_moderator: refused when empty, recorded when set (API, state file, audit log)
--- workers: 2
--- rtmp_config eval
zone_conf('a1') . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit1 node=edge-a;\n"
--- http_server_config eval: actor_location('$http_x_moderator')
--- post_check eval
sub {
    my $state = "$ENV{TEST_NGINX_SERVROOT}/a1.jsonl";
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/audit1";
    my %order = (target => 'host:h1', action => 'suspend', duration => 600,
                 reason => 'fake discounts', ref => 'SAMR-1');

    my $pub = publisher('room2', sub => 'h2');
    ok(wait_output($pub, 'NetStream.Publish.Start'), 'a publisher is live');
    my $sid = sessions()->[0]{id};

    refused_change('POST without X-Moderator', $state, 'POST', 'orders',
                   \%order);
    refused_change('POST with an empty X-Moderator', $state, 'POST',
                   'orders', \%order, { 'X-Moderator' => '' });
    refused_change('POST with a control character', $state, 'POST',
                   'orders', \%order, { 'X-Moderator' => "a\x01b" });
    refused_change('POST with 129 bytes', $state, 'POST', 'orders',
                   \%order, { 'X-Moderator' => 'm' x 129 });
    refused_change('DELETE sessions/ID without X-Moderator', $state,
                   'DELETE', "sessions/$sid");
    is(scalar @{sessions()}, 1, 'the session is still live');
    unlike(client_output($pub), qr/Rejected/, 'and was not dropped');

    my ($st, $json) = api('POST', 'orders', { %order, by => 'mallory' },
                          { 'X-Moderator' => 'alice' });
    is($st, 400, 'the body cannot give "by"');
    like($json->{detail}, qr/unknown field "by"/, 'unknown field "by"');

    ($st, $json) = api('GET', 'orders/1', undef, { 'X-Moderator' => '' });
    is($st, 404, 'a read needs no actor');

    ($st, $json) = api('POST', 'orders', \%order,
                       { 'X-Moderator' => 'alice' });
    is($st, 201, 'POST with X-Moderator: alice');
    is($json->{by}, 'alice', 'the order: by alice');
    my $id = $json->{id};

    ($st, $json) = api('GET', "orders/$id");
    is($json->{by}, 'alice', 'GET orders/ID: by alice');
    (undef, $json) = api('GET', 'orders');
    is($json->[0]{by}, 'alice', 'GET orders: by alice');
    like(slurp($state), qr/"op":"create".*"by":"alice"/,
         'the state file: by alice');

    refused_change('DELETE orders/ID without X-Moderator', $state,
                   'DELETE', "orders/$id");

    ($st) = api('DELETE', "orders/$id", undef,
                { 'X-Moderator' => 'carol' });
    is($st, 204, 'DELETE orders/ID by carol');

    ($st, $json) = api('DELETE', "sessions/$sid", undef,
                       { 'X-Moderator' => 'bob' });
    is($st, 202, 'DELETE sessions/ID by bob');
    ok(wait_output($pub, 'Rejected operator_drop'), 'the publisher is dropped');

    my $c = audit_event($dir, 'order.create', sub { $_[0]{order} == $id });
    is($c && $c->{by}, 'alice', 'order.create: by alice');
    my $l = audit_event($dir, 'order.lift', sub { $_[0]{order} == $id });
    is($l && $l->{by}, 'carol', 'order.lift: by carol');
    my $e = audit_event($dir, 'session.end',
                        sub { "$_[0]{session}" eq "$sid" });
    is($e && $e->{why}, 'operator_drop', 'session.end: operator_drop');
    is($e && $e->{by}, 'bob', 'session.end: by bob');

    my $tool = repo_root() . '/build/compliance-audit';
    my $out = `$tool verify $dir 2>&1`;
    is($? >> 8, 0, 'the chain verifies') or diag($out);
}
--- no_error_log
[crit]


=== TEST 2: $remote_user behind auth_basic: no user is nginx's 401, the user is "by"
--- rtmp_config eval: zone_conf('a2')
--- http_server_config eval
actor_location('$remote_user', 'auth_basic "moderation"',
               'auth_basic_user_file $TEST_NGINX_SERVROOT/conf/htpasswd')
--- post_check eval
sub {
    my $state = "$ENV{TEST_NGINX_SERVROOT}/a2.jsonl";
    spew("$ENV{TEST_NGINX_SERVROOT}/conf/htpasswd",
         "dana:{PLAIN}secret\n");
    my %order = (target => 'host:h1', action => 'ban', reason => 'fraud');
    my $auth = { Authorization => 'Basic '
                 . MIME::Base64::encode_base64('dana:secret', '') };

    my $file = slurp($state);
    my ($st, $json) = api('POST', 'orders', \%order);
    is($st, 401, 'no user: 401 of auth_basic');
    is($json->{error}, 'unauthorized', 'as JSON');
    is(slurp($state), $file, 'the state file unchanged');

    ($st, $json) = api('POST', 'orders', \%order, $auth);
    is($st, 201, 'POST as dana');
    is($json->{by}, 'dana', 'by dana');
    like(slurp($state), qr/"by":"dana"/, 'the state file: by dana');
}


=== TEST 3: without compliance_api_actor a change needs none and has no "by"
--- rtmp_config eval
zone_conf('a3') . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit3;\n"
--- http_server_config eval: api_location()
--- post_check eval
sub {
    my $dir = "$ENV{TEST_NGINX_SERVROOT}/audit3";
    my ($st, $json) = api('POST', 'orders', { target => 'host:h1',
        action => 'ban', reason => 'fraud' }, { 'X-Moderator' => 'x' });
    is($st, 201, 'an order');
    ok(!exists $json->{by}, 'no "by"');
    unlike(slurp("$ENV{TEST_NGINX_SERVROOT}/a3.jsonl"), qr/"by"/,
           'none in the state file');
    my $c = audit_event($dir, 'order.create', sub { 1 });
    ok($c && !exists $c->{by}, 'none in order.create');
}


=== TEST 4: "by" is kept in the state file across a restart
--- rtmp_config eval: zone_conf('a4')
--- http_server_config eval: actor_location('$http_x_moderator')
--- post_check eval
sub {
    my ($st, $json) = api('POST', 'orders', { target => 'host:h1',
        action => 'ban', reason => 'fraud' }, { 'X-Moderator' => 'erin' });
    is($st, 201, 'an order by erin');
    restart_nginx();
    ($st, $json) = api('GET', "orders/$json->{id}");
    is($st, 200, 'after a restart');
    is($json->{by}, 'erin', 'still by erin');
}


=== TEST 5: the fleet: "by" goes out in the stream's order, and an order of the fleet keeps its origin's
--- rtmp_config eval
zone_conf('a5') . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit5 node=n5;\n"
. "compliance_redis 127.0.0.1:\$TEST_NGINX_REDIS_PORT;\n"
--- http_server_config eval: actor_location('$http_x_moderator')
--- post_check eval
sub {
    SKIP: {
        skip 'redis-server is not installed', 6 unless $::Redis;
        my $dir = "$ENV{TEST_NGINX_SERVROOT}/audit5";

        my ($st, $json) = api('POST', 'orders', { target => 'host:h1',
            action => 'ban', reason => 'fraud' }, { 'X-Moderator' => 'alice' });
        is($st, 201, 'an order by alice');
        my $uid = $json->{uid};
        ok(wait_for(sub { redis('XRANGE', 'compliance:orders', '-', '+')
                          =~ /"by":"alice"/ }, 10),
           'its entry in the stream has "by":"alice"');

        my $order = '{"target":"host:h9","action":"ban","reason":"fleet",'
                    . '"by":"backoffice-7"}';
        like(redis('XADD', 'compliance:orders', '*', 'op', 'create', 'uid',
                   'backend:9', 'origin', 'backend', 'order', $order),
             qr/^\d+-\d+$/, 'an order of the fleet by backoffice-7');
        my $o;
        ok(wait_for(sub { (undef, my $a) = api('GET', 'orders');
                          ($o) = grep { ($_->{uid} // '') eq 'backend:9' }
                                 @{ref $a eq 'ARRAY' ? $a : []};
                          $o }, 10), 'applied here');
        is($o && $o->{by}, 'backoffice-7', 'it keeps its origin\'s "by"');
        my $c = audit_event($dir, 'order.create',
                            sub { ($_[0]{uid} // '') eq 'backend:9' });
        is($c && $c->{by}, 'backoffice-7', 'order.create: by backoffice-7');
    }
}
