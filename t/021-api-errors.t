# Errors of the control API: every bad request gets its status and a JSON
# {"error","detail"}, the server keeps serving, and nothing changes: no
# order is added or lifted, the state file is untouched, no live session
# is hit.  Also a full zone (507), an unwritable state file (500) and an
# rtmp block without a zone (503).

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();
use Time::HiRes ();

block_defaults(
    config             => tiers('basic', 'low') . live_app(),
    http_server_config => api_location(),
);


# what must not change: the orders as GET orders shows them, the state
# file, the metrics but the error counter

sub snapshot {
    my ($state) = @_;
    my ($st, undef, $orders) = api('GET', 'orders');
    my (undef, undef, $metrics) = api('GET', 'metrics');
    $metrics =~ s/^compliance_state_errors_total .*$//m;
    return { status => $st, orders => $orders, state => slurp($state),
             metrics => $metrics };
}


# one error case: [name, method, path, body, status, error, detail re,
# headers]

sub check_error {
    my ($state, $before, $c) = @_;
    my ($name, $method, $path, $body, $status, $error, $detail, $hdr) = @$c;

    my ($st, $json, $text, $h) = api($method, $path, $body, $hdr);

    is($st, $status, "$name: status $status");
    like($h->{'content-type'} || '', qr{^application/json},
         "$name: JSON");
    is(ref $json eq 'HASH' ? $json->{error} : $text, $error,
       "$name: error $error");
    like(ref $json eq 'HASH' && defined $json->{detail} ? $json->{detail}
                                                        : '',
         $detail, "$name: detail");
    is_deeply([sort keys %{ref $json eq 'HASH' ? $json : {}}],
              ['detail', 'error'], "$name: just error and detail");

    my $after = snapshot($state);
    is($after->{status}, 200, "$name: the server keeps serving");
    is_deeply($after, $before, "$name: nothing changed");
}


run_tests();

__DATA__

