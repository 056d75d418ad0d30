# Errors of the control API: every bad request gets its status and a JSON
# {"error","detail"}, the server keeps serving, and nothing changes: no
# order is added or lifted, the state file is untouched, no live session
# is hit.  That holds for the errors nginx itself answers too (413 over
# client_max_body_size, 400 for a malformed request line, URI or header,
# 405 for TRACE, 414, 505, 403 of deny, 401 of auth_basic), while other
# locations keep nginx's pages.  Ids are plain decimal, paths are taken as
# sent ("orders/01", "orders/1/", "orders//1" name nothing).  A restrict
# order of the API names a configured tier; one from the state file need
# not.  Also a full zone (507), an unwritable state file (500) and an
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


# a request sent verbatim: (status, JSON, text, headers) as api() gives

sub raw_json {
    my ($req) = @_;
    my ($st, $h, $text) = http_raw($req);
    my $json = eval { JSON::PP->new->allow_nonref(1)->decode($text) };
    return ($st, $json, $text, $h);
}


# one error case: [name, method, path, body, status, error, detail re,
# headers]; method RAW: path is the whole request, sent as it is

sub check_error {
    my ($state, $before, $c) = @_;
    my ($name, $method, $path, $body, $status, $error, $detail, $hdr) = @$c;

    my ($st, $json, $text, $h) = $method eq 'RAW'
                                 ? raw_json($path)
                                 : api($method, $path, $body, $hdr);

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
    my $sid = sessions()->[0]{id};

    my ($st, $first) = api('POST', 'orders', { target => 'host:h2',
        action => 'suspend', duration => 600, reason => 'in force' });
    is($st, 201, 'an order in force');
    my $id = $first->{id};
    is($id, 1, 'order 1: "orders/01" below is its id with a leading zero');

    my $before = snapshot($state);
    is($before->{status}, 200, 'GET orders');

    my %ok = (target => 'host:h1', action => 'suspend', duration => 600,
              reason => 'r');
    my $o = sub { my %x = (%ok, @_); delete @x{grep { !defined $x{$_} }
                                              keys %x}; \%x };

    my $inv = 'invalid_order';
    my $big = '{"target":"host:h1","action":"suspend","duration":600,'
              . '"reason":"' . ('x' x 65600) . '"}';
    my $huge = '{"reason":"' . ('y' x (2 * 1024 * 1024)) . '"}';

    # a request sent as it is, and a chunked body (no Content-Length)
    my $end = "Host: localhost\r\nConnection: close\r\n\r\n";
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
    my $length = sub {
        my ($len) = @_;
        return "POST /compliance/orders HTTP/1.1\r\nHost: localhost\r\n"
               . "Content-Type: application/json\r\n"
               . "Content-Length: $len\r\nConnection: close\r\n\r\n{";
    };
    my $tiers = qr/^"tier" must be a tier of an application with compliance on: "basic", "low"$/;
    my $plain = qr/^no such resource: .*ids in plain decimal$/;
    my $bad = qr/^nginx refused the request: a malformed request line, URI/;

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
        ['restrict to a tier that is not configured', 'POST', 'orders',
         $o->(action => 'restrict', tier => 'verifed'), 400, $inv, $tiers],
        ['restrict to a tier in capitals', 'POST', 'orders',
         $o->(action => 'restrict', tier => 'LOW'), 400, $inv, $tiers],
        ['restrict to a tier and a space', 'POST', 'orders',
         $o->(action => 'restrict', tier => 'low '), 400, $inv, $tiers],
        ['restrict to a tier of 256 bytes', 'POST', 'orders',
         $o->(action => 'restrict', tier => 'x' x 256), 400, $inv, $tiers],
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
        ['a chunked body over 64 KB', 'RAW', $chunk->($big, 9), undef, 413,
         'body_too_large', qr/65536/],
        # over client_max_body_size (1m by default) nginx refuses the body
        ['a chunked body of 2 MB', 'RAW', $chunk->($huge, 64), undef, 413,
         'body_too_large', qr/65536/],
        ['Content-Length 100000', 'RAW', $length->(100000), undef, 413,
         'body_too_large', qr/65536/],
        ['Content-Length 10000000', 'RAW', $length->(10000000), undef, 413,
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

        # ids in plain decimal only, and the path as it was sent: order 1
        # and the live session stay as they are
        (map {; ["$_->[0] $_->[1]", $_->[0], $_->[1],
                 $_->[0] eq 'POST' ? $o->() : undef, 404, 'not_found',
                 $plain] }
         ['GET', "orders/0$id"], ['DELETE', "orders/0$id"],
         ['DELETE', "orders/00$id"], ['GET', "orders/$id/"],
         ['DELETE', "orders/$id/"], ['GET', "orders//$id"],
         ['DELETE', "orders//$id"], ['DELETE', "/orders/$id"],
         ['DELETE', "orders/./$id"], ['DELETE', "orders/x/../$id"],
         ['DELETE', sprintf('orders/%%%02X', ord $id)],
         ['DELETE', "orders/+$id"],
         ['GET', 'orders/'],        # the collection has no trailing slash
         ['POST', 'orders/'], ['GET', "sessions/0$sid"],
         ['DELETE', "sessions/0$sid"], ['DELETE', "sessions/$sid/"],
         ['DELETE', "sessions//$sid"], ['GET', 'sessions/'],
         ['GET', 'metrics/']),

        # what nginx refuses before the API sees it is JSON too
        ['TRACE orders', 'TRACE', 'orders', undef, 405,
         'method_not_allowed', qr/not allowed/],
        ['TRACE orders/1', 'TRACE', "orders/$id", undef, 405,
         'method_not_allowed', qr/not allowed/],
        ['CONNECT', 'RAW', "CONNECT /compliance/orders HTTP/1.1\r\n$end",
         undef, 405, 'method_not_allowed', qr/not allowed/],
        ['orders/1%00', 'GET', "orders/$id%00", undef, 400, 'bad_request',
         $bad],
        ['DELETE orders/1%00', 'DELETE', "orders/$id%00", undef, 400,
         'bad_request', $bad],
        ['a bad escape', 'DELETE', 'orders/%zz', undef, 400, 'bad_request',
         $bad],
        ['above the root', 'GET', '../../orders', undef, 400, 'bad_request',
         $bad],
        ['a control byte in the request line', 'RAW',
         "GET /compliance/orders\x01 HTTP/1.1\r\n$end", undef, 400,
         'bad_request', $bad],
        ['junk after the version', 'RAW',
         "DELETE /compliance/orders/$id HTTP/1.1 x\r\n$end", undef, 400,
         'bad_request', $bad],
        ['HTTP/2.0 in the request line', 'RAW',
         "GET /compliance/orders HTTP/2.0\r\n$end", undef, 505,
         'http_version_not_supported', qr/HTTP version/],
        ['a request line over 8k', 'GET', 'orders?' . ('q' x 9000), undef,
         414, 'uri_too_long', qr/too long/],
        ['a header over 8k', 'GET', 'orders', undef, 400, 'bad_request',
         $bad, { 'X-Long' => 'v' x 9000 }],
        ['a bad Host', 'RAW', "GET /compliance/orders HTTP/1.1\r\n"
         . "Host: a/b\r\nConnection: close\r\n\r\n", undef, 400,
         'bad_request', $bad],
        ['chunked and Content-Length', 'RAW',
         "POST /compliance/orders HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
         . "Content-Length: 3\r\n$end", undef, 400, 'bad_request', $bad],
        ['a bad chunk', 'RAW',
         "POST /compliance/orders HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
         . "Content-Type: application/json\r\n$end" . "zz\r\n{}\r\n0\r\n\r\n",
         undef, 400, 'bad_request', $bad],
        ['Transfer-Encoding: gzip', 'RAW',
         "POST /compliance/orders HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
         . $end, undef, 501, 'not_implemented', qr/Transfer-Encoding/],
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

    my ($cst, $ch, $cbody) = http_raw($chunk->('{"target":"host:h1",', 2));
    is($cst, 400, 'chunked malformed JSON: 400');
    like($cbody, qr/"invalid_json"/, 'chunked malformed JSON: invalid_json');

    # a HEAD refused by nginx: the JSON headers, no body
    my ($hst, $hh, $hbody) = http_raw("HEAD /compliance/orders/$id%00 "
                                      . "HTTP/1.1\r\n$end");
    is($hst, 400, 'HEAD orders/1%00: 400');
    like($hh->{'content-type'} || '', qr{^application/json},
         'HEAD orders/1%00: JSON');
    is($hbody, '', 'HEAD orders/1%00: no body');

    # other locations keep nginx's own pages
    for my $c (['TRACE /elsewhere HTTP/1.1', 405],
               ['GET /elsewhere/1%00 HTTP/1.1', 400],
               ['GET /elsewhere HTTP/2.0', 505],
               ['GET /elsewhere/compliance/orders HTTP/1.1', 404],
               ['GET /compliance HTTP/1.1', 404])
    {
        my ($st, $h, $text) = http_raw("$c->[0]\r\n$end");
        is($st, $c->[1], "$c->[0]: $c->[1]");
        like($h->{'content-type'} || '', qr{^text/html},
             "$c->[0]: nginx's page");
        like($text, qr{<center><h1>$c->[1] }, "$c->[0]: nginx's text");
    }

    is_deeply(snapshot($state), $before, 'all in all, nothing changed');
    ok(!client_done($pub), 'the live publisher was never hit');
    # (the target quoted or not: t/023 is about how the log spells it)
    unlike(error_log_text(),
           qr/dropped|order \d+ (?:created: suspend host:(?:h1|"h1")|lifted)/,
           'no order was made against it, none lifted');
    my ($ost, $one) = api('GET', "orders/$id");
    is($ost, 200, 'order 1 is still in force');
    is_deeply($one, $first, 'unchanged');

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
qr/compliance: order \d+ created: suspend host:(?:h7|"h7") /


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


=== TEST 6: deny and auth_basic answer JSON; so do "=" and regex API locations
--- rtmp_config eval: zone_conf()
--- http_server_config
location /compliance/ {
    compliance_api;
    deny all;
}

location /auth/ {
    compliance_api;
    auth_basic "compliance";
    auth_basic_user_file $TEST_NGINX_SERVROOT/htpasswd;
}

location = /exact {
    compliance_api;
}

location ~ ^/re/ {
    compliance_api;
}

location /le/ {
    compliance_api;
    limit_except GET {
        deny all;
    }
}
--- post_check eval
sub {
    require MIME::Base64;
    spew("$ENV{TEST_NGINX_SERVROOT}/htpasswd", "mod:{PLAIN}secret\n");

    my $end = "Host: localhost\r\nConnection: close\r\n\r\n";
    my $auth = sub { 'Authorization: Basic '
                     . MIME::Base64::encode_base64($_[0], '') . "\r\n" };

    # [name, request, status, error, detail re, header => re]
    my @cases = (
        ['deny', "GET /compliance/orders HTTP/1.1\r\n$end", 403, 'forbidden',
         qr/does not serve/],
        ['deny, DELETE', "DELETE /compliance/orders/1 HTTP/1.1\r\n$end", 403,
         'forbidden', qr/does not serve/],
        ['deny, POST', "POST /compliance/orders HTTP/1.1\r\n"
         . "Content-Type: application/json\r\nContent-Length: 2\r\n$end"
         . '{}',
         403, 'forbidden', qr/does not serve/],
        ['TRACE, refused before deny', "TRACE /compliance/orders HTTP/1.1\r\n"
         . $end, 405, 'method_not_allowed', qr/not allowed/],
        ['auth_basic, no credentials', "GET /auth/orders HTTP/1.1\r\n$end",
         401, 'unauthorized', qr/credentials/,
         'www-authenticate' => qr/^Basic realm="compliance"$/],
        ['auth_basic, a wrong password', "GET /auth/orders HTTP/1.1\r\n"
         . $auth->('mod:guess') . $end, 401, 'unauthorized', qr/credentials/,
         'www-authenticate' => qr/^Basic realm="compliance"$/],
        ['"=" location, TRACE', "TRACE /exact HTTP/1.1\r\n$end", 405,
         'method_not_allowed', qr/not allowed/],
        ['regex location, TRACE', "TRACE /re/orders HTTP/1.1\r\n$end", 405,
         'method_not_allowed', qr/not allowed/],
        ['regex location, %00', "GET /re/orders%00 HTTP/1.1\r\n$end", 400,
         'bad_request', qr/malformed/],
        ['deny in limit_except', "DELETE /le/orders/1 HTTP/1.1\r\n$end", 403,
         'forbidden', qr/does not serve/],
    );

    for my $c (@cases) {
        my ($name, $req, $status, $error, $detail, %hdr) = @$c;
        my ($st, $json, $text, $h) = raw_json($req);
        is($st, $status, "$name: status $status");
        like($h->{'content-type'} || '', qr{^application/json}, "$name: JSON");
        is(ref $json eq 'HASH' ? $json->{error} : $text, $error,
           "$name: error $error");
        like(ref $json eq 'HASH' ? $json->{detail} : '', $detail,
             "$name: detail");
        is_deeply([sort keys %{ref $json eq 'HASH' ? $json : {}}],
                  ['detail', 'error'], "$name: just error and detail");
        like($h->{$_} || '', $hdr{$_}, "$name: $_") for keys %hdr;
    }

    # what the API itself answers there
    my ($st, $json) = raw_json("GET /auth/orders HTTP/1.1\r\n"
                               . $auth->('mod:secret') . $end);
    is($st, 200, 'auth_basic, the right password: 200');
    is_deeply($json, [], 'the orders');
    ($st, $json) = raw_json("GET /le/orders HTTP/1.1\r\n$end");
    is($st, 200, 'limit_except GET: GET is served');
    ($st, $json) = raw_json("GET /exact HTTP/1.1\r\n$end");
    is($st, 404, '"=" location: the handler answers');
    is($json->{error}, 'not_found', 'not_found');

    # URIs next to them are not the API's
    for my $req ('TRACE /exactly', 'TRACE /exact/', 'TRACE /rex',
                 'GET /rex%00', 'TRACE /authx')
    {
        my ($st, $h, $text) = http_raw("$req HTTP/1.1\r\n$end");
        like($h->{'content-type'} || '', qr{^text/html},
             "$req: nginx's page");
        like($text, qr{<center><h1>$st }, "$req: nginx's text");
    }
}


=== TEST 7: restrict takes a tier of any application with compliance on; orders of the state file are not held to it
--- config eval
tiers('basic', 'low') . live_app() . <<'EOF2'
application studio {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
    compliance_tier gold;
}

application plain {
    live on;
    compliance_tier silver;
}
EOF2
--- rtmp_config eval: zone_conf('e7')
--- post_check eval
sub {
    my $state = "$ENV{TEST_NGINX_SERVROOT}/e7.jsonl";
    my ($st, $none) = api('GET', 'orders');
    is_deeply($none, [], 'no order yet');
    my $before = snapshot($state);

    my $tiers = qr/^"tier" must be a tier of an application with compliance on: "basic", "low", "gold"$/;

    for my $c (['verifed', 'a tier no application has'],
               ['silver', 'a tier of an application with compliance off'],
               ['Gold', 'a tier in other letters'],
               ['', 'an empty tier'])
    {
        check_error($state, $before,
                    ["restrict to $c->[1]", 'POST', 'orders',
                     { target => 'host:hg', action => 'restrict',
                       tier => $c->[0], duration => 600, reason => 'r' },
                     400, 'invalid_order',
                     length $c->[0] ? $tiers : qr/"tier"/]);
    }

    ($st, $none) = api('GET', 'orders');
    is_deeply($none, [], 'GET orders: none was stored');
    is(metrics()->{compliance_orders}, 0, 'compliance_orders 0');

    my $gold = order(target => 'host:hg', action => 'restrict',
                     tier => 'gold', duration => 600, reason => 'studio');
    is($gold->{tier}, 'gold', 'restrict to a tier of another application');
    my $low = order(target => 'host:hl', action => 'restrict',
                    tier => 'low', duration => 600, reason => 'probation');
    is($low->{tier}, 'low', 'restrict to a tier of the application');
    like(slurp($state), qr/"op":"create","order":\{"id":$gold->{id},.*"tier":"gold"/,
         'journalled');

    # live has no tier gold: a publish there restricted to it is refused
    my ($rc, $out) = refused('publish', stream('room1', sub => 'hg'));
    is($rc, 1, 'a publish of live restricted to gold is refused');
    like($out, qr/Publish\.Rejected tier_unknown: restricted to tier "gold" by order $gold->{id}/,
         'tier_unknown');
    my $p = publisher('room2', sub => 'hl');
    ok(wait_output($p, 'status: status NetStream.Publish.Start'),
       'a publish restricted to low is admitted');
    ok(wait_for(sub { my ($s) = find_sessions(host => 'hl');
                      $s && $s->{tier} eq 'low' }), 'in tier low');
    stop_client($p);

    # the state file may name a tier this configuration does not have
    # (another one wrote it): it is loaded as it is
    ok(stop_nginx(), 'stop');
    my $text = slurp($state);
    ok($text =~ s/"tier":"gold"/"tier":"verifed"/, 'the state file now '
                                                   . 'says "verifed"');
    spew($state, $text);
    ok(start_nginx(), 'start');
    my $o;
    ($st, $o) = api('GET', "orders/$gold->{id}");
    is($st, 200, 'the order of the state file is loaded');
    is($o->{tier}, 'verifed', 'with its tier');
    ($rc, $out) = refused('publish', stream('room1', sub => 'hg'));
    like($out, qr/Publish\.Rejected tier_unknown: restricted to tier "verifed" by order $gold->{id}/,
         'and in force: tier_unknown');
}
--- no_error_log eval
qr/\[(?:error|crit)\] .*compliance_state/


=== TEST 8: the tiers a refused restrict names are bounded
--- config eval
tiers(map { sprintf('tier-%02d-%s', $_, 'n' x 40) } 1 .. 40) . live_app()
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    my $name = sub { sprintf('tier-%02d-%s', $_[0], 'n' x 40) };
    my ($st, $json) = api('POST', 'orders', { target => 'host:h1',
        action => 'restrict', tier => 'none', duration => 60,
        reason => 'r' });
    is($st, 400, '400');
    is($json->{error}, 'invalid_order', 'invalid_order');
    my $d = $json->{detail} || '';
    cmp_ok(length $d, '<', 768, 'the detail is bounded: ' . length($d)
                                . ' bytes');
    my @listed = $d =~ /"(tier-\d\d-n+)"/g;
    my ($more) = $d =~ / and (\d+) more$/;
    cmp_ok(scalar @listed, '>=', 5, scalar(@listed) . ' tiers are named');
    is(scalar(@listed) + ($more || 0), 40, 'the others are counted');
    is_deeply(\@listed, [map { $name->($_) } 1 .. @listed],
              'in the order of the configuration');
    ($st) = api('POST', 'orders', { target => 'host:h1',
        action => 'restrict', tier => $name->(40), duration => 60,
        reason => 'r' });
    is($st, 201, 'the last of them is taken');
}