=== TEST 1: bad orders, methods and paths change nothing
--- workers: 2
--- rtmp_config eval: zone_conf('e1')
--- post_check eval
sub {
    my $state = "$ENV{TEST_NGINX_SERVROOT}/e1.jsonl";
    my $now = time;

    # a live publisher of host h1, and an order in force, that no bad
    # request may touch
    my $pub = publisher('room1', sub => 'h1');
    ok(wait_sessions(1), 'a publisher is live');

    my ($st, $first) = api('POST', 'orders', { target => 'host:h2',
        action => 'suspend', duration => 600, reason => 'in force' });
    is($st, 201, 'an order in force');

    my $before = snapshot($state);
    is($before->{status}, 200, 'GET orders');

    my %ok = (target => 'host:h1', action => 'suspend', duration => 600,
              reason => 'r');
    my $o = sub { my %x = (%ok, @_); delete @x{grep { !defined $x{$_} }
                                              keys %x}; \%x };

    my $inv = 'invalid_order';
    my $big = '{"target":"host:h1","action":"suspend","duration":600,'
              . '"reason":"' . ('x' x 65600) . '"}';

    my @cases = (
        ['truncated JSON', 'POST', 'orders', '{"target":"host:h1","action":',
         400, 'invalid_json', qr/line 1 column \d+/],
        ['not JSON', 'POST', 'orders', 'target=host:h1&action=ban',
         400, 'invalid_json', qr/./],
        ['empty body', 'POST', 'orders', '', 400, 'invalid_json', qr/./],
        ['a duplicated name', 'POST', 'orders',
         '{"target":"host:h1","target":"host:h9","action":"ban",'
         . '"reason":"r"}', 400, 'invalid_json', qr/duplicate/i],
        ['trailing garbage', 'POST', 'orders',
         '{"target":"host:h1","action":"ban","reason":"r"} x',
         400, 'invalid_json', qr/./],
        ['a JSON array', 'POST', 'orders', '[]', 400, $inv,
         qr/JSON object/],
        ['a JSON string', 'POST', 'orders', '"ban host:h1"', 400,
         qr/^invalid_(json|order)$/, qr/./],
        ['an unknown field', 'POST', 'orders', $o->(colour => 'red'), 400,
         $inv, qr/unknown field "colour"/],
        ['an id given', 'POST', 'orders', $o->(id => 77), 400, $inv,
         qr/unknown field "id"/],
        ['an unknown action', 'POST', 'orders', $o->(action => 'kick'), 400,
         $inv, qr/"action" must be warn, restrict, suspend or ban/],
        ['an action in capitals', 'POST', 'orders', $o->(action => 'BAN',
         duration => undef), 400, $inv, qr/"action" must be/],
        ['no action', 'POST', 'orders', $o->(action => undef), 400, $inv,
         qr/"action" must be/],
        ['an unknown target kind', 'POST', 'orders',
         $o->(target => 'user:h1'), 400, $inv,
         qr/"target" must be KIND:ID/],
        ['a target without a kind', 'POST', 'orders', $o->(target => 'h1'),
         400, $inv, qr/"target" must be KIND:ID/],
        ['a target without an id', 'POST', 'orders',
         $o->(target => 'host:'), 400, $inv, qr/"target" must be KIND:ID/],
        ['a target id over 256 bytes', 'POST', 'orders',
         $o->(target => 'host:' . ('h' x 257)), 400, $inv, qr/"target"/],
        ['no target', 'POST', 'orders', $o->(target => undef), 400, $inv,
         qr/"target" must be KIND:ID/],
        ['a number as target', 'POST', 'orders', $o->(target => 17), 400,
         $inv, qr/"target" must be a string/],
        ['no reason', 'POST', 'orders', $o->(reason => undef), 400, $inv,
         qr/"reason" is required/],
        ['an empty reason', 'POST', 'orders', $o->(reason => ''), 400, $inv,
         qr/"reason" is required/],
        ['a reason over 512 bytes', 'POST', 'orders',
         $o->(reason => 'r' x 513), 400, $inv, qr/"reason" is longer than 512/],
        ['a reason with a control character', 'POST', 'orders',
         $o->(reason => "a\nb"), 400, $inv, qr/control characters/],
        ['a ref over 128 bytes', 'POST', 'orders', $o->(ref => 'c' x 129),
         400, $inv, qr/"ref" is longer than 128/],
        ['until in the past', 'POST', 'orders',
         $o->(duration => undef, until => $now - 60), 400, $inv,
         qr/"until" must be epoch seconds in the future/],
        ['until as a string', 'POST', 'orders',
         $o->(duration => undef, until => '' . ($now + 600)), 400, $inv,
         qr/"until"/],
        ['until and duration', 'POST', 'orders',
         $o->(until => $now + 600), 400, $inv, qr/not both/],
        ['neither until nor duration', 'POST', 'orders',
         $o->(duration => undef), 400, $inv,
         qr/"until" or "duration" is required for suspend/],
        ['a ban with a duration', 'POST', 'orders', $o->(action => 'ban'),
         400, $inv, qr/a ban has no end/],
        ['a ban with until', 'POST', 'orders',
         $o->(action => 'ban', duration => undef, until => $now + 600), 400,
         $inv, qr/a ban has no end/],
        ['restrict without a tier', 'POST', 'orders',
         $o->(action => 'restrict'), 400, $inv,
         qr/"tier" is required for restrict/],
        ['a tier for a suspend', 'POST', 'orders', $o->(tier => 'low'), 400,
         $inv, qr/"tier" is required for restrict and only for it/],
        ['a duration of 0', 'POST', 'orders', $o->(duration => 0), 400, $inv,
         qr/"duration" must be whole seconds/],
        ['a negative duration', 'POST', 'orders', $o->(duration => -5), 400,
         $inv, qr/"duration" must be whole seconds/],
        ['a fractional duration', 'POST', 'orders', $o->(duration => 1.5),
         400, $inv, qr/"duration" must be whole seconds/],
        ['a duration as a string', 'POST', 'orders',
         $o->(duration => '600'), 400, $inv,
         qr/"duration" must be whole seconds/],
        ['a duration over 10 years', 'POST', 'orders',
         $o->(duration => 20 * 366 * 86400), 400, $inv,
         qr/"duration" must be whole seconds/],

        ['a body over 64 KB', 'POST', 'orders', $big, 413,
         'body_too_large', qr/65536/],

        # a browser sends these to any origin without a preflight
        ['no Content-Type', 'POST', 'orders', $o->(), 415,
         'unsupported_media_type', qr{application/json},
         { 'Content-Type' => undef }],
        ['Content-Type text/plain', 'POST', 'orders', $o->(), 415,
         'unsupported_media_type', qr{application/json},
         { 'Content-Type' => 'text/plain' }],
        ['a form', 'POST', 'orders', $o->(), 415, 'unsupported_media_type',
         qr{application/json},
         { 'Content-Type' => 'application/x-www-form-urlencoded' }],
        ['multipart', 'POST', 'orders', $o->(), 415, 'unsupported_media_type',
         qr{application/json},
         { 'Content-Type' => 'multipart/form-data; boundary=x' }],
        ['application/jsonp', 'POST', 'orders', $o->(), 415,
         'unsupported_media_type', qr{application/json},
         { 'Content-Type' => 'application/jsonp' }],
        ['415 before the size', 'POST', 'orders', $big, 415,
         'unsupported_media_type', qr{application/json},
         { 'Content-Type' => 'text/plain' }],

        ['PUT orders', 'PUT', 'orders', $o->(), 405, 'method_not_allowed',
         qr/./],
        ['DELETE orders', 'DELETE', 'orders', undef, 405,
         'method_not_allowed', qr/./],
        ['POST orders/ID', 'POST', "orders/$first->{id}", $o->(), 405,
         'method_not_allowed', qr/./],
        ['PUT orders/ID', 'PUT', "orders/$first->{id}", $o->(), 405,
         'method_not_allowed', qr/./],
        ['POST sessions', 'POST', 'sessions', $o->(), 405,
         'method_not_allowed', qr/./],
        ['DELETE sessions', 'DELETE', 'sessions', undef, 405,
         'method_not_allowed', qr/./],
        ['PUT sessions/ID', 'PUT', 'sessions/1', '{}', 405,
         'method_not_allowed', qr/./],
        ['POST metrics', 'POST', 'metrics', '{}', 405, 'method_not_allowed',
         qr/./],
        ['DELETE metrics', 'DELETE', 'metrics', undef, 405,
         'method_not_allowed', qr/./],

        ['the location itself', 'GET', '', undef, 404, 'not_found', qr/./],
        ['an unknown resource', 'GET', 'bans', undef, 404, 'not_found',
         qr/./],
        ['POST to an unknown resource', 'POST', 'bans', $o->(), 404,
         'not_found', qr/./],
        ['orders/abc', 'GET', 'orders/abc', undef, 404, 'not_found', qr/./],
        ['orders/0', 'GET', 'orders/0', undef, 404, 'not_found', qr/./],
        ['orders/-1', 'DELETE', 'orders/-1', undef, 404, 'not_found',
         qr/./],
        ['orders/ID/x', 'GET', "orders/$first->{id}/x", undef, 404,
         'not_found', qr/./],
        ['a 25 digit order id', 'DELETE', 'orders/' . ('9' x 25), undef,
         404, 'not_found', qr/./],
        ['GET orders/999', 'GET', 'orders/999', undef, 404, 'not_found',
         qr/order/],
        ['DELETE orders/999', 'DELETE', 'orders/999', undef, 404,
         'not_found', qr/order/],
        ['GET sessions/999', 'GET', 'sessions/999', undef, 404, 'not_found',
         qr/session/],
        ['DELETE sessions/999', 'DELETE', 'sessions/999', undef, 404,
         'not_found', qr/session/],
        ['metrics/1', 'GET', 'metrics/1', undef, 404, 'not_found', qr/./],
    );

    for my $c (@cases) {
        if (ref $c->[5]) {
            # either name is fine; check the rest
            my ($st, $json) = api($c->[1], $c->[2], $c->[3]);
            is($st, $c->[4], "$c->[0]: status $c->[4]");
            like(ref $json eq 'HASH' ? $json->{error} : '', $c->[5],
                 "$c->[0]: error");
            is_deeply(snapshot($state), $before, "$c->[0]: nothing changed");
            next;
        }

        check_error($state, $before, $c);
    }

    # the same through a chunked body (no Content-Length)
    my $chunk = sub {
        my ($data, $n) = @_;
        my $req = "POST /compliance/orders HTTP/1.1\r\nHost: localhost\r\n"
                  . "Content-Type: application/json\r\n"
                  . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
        my $size = int(length($data) / $n) + 1;
        for (my $off = 0; $off < length $data; $off += $size) {
            my $part = substr($data, $off, $size);
            $req .= sprintf("%x\r\n", length $part) . $part . "\r\n";
        }
        return $req . "0\r\n\r\n";
    };

    my ($cst, $ch, $cbody) = http_raw($chunk->($big, 9));
    is($cst, 413, 'a chunked body over 64 KB: 413');
    my $cj = eval { JSON::PP->new->decode($cbody) } || {};
    is($cj->{error}, 'body_too_large', 'a chunked body over 64 KB: '
                                       . 'body_too_large');
    is_deeply(snapshot($state), $before, 'a chunked body over 64 KB: '
                                         . 'nothing changed');

    my $huge = '{"reason":"' . ('y' x (2 * 1024 * 1024)) . '"}';
    ($cst, $ch, $cbody) = http_raw($chunk->($huge, 64));
    is($cst, 413, 'a chunked body over client_max_body_size: 413');
    # over client_max_body_size (1m by default) nginx itself refuses the
    # body, with its own page (docs/api.md says so)
    like($cbody, qr/413 Request Entity Too Large/,
         'a chunked body over client_max_body_size: nginx\'s 413');
    is_deeply(snapshot($state), $before, 'a chunked body over '
                                         . 'client_max_body_size: nothing '
                                         . 'changed');

    ($cst, $ch, $cbody) = http_raw($chunk->('{"target":"host:h1",', 2));
    is($cst, 400, 'chunked malformed JSON: 400');
    like($cbody, qr/"invalid_json"/, 'chunked malformed JSON: invalid_json');

    # with Content-Length over the limit, the body is not even read
    for my $len (100000, 10000000) {
        my $cl = "POST /compliance/orders HTTP/1.1\r\nHost: localhost\r\n"
                 . "Content-Type: application/json\r\n"
                 . "Content-Length: $len\r\nConnection: close\r\n\r\n{";
        ($cst, $ch, $cbody) = http_raw($cl);
        is($cst, 413, "Content-Length $len: 413 before the body");
        like($cbody, $len > 1024 * 1024 ? qr/413 Request Entity Too Large/
                                        : qr/"body_too_large"/,
             "Content-Length $len: " . ($len > 1024 * 1024
                                        ? "nginx's 413 over "
                                          . "client_max_body_size"
                                        : "JSON body_too_large"));
    }

    is_deeply(snapshot($state), $before, 'all in all, nothing changed');
    ok(!client_done($pub), 'the live publisher was never hit');
    unlike(error_log_text(), qr/dropped|order \d+ created: suspend host:h1/,
           'no order was made against it');

    # boundaries that are fine: a body of exactly 65536 bytes, a reason of
    # 512 bytes, a ref of 128, a duration of 10 years
    my $exact = JSON::PP->new->canonical(1)->encode(
        { %ok, target => 'host:h7', reason => 'z' x 512, ref => 'q' x 128,
          duration => 10 * 366 * 86400 });
    $exact .= ' ' x (65536 - length $exact);
    is(length $exact, 65536, 'a body of 65536 bytes');
    my ($est, $ej, $etext) = api('POST', 'orders', $exact);
    is($est, 201, 'a body of exactly 65536 bytes is accepted')
        or Test::More::diag($etext);
    is($ej->{id}, $first->{id} + 1,
       'the failed requests used no order id');
    is(length $ej->{reason}, 512, 'the reason is stored whole');
    is($ej->{ref}, 'q' x 128, 'the ref is stored whole');

    ($est, $ej) = api('POST', 'orders',
                      "{\"target\":\"host:h8\",\"action\":\"warn\","
                      . "\"duration\":60,\"reason\":\"r\",\"until\":null}");
    is($est, 201, '"until": null is no until');

    # JSON with a charset, or in capitals, is JSON
    for my $type ('application/json; charset=utf-8', 'Application/JSON',
                  "application/json\t;charset=UTF-8")
    {
        my ($st, $json) = api('POST', 'orders',
                              $o->(target => 'host:h-ctype'),
                              { 'Content-Type' => $type });
        is($st, 201, "Content-Type $type: 201");
        is((api('DELETE', "orders/$json->{id}"))[0], 204,
           "Content-Type $type: lifted") if ref $json eq 'HASH';
    }

    stop_client($pub);
}
--- error_log eval
qr/compliance: order \d+ created: suspend host:h7/


=== TEST 2: a full zone answers 507 and keeps what it stored
--- workers: 2
--- rtmp_config eval: zone_conf('e2', '256k')
--- post_check eval
sub {
    my $state = "$ENV{TEST_NGINX_SERVROOT}/e2.jsonl";
    my (@made, $full, $fj);

    for my $i (1 .. 3000) {
        my ($st, $json, $body) = api('POST', 'orders', {
            target => "host:h$i", action => 'suspend', duration => 3600,
            reason => sprintf('%05d', $i) . ('r' x 500), ref => "ref-$i" });
        if ($st == 201) {
            push @made, $json;
            next;
        }
        $full = $st;
        $fj = $json;
        last;
    }

    cmp_ok(scalar @made, '>', 50, scalar(@made) . ' orders of 600 bytes '
                                  . 'fit in 256k');
    is($full, 507, 'then 507');
    is($fj->{error}, 'zone_full', 'zone_full');
    like($fj->{detail}, qr/nothing was changed/, 'detail');
    ok(wait_for(sub { error_log_text()
                      =~ /compliance: order refused, the zone is full/ }),
       'logged');

    my $check = sub {
        my ($what, @ids) = @_;
        my ($st, $list) = api('GET', 'orders');
        is($st, 200, "$what: GET orders still answers");
        is_deeply([map { $_->{id} } @$list], \@ids,
                  "$what: the stored orders are all there");
        my ($one) = grep { $_->{id} == $ids[-1] } @$list;
        my ($want) = grep { $_->{id} == $ids[-1] } @made;
        is_deeply($one, $want, "$what: whole") if $want;
        my (undef, undef, $m) = api('GET', 'metrics');
        like($m, qr/^compliance_orders \Q${\ scalar @ids}\E$/m,
             "$what: compliance_orders");
        my @lines = grep { /"op":"create"/ } split /\n/, ::slurp($state);
        is(scalar @lines, scalar(@made), "$what: the state file has every "
                                         . "acknowledged order");
    };

    my @ids = map { $_->{id} } @made;
    $check->('full', @ids);

    my ($st, $json) = api('POST', 'orders', { target => 'host:x',
        action => 'ban', reason => 'short' });
    ok($st == 507 || $st == 201, 'a small order: 507 or it fits');
    if ($st == 201) {
        push @made, $json;
        push @ids, $json->{id};
        ($st) = api('POST', 'orders', { target => 'host:x2',
            action => 'ban', reason => 'r' x 512 });
    }
    ($st, $json) = api('POST', 'orders', { target => "host:y",
        action => 'suspend', duration => 60, reason => 'r' x 512 });
    is($st, 507, 'still full');

    my ($s2, $sess) = api('GET', 'sessions');
    is($s2, 200, 'GET sessions still answers');

    # room is made by lifting an order
    my $lift = $ids[0];
    ($st) = api('DELETE', "orders/$lift");
    is($st, 204, 'an order is lifted');
    shift @ids;
    ($st, $json) = api('POST', 'orders', { target => 'host:z',
        action => 'suspend', duration => 60, reason => 'r' x 400 });
    is($st, 201, 'a new order fits in its place');
    is($json->{id}, $made[-1]{id} + 1, 'with the next id: the 507s used none');
    push @made, $json;
    push @ids, $json->{id};
    my ($st3, $list) = api('GET', 'orders');
    is_deeply([map { $_->{id} } @$list], \@ids, 'GET orders');

    # a stored order is in force
    my ($rc, $out) = ::once('publish', ::stream('room1', sub => 'h2'),
                            '--duration', 2000);
    is($rc, 1, 'an order stored in the full zone refuses its host');
    like($out, qr/suspended: suspended until \d+, order $made[1]{id}: 00002r/,
         'with that order');
}


=== TEST 3: an unwritable state file: 500 and nothing changed
--- workers: 2
--- rtmp_config eval: zone_conf('e3')
--- post_check eval
sub {
    my $state = "$ENV{TEST_NGINX_SERVROOT}/e3.jsonl";
    ok(-f $state, 'the master made the state file');
    my $orig = ::slurp($state);

    my $pub = ::publisher('room1', sub => 'h1');
    ok(wait_sessions(1), 'a publisher is live');

    # before any worker opened the file: its path becomes a directory
    rename $state, "$state.saved" or die "rename: $!";
    mkdir $state or die "mkdir: $!";

    for my $i (1 .. 4) {
        my ($st, $json) = api('POST', 'orders', { target => 'host:h1',
            action => 'suspend', duration => 600, reason => "try $i" });
        is($st, 500, "POST $i: 500");
        is($json->{error}, 'state_unwritable', "POST $i: state_unwritable");
        like($json->{detail}, qr/nothing was changed/, "POST $i: detail");
    }

    my ($st, $list) = api('GET', 'orders');
    is($st, 200, 'GET orders still answers');
    is_deeply($list, [], 'no order was stored');
    my (undef, undef, $m) = api('GET', 'metrics');
    like($m, qr/^compliance_orders 0$/m, 'compliance_orders 0');
    like($m, qr/^compliance_state_errors_total 4$/m,
         'compliance_state_errors_total counts the failures');
    like(error_log_text(),
         qr/\[error\] .*compliance_state: open\(\) ".*e3\.jsonl" failed \(21: Is a directory\)/,
         'the open error is logged');
    Time::HiRes::sleep(0.6);
    ok(!client_done($pub), 'the publisher was not dropped');
    my (undef, $ss) = api('GET', 'sessions');
    is(scalar @$ss, 1, 'it is still listed');

    # the operator repairs the path: the next POST works
    rmdir $state or die "rmdir: $!";
    rename "$state.saved", $state or die "rename: $!";
    is(::slurp($state), $orig, 'the state file was not touched');

    my $o;
    ($st, $o) = api('POST', 'orders', { target => 'host:h1',
        action => 'suspend', duration => 600, reason => 'works now' });
    is($st, 201, 'after the repair an order is created');
    ok(wait_for(sub { client_done($pub) }, 3), 'and drops the publisher');
    like(::slurp($state), qr/"op":"create","order":\{"id":$o->{id},/,
         'and is journalled');

    # a write that fails (the file is a full device), for a lift too
    ok(restart_nginx(), 'restart: the workers have no state file open');
    unlink $state or die "unlink: $!";
    symlink '/dev/full', $state or die "symlink: $!";

    ($st, my $json) = api('DELETE', "orders/$o->{id}");
    is($st, 500, 'a lift that cannot be written: 500');
    is($json->{error}, 'state_unwritable', 'state_unwritable');
    like($json->{detail}, qr/stays in force/, 'the order stays in force');
    ($st, my $still) = api('GET', "orders/$o->{id}");
    is($st, 200, 'the order is still there');
    is_deeply($still, $o, 'unchanged');

    ($st, $json) = api('POST', 'orders', { target => 'host:h5',
        action => 'ban', reason => 'full disk' });
    is($st, 500, 'a create that cannot be written: 500');
    is($json->{error}, 'state_unwritable', 'state_unwritable');
    ($st, $list) = api('GET', 'orders');
    is_deeply([map { $_->{id} } @$list], [$o->{id}], 'nothing added');
    like(error_log_text(),
         qr/compliance_state: writing ".*e3\.jsonl" failed \(28: No space left on device\)/,
         'the write error is logged');

    my ($rc, $out) = ::once('publish', ::stream('room1', sub => 'h1'));
    is($rc, 1, 'the order whose lift failed still refuses its host');

    ($rc, $out) = ::once('publish', ::stream('room5', sub => 'h5'));
    is($rc, 0, 'the ban that failed was never in force');

    unlink $state;
}


=== TEST 4: without compliance_zone the API answers 503 no_zone
--- config
compliance_tier basic;
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
}
--- post_check eval
sub {
    for my $c (['GET', 'orders'], ['GET', 'sessions'], ['GET', 'metrics'],
               ['POST', 'orders'], ['DELETE', 'orders/1'])
    {
        my ($st, $json, $body, $h) = api(@$c, $c->[0] eq 'POST'
            ? { target => 'host:h1', action => 'ban', reason => 'r' }
            : undef);
        is($st, 503, "$c->[0] $c->[1]: 503");
        is($json->{error}, 'no_zone', "$c->[0] $c->[1]: no_zone");
        like($json->{detail}, qr/compliance_zone/, 'detail');
        like($h->{'content-type'}, qr{^application/json}, 'JSON');
    }
}


=== TEST 5: compliance_state without compliance_zone is refused
--- rtmp_config
compliance_state $TEST_NGINX_SERVROOT/e5.jsonl;
--- http_server_config
--- must_die
--- error_log
"compliance_state" requires "compliance_zone" in the rtmp block
