# The moderation console (compliance_console): the page, its headers and
# its Content-Security-Policy, the configuration errors, and the page in a
# real browser: headless Chromium, driven through chromedriver's WebDriver
# HTTP protocol, lists the live sessions, shows an API error, issues a
# suspension that drops its session, lifts it, and drops an AI host's
# session; in a 1280x800 window, claims of 256 bytes and reasons of 512
# are cut to their cells and every button stays in view; look-alike ids
# are marked and the characters that could hide or reorder text (bidi
# controls, C0 and C1 controls, zero-width and other invisible ones) are
# shown escaped.  chromium and chromium-driver are installed when missing;
# the browser blocks are skipped, with the reason, only when they cannot
# be.  The screenshots of the first block are left in the servroot
# (TEST_NGINX_NO_CLEAN=1 keeps it): console-live.png, console-order.png,
# console-refused.png; those of the long and the hostile values in
# build/console-screenshots (TEST_CONSOLE_SHOTS=DIR for another):
# console-long.png, console-hostile.png, console-hostile-fake.png.
# TEST_CHROMIUM and TEST_CHROMEDRIVER name other binaries.

use utf8;
use lib 't/lib';

use Test::Compliance;
use Test::Browser;
use Digest::SHA ();
use File::Path ();
use HTTP::Tiny ();
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();
use Time::HiRes ();

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

our $Reason = '虚假宣传 false price claims';
our $Ref = 'SAMR-2026-0042';

our $RtmpConf = zone_conf('console');
our $RtmpConfNoState = zone_conf();

# the windows of the long values' test, WIDTH,HEIGHT (TEST_CONSOLE_WINDOWS
# for others)
our @Windows = split ' ', $ENV{TEST_CONSOLE_WINDOWS} || '1280,800 1920,1080';

our $Config = tiers('basic', 'verified ai_host=allow') . live_app();

our $Locations = api_location() . <<'EOF';

location /console/ {
    compliance_console;
    allow 127.0.0.1;
    deny all;
}

location = /ops/console {
    compliance_console /ops/api;
}

location /ops/api/ {
    return 403;
}
EOF


# the rows of a table of the page: [{ id, class, cells => [text...] }],
# the text as shown (a block's text on its own line)

sub rows {
    my ($table) = @_;
    return js(<<'EOF', $table) || [];
return Array.prototype.map.call(
    document.querySelectorAll('#' + arguments[0] + '-body tr'),
    function (r) {
        return { id: r.getAttribute('data-id'), class: r.className,
                 cells: Array.prototype.map.call(r.cells, function (c) {
                     return c.innerText; }) };
    });
EOF
}


sub row_of {
    my ($table, $col, $re) = @_;
    my ($row) = grep { $_->{cells}[$col] =~ $re } @{rows($table)};
    return $row;
}


# [hidden, text] of a message box: "error" or "notice"

sub message {
    my ($box) = @_;
    return js('var b = document.getElementById(arguments[0]);'
              . 'return [b.hidden, b.textContent];', $box);
}


#-----------------------------------------------------------------------------
# the API and the RTMP side
#-----------------------------------------------------------------------------

# the UTF-8 bytes of a text (the API's JSON and the clients' output are
# read as bytes)

sub bytes {
    my ($text) = @_;
    utf8::encode($text);
    return $text;
}


#-----------------------------------------------------------------------------
# the browser block
#-----------------------------------------------------------------------------

sub browser_test {
    my ($block, $root, $http) = @_;

    my $t0 = Time::HiRes::time();

    my $target = publisher('room-7', sub => 'host-7', pid => 'person-7',
                           duration => 60000);
    my $ai = publisher('ai-room', sub => 'ai-host', pid => 'person-8',
                       tier => 'verified', ai => JSON::PP::true,
                       duration => 60000);
    my $xss = publisher('room-x', sub => 'host-x', pid => 'person-9',
                        op => '<img src=x id=xss>', mcn => '<b>m</b>',
                        duration => 60000);

    ok(wait_sessions(3, 15), 'three publishers live');

    start_browser($root);
    Test::More::note(sprintf 'browser up in %.1f s',
                     Time::HiRes::time() - $t0);

    wd('POST', '/url', { url => "$http/console/" });

    ok(wait_for(sub { row_of('sessions', 1, qr/^room-7/) }, 10),
       'the console lists the session of room-7');
    ok(wait_for(sub { @{rows('sessions')} == 3 }, 10),
       'and the three sessions');

    my $title = wd('GET', '/title');
    is($title, '合规审核台 Moderation console', 'the title');

    my $status = js('return document.getElementById("status").textContent');
    like($status, qr/^已连接 Connected/, "the status line: $status");

    # a session's columns: id, room, host, operator, MCN, tier, AI label,
    # viewers, duration, protocol
    my ($s7) = grep { $_->{room} eq 'room-7' } @{sessions()};
    my $r7 = row_of('sessions', 1, qr/^room-7/);
    is($r7->{id}, $s7->{id}, 'the row is keyed by the session id');
    is($r7->{cells}[0], $s7->{id}, 'the id');
    like($r7->{cells}[2], qr/^host-7/, 'the host');
    like($r7->{cells}[2], qr/person-7/, 'the person');
    is($r7->{cells}[3], 'op1', 'the operator');
    is($r7->{cells}[4], 'mcn1', 'the MCN');
    is($r7->{cells}[5], 'basic', 'the tier');
    is($r7->{cells}[6], '—', 'no AI label');
    is($r7->{cells}[7], '0', 'viewers');
    like($r7->{cells}[8], qr/^00:00:\d\d$/, 'the duration');
    is($s7->{proto}, 'rtmp', 'GET sessions: proto rtmp');
    is($r7->{cells}[9], $s7->{proto}, 'the protocol, as GET sessions says');
    is(js('return document.querySelectorAll("#sessions th")[9].textContent'),
       '协议 Protocol', 'under its heading');
    unlike($r7->{class}, qr/\bai\b/, 'not marked as AI');

    my $rai = row_of('sessions', 1, qr/^ai-room/);
    like($rai->{cells}[6], qr/^人工智能生成\s+AI-generated$/,
         'an AI-generated host is labelled');
    like($rai->{class}, qr/\bai\b/, 'and its row is marked');
    is(js('return getComputedStyle(document.querySelector('
          . '"#sessions-body tr.ai .badge.ai")).display'), 'inline-block',
       'the label is shown');

    # values from the API are text, not markup
    my $rx = row_of('sessions', 1, qr/^room-x/);
    is($rx->{cells}[3], '<img src=x id=xss>', 'markup in a claim is shown '
                                              . 'as text');
    is($rx->{cells}[4], '<b>m</b>', 'another');
    is_deeply(js('return [document.getElementById("xss"), '
                 . 'document.querySelectorAll("main img, main td b").length]'),
              [undef, 0], 'and never becomes markup');

    # the plays are counted by protocol
    my $count = sub {
        return js('return document.getElementById("sessions-count")'
                  . '.textContent');
    };
    like($count->(), qr/^3 个直播 live · 0 个观看 plays$/,
         'no plays: none counted');
    my $viewer = player('room-x');
    ok(wait_output($viewer, 'status: status NetStream.Play.Start'),
       'an RTMP player of room-x plays');
    ok(wait_for(sub {
           $count->() =~ /^3 个直播 live · 1 个观看 plays \(rtmp 1\)$/
       }, 10), 'it is counted with its protocol: ' . $count->());
    stop_client($viewer);
    ok(wait_for(sub { $count->() =~ /· 0 个观看 plays$/ }, 10),
       'and is gone from the count when it goes');

    # an error of the API is shown: a reason of 600 bytes
    click('#target-kind option[value="host"]');
    type_into('#target-id', 'host-7');
    click('#action option[value="suspend"]');
    type_into('#duration', '600');
    click('#duration-unit option[value="1"]');
    type_into('#reason', '假' x 200);
    click('#issue');

    ok(wait_for(sub { !message('error')->[0] }, 10), 'an error is shown');
    my $err = message('error')->[1];
    like($err, qr/POST orders: invalid_order: "reason" is longer than 512 bytes \(HTTP 400\)/,
         "with the API's error and detail: $err");
    like(js('return document.getElementById("reason-bytes").textContent'),
         qr{^600 / 512}, 'the reason counts its bytes');
    my ($st, $orders) = api('GET', 'orders');
    is_deeply($orders, [], 'no order was made');

    screenshot("$root/console-live.png");

    # the order: suspend host:host-7 for 600 s
    type_into('#reason', $Reason);
    type_into('#ref', $Ref);
    my $t1 = Time::HiRes::time();
    click('#issue');

    my $o;
    ok(wait_for(sub {
        (undef, $orders) = api('GET', 'orders');
        ($o) = @{$orders || []};
        return $o;
    }, 10), 'the page made an order');

    is($o->{target}, 'host:host-7', 'its target');
    is($o->{action}, 'suspend', 'its action');
    is($o->{reason}, bytes($Reason), 'its reason');
    is($o->{ref}, $Ref, 'its ref');
    cmp_ok(abs($o->{until} - $o->{created} - 600), '<=', 1, 'for 600 s');

    ok(wait_output($target, bytes("Publish.Rejected suspended: order "
                                  . "$o->{id}: $Reason (ref $Ref)")),
       'the publisher is told it is suspended');
    ok(wait_for(sub { !grep { $_->{host} eq 'host-7' } @{sessions()} }, 5),
       'the session leaves GET sessions');
    ok(wait_for(sub { !row_of('sessions', 1, qr/^room-7/) }, 10),
       'and the page');
    Test::More::note(sprintf 'gone from the page %.1f s after the click',
                     Time::HiRes::time() - $t1);
    is(scalar @{rows('sessions')}, 2, 'the other sessions stay');

    my $ro;
    ok(wait_for(sub { $ro = row_of('orders', 0, qr/^\Q$o->{id}\E$/) }, 10),
       'the order is in the orders table');
    like($ro->{cells}[1], qr/host:host-7$/, 'its target');
    like($ro->{cells}[1], qr/^主播账号 host/, 'its kind');
    is($ro->{cells}[2], '暂停 suspend', 'its action');
    like($ro->{cells}[4], qr/剩余 left 00:(?:09|10):\d\d$/, 'its time left');
    is($ro->{cells}[5], $Reason, 'its reason');
    is($ro->{cells}[6], $Ref, 'its ref');

    my $notice = message('notice');
    like($notice->[1], qr/Order #$o->{id} issued: suspend host:host-7/,
         'the page says the order is issued');
    ok(message('error')->[0], 'the earlier error is gone');
    is(js('return document.getElementById("reason").value'), '',
       'the form is cleared');

    my $png = screenshot("$root/console-order.png");
    like($png, qr/^\x89PNG\r\n\x1a\n/, 'a PNG screenshot');
    cmp_ok(length $png, '>', 20000, 'of some size');

    # lift it from the page, through the confirm dialog
    click(qq{#orders-body tr[data-id="$o->{id}"] button.lift});
    like(wd('GET', '/alert/text'), qr/Lift order #$o->{id} \(suspend host:host-7\)/,
         'lifting asks first');
    wd('POST', '/alert/accept');

    ok(wait_for(sub {
        my (undef, $list) = api('GET', 'orders');
        return ref $list eq 'ARRAY' && !@$list;
    }, 10), 'the order is gone from GET orders');
    my ($st2) = api('GET', "orders/$o->{id}");
    is($st2, 404, 'GET orders/ID is 404');
    ok(wait_for(sub { !@{rows('orders')} }, 10),
       'and from the orders table');
    like(message('notice')->[1], qr/Order #$o->{id} is lifted/,
         'the page says so');

    # drop the AI host's session: dismissed first, then accepted
    click(qq{#sessions-body tr[data-id="$rai->{id}"] button.drop});
    like(wd('GET', '/alert/text'), qr/Drop session #$rai->{id} \(room ai-room, host ai-host\)/,
         'dropping asks first');
    wd('POST', '/alert/dismiss');
    Time::HiRes::sleep(0.5);
    ok(!client_done($ai), 'dismissed: the session stays');
    unlike(error_log_text(), qr/session $rai->{id} to be dropped/,
           'nothing was sent');

    click(qq{#sessions-body tr[data-id="$rai->{id}"] button.drop});
    wd('POST', '/alert/accept');
    ok(wait_output($ai, 'Publish.Rejected operator_drop'),
       'accepted: the session is dropped');
    ok(wait_for(sub { !row_of('sessions', 1, qr/^ai-room/) }, 10),
       'and leaves the page');

    # an API that refuses: the page says so and keeps trying
    wd('POST', '/url', { url => "$http/ops/console" });
    my $bad;
    ok(wait_for(sub {
        $bad = js('var s = document.getElementById("status");'
                  . 'return s.className + " " + s.textContent;');
        return $bad =~ /^bad /;
    }, 10), 'an API that answers 403 is shown');
    like($bad, qr{^bad 刷新失败 Refresh failed — GET (?:sessions|orders): Forbidden \(HTTP 403\)$},
         "as such: $bad");
    my $polls = sub {
        open my $fh, '<', "$root/logs/access.log" or return 0;
        return scalar grep { m{"GET /ops/api/sessions } } <$fh>;
    };
    my $n = $polls->();
    ok(wait_for(sub { $polls->() > $n }, 5), 'and keeps polling');
    screenshot("$root/console-refused.png");

    # the 400 and the 403s above are logged as failed loads
    no_browser_errors(qr{/compliance/orders - Failed to load resource: the server responded with a status of 400},
                      qr{/ops/api/(?:sessions|orders) - Failed to load resource: the server responded with a status of 403});

    stop_browser();
    stop_client($_) for $target, $ai, $xss;

    Test::More::note(sprintf 'the browser block took %.1f s',
                     Time::HiRes::time() - $t0);
}


#-----------------------------------------------------------------------------
# long values: each cut to its cell, the buttons in view
#-----------------------------------------------------------------------------

# where the screenshots of the long and the hostile values are kept, out
# of the servroot so that they outlive a passing run: TEST_CONSOLE_SHOTS,
# by default build/console-screenshots

sub shots_dir {
    my $dir = $ENV{TEST_CONSOLE_SHOTS}
              || repo_root() . '/build/console-screenshots';
    File::Path::make_path($dir);
    return $dir;
}


# the geometry of the page, in CSS pixels: the window, the page's width,
# each table's scroll area, each button of a row (its box once the page is
# scrolled down to it, the box of its table's scroll area, whether it is
# what is seen at its centre) and each
# cell of a row (its box, the size of the text seen in it, its text, the
# titles in it, its line height)

sub geometry {
    return js(<<'EOF');
var each = function (css, f) {
    Array.prototype.forEach.call(document.querySelectorAll(css), f);
};
var box = function (e) {
    var r = e.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, bottom: r.bottom,
             width: r.width, height: r.height };
};
var g = { width: window.innerWidth, height: window.innerHeight,
          page: document.documentElement.scrollWidth, areas: {},
          buttons: [], cells: [] };
each('.scroll', function (a) {
    g.areas[a.querySelector('table').id] =
        { box: box(a), scroll: a.scrollWidth, client: a.clientWidth };
});
each('tbody tr button', function (b) {
    var r = b.getBoundingClientRect();
    var hit;
    /* the page may be longer than the window: scroll it, and it alone, to
       the button's height (not sideways, and not the table's area) */
    window.scrollBy(0, (r.top + r.bottom - window.innerHeight) / 2);
    r = b.getBoundingClientRect();
    hit = document.elementFromPoint((r.left + r.right) / 2,
                                    (r.top + r.bottom) / 2);
    g.buttons.push({ table: b.closest('table').id,
                     row: b.closest('tr').getAttribute('data-id'),
                     text: b.textContent, box: box(b),
                     area: box(b.closest('.scroll')),
                     seen: !!hit && b.contains(hit) });
});
/* the box of the text one sees in a cell: each line of text as laid out,
   cut by the boxes that clip it */
var seen = function (td) {
    var v = { left: Infinity, right: -Infinity, top: Infinity,
              bottom: -Infinity };
    var walk = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
    var range = document.createRange();
    var n, e, c, i, rs, r;
    while ((n = walk.nextNode())) {
        range.selectNodeContents(n);
        rs = range.getClientRects();
        for (i = 0; i < rs.length; i++) {
            r = { left: rs[i].left, right: rs[i].right, top: rs[i].top,
                  bottom: rs[i].bottom };
            for (e = n.parentNode; e !== td.parentNode; e = e.parentNode) {
                if (getComputedStyle(e).overflow === 'visible') { continue; }
                c = e.getBoundingClientRect();
                r.left = Math.max(r.left, c.left);
                r.right = Math.min(r.right, c.right);
                r.top = Math.max(r.top, c.top);
                r.bottom = Math.min(r.bottom, c.bottom);
            }
            if (r.right > r.left && r.bottom > r.top) {
                v.left = Math.min(v.left, r.left);
                v.right = Math.max(v.right, r.right);
                v.top = Math.min(v.top, r.top);
                v.bottom = Math.max(v.bottom, r.bottom);
            }
        }
    }
    return { width: Math.max(0, v.right - v.left),
             height: Math.max(0, v.bottom - v.top) };
};
each('tbody td', function (td) {
    var titles = Array.prototype.map.call(td.querySelectorAll('[title]'),
                                          function (e) { return e.title; });
    if (td.title) { titles.unshift(td.title); }
    g.cells.push({ table: td.closest('table').id,
                   row: td.parentNode.getAttribute('data-id'),
                   col: td.cellIndex, text: td.textContent, box: box(td),
                   seen: seen(td), titles: titles,
                   line: parseFloat(getComputedStyle(td).lineHeight) });
});
window.scrollTo(0, 0);
return g;
EOF
}


# layout_test("WIDTHxHEIGHT", [TABLE, ITEM, COLUMN, LINES, VALUES...]...):
# the page in the browser, in a window of that size, fits its width, its
# buttons are in view, and the cell of each ITEM's COLUMN holds its
# VALUES whole but shows at most LINES lines of them

sub layout_test {
    my ($size, @long) = @_;

    ok(wait_for(sub { @{rows('sessions')} == 3 && @{rows('orders')} == 3
                      && rows('sessions')->[2]{cells}[8] ne '' }, 10),
       "$size: the console lists the three sessions and the three orders");

    my $g = geometry();
    Test::More::note("$size: the page is $g->{width} x $g->{height}");
    cmp_ok($g->{width}, '>=', 1200, 'a window of a usual width');
    cmp_ok($g->{page}, '<=', $g->{width}, 'the page is no wider than it');

    for my $t (qw(sessions orders)) {
        my $area = $g->{areas}{$t};
        cmp_ok($area->{scroll}, '<=', $area->{client},
               "$size: the $t table fits its width: nothing to scroll to");
    }

    is(scalar(grep { $_->{table} eq 'sessions' } @{$g->{buttons}}), 6,
       'Order and Drop buttons on the three sessions');
    is(scalar(grep { $_->{table} eq 'orders' } @{$g->{buttons}}), 3,
       'a Lift button on each order');

    for my $b (@{$g->{buttons}}) {
        my ($x, $area) = ($b->{box}, $b->{area});
        my $what = "$b->{table} $b->{row}: $b->{text}";

        ok($x->{width} > 0 && $x->{left} >= 0 && $x->{right} <= $g->{width}
           && $x->{top} >= 0 && $x->{bottom} <= $g->{height},
           "$what is in the window")
            or Test::More::diag(Test::More::explain($x));
        ok($x->{left} >= $area->{left} && $x->{right} <= $area->{right},
           "$what is in its table's visible area")
            or Test::More::diag(Test::More::explain($x, $area));
        ok($b->{seen}, "$what is not covered");
    }

    for my $l (@long) {
        my ($t, $item, $col, $lines, @values) = @$l;
        my ($c) = grep { $_->{table} eq $t && $_->{row} eq $item->{id}
                         && $_->{col} == $col } @{$g->{cells}};
        my $what = "$t $item->{id} column $col";

        ok($c, "$what is in the page") or next;

        for my $v (@values) {
            ok(index($c->{text}, $v) >= 0, "$what holds the whole value");
            ok((grep { index($_, $v) >= 0 } @{$c->{titles}}),
               'and shows it whole in a title');
        }

        cmp_ok($c->{seen}{width}, '>', 0, "$what: its text is seen");
        cmp_ok($c->{seen}{width}, '<=', 24 * 16, 'at most 24rem of it');
        cmp_ok($c->{seen}{height}, '<=', $lines * $c->{line} + 2,
               "$lines line" . ($lines > 1 ? 's' : '') . ' of it at most');
    }

    my @wide = grep { $_->{seen}{width} > 24 * 16 } @{$g->{cells}};
    is_deeply([map { "$_->{table} $_->{row} column $_->{col}" } @wide], [],
              'no cell shows more than 24rem of text');

    my $png = screenshot(shots_dir() . "/console-long-$size.png");
    like($png, qr/^\x89PNG\r\n\x1a\n/, "a PNG screenshot of them, $size");

}


sub long_values_test {
    my ($block, $root, $http) = @_;

    # claims of 256 bytes, the most a claim can be (255 for a room, the
    # most a stream name can be): without a space, and in Chinese (3 bytes
    # a character)
    my $long = sub { substr($_[0] x 256, 0, $_[1] || 256) };
    my %a = (mcn => $long->('mcn-0123456789abcdef'));
    my %b = (room => $long->('room-long-', 255), sub => $long->('host-long-'),
             pid => $long->('person-'), op => '运营者' x 28 . '运x',
             mcn => '机构' x 42 . 'mcn-');
    my $reason_zh = '虚假宣传，价格欺诈。' x 17 . 'x' x 2;
    my $reason_en = $long->('false-price-claims;') x 2;
    my $target = 'person:' . $long->('p');
    my $ref = substr('SAMR-2026-' x 13, 0, 128);

    is(length bytes($_), 256, 'a claim of 256 bytes')
        for $a{mcn}, @b{qw(sub pid op mcn)};
    is(length $b{room}, 255, 'a room of 255 bytes');
    is(length bytes($_), 512, 'a reason of 512 bytes')
        for $reason_zh, $reason_en;

    my @runs = (
        publisher('room-a', sub => 'host-a', pid => 'person-a', %a,
                  duration => 60000),
        publisher($b{room}, map({ $_ => $b{$_} } qw(sub pid op mcn)),
                  duration => 60000),
        publisher('room-c', sub => 'host-c', pid => 'person-c',
                  duration => 60000),
    );

    ok(wait_sessions(3, 15), 'three publishers live');

    # warn: the session of host-a goes on
    my $o1 = order(target => 'host:host-a', action => 'warn',
                   reason => bytes($reason_zh), duration => 3600);
    my $o2 = order(target => $target, action => 'suspend',
                   reason => $reason_en, ref => $ref, duration => 3600);
    my $o3 = order(target => 'room:nobody', action => 'ban',
                   reason => 'spam');

    # the long values: whole in the page and in a title, shown cut to a
    # box of a few lines of at most 24rem
    my ($sa) = find_sessions(room => 'room-a');
    my ($sb) = find_sessions(room => $b{room});
    my @long = (
        [sessions => $sa, 4, 1, $a{mcn}],
        [sessions => $sb, 1, 1, $b{room}],
        [sessions => $sb, 2, 2, $b{sub}, $b{pid}],
        [sessions => $sb, 3, 1, $b{op}],
        [sessions => $sb, 4, 1, $b{mcn}],
        [orders => $o1, 5, 3, $reason_zh],
        [orders => $o2, 1, 2, $target],
        [orders => $o2, 5, 3, $reason_en],
        [orders => $o2, 6, 1, $ref],
    );

    # a laptop's window, where the form goes below the tables, and a
    # desktop's, where it stays beside them
    for my $size (@::Windows) {
        stop_browser();
        start_browser($root, $size);
        wd('POST', '/url', { url => "$http/console/" });
        layout_test($size =~ tr/,/x/r, @long);
    }

    # the buttons work: lift the order with the long target
    click(qq{#orders-body tr[data-id="$o2->{id}"] button.lift});
    like(wd('GET', '/alert/text'), qr/Lift order #$o2->{id} \(suspend \Q$target\E\)/,
         'lifting the long order asks first');
    wd('POST', '/alert/accept');
    ok(wait_for(sub { !row_of('orders', 0, qr/^\Q$o2->{id}\E$/) }, 10),
       'and lifts it');
    my ($st) = api('GET', "orders/$o2->{id}");
    is($st, 404, 'it is gone from the API');

    no_browser_errors();

    stop_browser();
    stop_client($_) for @runs;
}


#-----------------------------------------------------------------------------
# hostile characters: look-alikes marked, invisible characters escaped
#-----------------------------------------------------------------------------

# the characters that can hide or reorder text (controls, format
# characters such as the bidi controls U+202A-202E and U+2066-2069, line
# and paragraph separators, surrogates, the other default-ignorable code
# points), by Perl's own Unicode tables

my $Hidden = qr/[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/;


# the text of a value, as the console is to show it: each of those as
# \uXXXX (\u{XXXXX} above U+FFFF)

sub escaped {
    my ($v) = @_;
    $v =~ s/($Hidden)/ord $1 > 0xffff ? sprintf('\\u{%x}', ord $1)
                                      : sprintf('\\u%04x', ord $1)/ge;
    return $v;
}


# what the cells of a row show: [{ text, marks, escapes }] (its text as
# shown, how many non-ASCII marks, the text of the escapes)

sub cells_of {
    my ($table, $id) = @_;
    return js(<<'EOF', $table, $id);
var row = document.querySelector('#' + arguments[0] + '-body tr[data-id="'
                                 + arguments[1] + '"]');
return row && Array.prototype.map.call(row.cells, function (c) {
    return { text: c.innerText,
             marks: c.querySelectorAll('.mark').length,
             escapes: Array.prototype.map.call(c.querySelectorAll('.esc'),
                                               function (e) {
                                                   return e.textContent; }) };
});
EOF
}


# all the text the tables show, and all their titles

sub table_texts {
    return js(<<'EOF');
var t = [];
Array.prototype.forEach.call(document.querySelectorAll('tbody'), function (b) {
    t.push(b.textContent);
    Array.prototype.forEach.call(b.querySelectorAll('[title]'), function (e) {
        t.push(e.title);
    });
});
return t;
EOF
}


# none of the texts holds a hidden character (but a title's line ends)

sub nothing_hidden {
    my ($what, @texts) = @_;
    my @bad = map { escaped($_) } grep { (my $x = $_) =~ s/\n//g;
                                         $x =~ $Hidden } @texts;
    is_deeply(\@bad, [], "$what: no hidden character is shown as it is");
}


# live(ROOM, CLAIMS..., pid => PERSON): (a publisher of ROOM, its session
# once it is live, found by its PERSON, or undef once it is told it is
# refused); texts go to the token tool and the client as Perl's own
# strings, which they get as UTF-8 (the token's JSON would encode bytes
# again)

sub live {
    my ($room, %claims) = @_;

    my $run = publisher($room, %claims, duration => 60000);
    my $s;

    wait_for(sub {
        ($s) = find_sessions(person => $claims{pid});
        return $s || client_output($run) =~ /Publish\.Rejected/;
    }, 15);

    return ($run, $s);
}


# (nginx puts its time, $msec, in "started")

our $FakeSessions = <<'EOF';
[{"id":1,"kind":"publish","app":"live","room":"r\u202eoom1",
  "host":"h\u2066ost\u2069-1","person":"p\u200bx","op":"op\u00851",
  "mcn":"m\u00adcn\ufeff","tier":"basic\u061c","ai":false,"viewers":0,
  "started":$msec,"addr":"203.0.113.9:40000"},
 {"id":2,"kind":"publish","app":"live","room":"room-2","host":"host-2",
  "person":"person-2","op":"op-2","mcn":"\u0007\u001b[31m\u007f",
  "tier":"basic","ai":false,"viewers":3,"started":$msec,
  "addr":"203.0.113.9:40001"}]
EOF

our $FakeOrders = <<'EOF';
[{"id":5,"target":"person:\u202egnp.exe","action":"ban",
  "created":1700000000,"until":null,
  "reason":"a\u202ab\u202bc\u202cd\u202d e\u2067f\u2068g\u2028h\u2029i \ud800 \udb40\udc01 \u3164 <b>x</b>",
  "ref":"SAMR\u200d-1"},
 {"id":6,"target":"room:r\u043e\u043em1","action":"restrict",
  "tier":"t\u200e1","created":1700000000,"until":1900000000,
  "reason":"ok","ref":null}]
EOF

# the JSON of an API as one line of an nginx string

sub one_line {
    my ($text) = @_;
    $text =~ s/\n//g;
    return $text;
}


our $FakeLocations = $Locations . <<"EOF";

location = /fake/console {
    compliance_console /fake/api/;
}

location /fake/api/ {
    default_type application/json;

    location = /fake/api/sessions {
        return 200 '${\ one_line($FakeSessions)}';
    }

    location = /fake/api/orders {
        return 200 '${\ one_line($FakeOrders)}';
    }
}
EOF


# no [error] in the log but the refusals of claims as token_malformed (the
# module may refuse the hostile characters, hostile_test() says what it
# did), and no [alert]

our $NoErrorButMalformed = [
    qr/\[error\](?! \d+#\d+: \*\d+ compliance: publish rejected: token_malformed: )/,
    '[alert]',
];


sub hostile_test {
    my ($block, $root, $http) = @_;

    # rооm1 with two Cyrillic о (U+043E) looks like room1; a right-to-left
    # override makes r\u202eoom1 show as "r1moo"; U+0085 (C1) and U+200B
    # (zero width space) are invisible
    my $cyr = "r\x{43e}\x{43e}m1";
    my $bidi = "r\x{202e}oom1";
    my ($rc, $sc) = live($cyr, sub => "h\x{43e}st-c", pid => 'person-c');
    my ($rb, $sb) = live($bidi, sub => 'host-b', pid => 'person-b');
    my ($rz, $sz) = live('room-z', sub => 'host-z', pid => 'person-z',
                         op => "op\x{85}1", mcn => "m\x{200b}cn");
    my ($ra, $sa) = live('room-a', sub => 'host-a', pid => 'person-a');

    ok($sc, 'a look-alike room is admitted: it is a real name');
    ok($sa, 'and an ASCII one');

    # an order whose target is reversed by an override: refused, or kept
    my $target = "person:\x{202e}gnp.exe";
    my $reason = "x \x{2067}abc\x{2069} y";
    my ($st, $o, $body) = api('POST', 'orders',
                              { target => bytes($target), action => 'ban',
                                reason => bytes($reason) });
    ok($st == 201 || ($st == 400 && $o->{error} eq 'invalid_order'),
       'an order on ' . escaped($target)
       . " is made or refused as invalid_order: $st")
        or Test::More::diag($body);
    Test::More::note("the order on a reversed target: $st; the sessions "
                     . 'with an override, a C1 control, a zero width '
                     . 'space: ' . join(', ', map { $_ ? 'live' : 'refused' }
                                               $sb, $sz));

    start_browser($root, '1280,800');
    wd('POST', '/url', { url => "$http/console/" });

    my $live = grep { $_ } $sc, $sb, $sz, $sa;
    ok(wait_for(sub { @{rows('sessions')} == $live }, 10),
       "the console lists the $live live sessions");

    # the look-alike: shown as it is, after a mark; its title spells it
    my $c = cells_of('sessions', $sc->{id});
    is($c->[1]{text}, "非ASCII$cyr", 'a room not all ASCII is marked');
    is($c->[1]{marks}, 1, 'once');
    like($c->[2]{text}, qr/^非ASCIIh\x{43e}st-c\n/, 'so is such a host');
    is($c->[3]{marks} + $c->[4]{marks} + $c->[5]{marks}, 0,
       'but not the ASCII operator, MCN and tier');
    ok((grep { index($_, '非 ASCII non-ASCII: r\u043e\u043em1') >= 0 }
        @{table_texts()}), 'the title of a look-alike spells it in escapes');

    my $ca = cells_of('sessions', $sa->{id});
    is(join('', map { $_->{marks} } @$ca), '0' x @$ca,
       'an ASCII session has no mark');

    # from the look-alike's row, the form says its target is not ASCII
    click(qq{#sessions-body tr[data-id="$sc->{id}"] button.act});
    is_deeply(js('var h = document.getElementById("target-hint");'
                 . 'return [h.hidden, h.textContent];'),
              [JSON::PP::false, '不全是 ASCII 字符 Not all ASCII: h\u043est-c'],
              'an order on it is marked as not ASCII in the form');

    if ($sb) {
        my $b = cells_of('sessions', $sb->{id});
        is($b->[1]{text}, '非ASCIIr\u202eoom1',
           'a room with an override is shown escaped, in its order');
        is_deeply($b->[1]{escapes}, ['\u202e'], 'as one escape');

        click(qq{#sessions-body tr[data-id="$sb->{id}"] button.drop});
        my $alert = wd('GET', '/alert/text');
        wd('POST', '/alert/dismiss');
        like($alert, qr/\(room r\\u202eoom1, host host-b\)/,
             'the drop dialog names it escaped');
        nothing_hidden('the dialog', $alert);
    }

    if ($sz) {
        my $z = cells_of('sessions', $sz->{id});
        is($z->[3]{text}, '非ASCIIop\u00851', 'a C1 control is escaped');
        is($z->[4]{text}, '非ASCIIm\u200bcn', 'a zero width space too');
    }

    if ($st == 201) {
        ok(wait_for(sub { row_of('orders', 0, qr/^\Q$o->{id}\E$/) }, 10),
           'the order is listed');
        my $oc = cells_of('orders', $o->{id});
        is($oc->[1]{text}, "实名人员 person\n非ASCIIperson:\\u202egnp.exe",
           'its reversed target is shown escaped');
        is($oc->[5]{text}, 'x \u2067abc\u2069 y', 'so is its reason');
    }

    nothing_hidden('the tables', @{table_texts()});

    js('window.scrollTo(0, 0)');
    screenshot(shots_dir() . '/console-hostile.png');

    # every field and every such character, from an API that says what
    # the test wants
    wd('POST', '/url', { url => "$http/fake/console" });
    ok(wait_for(sub { @{rows('sessions')} == 2 && @{rows('orders')} == 2 },
                10), 'another API: two sessions, two orders');

    my $f1 = cells_of('sessions', 1);
    is_deeply([map { $_->{text} } @{$f1}[1 .. 5]],
              ['非ASCIIr\u202eoom1',
               "非ASCIIh\\u2066ost\\u2069-1\n实名 person: 非ASCIIp\\u200bx",
               '非ASCIIop\u00851', '非ASCIIm\u00adcn\ufeff',
               '非ASCIIbasic\u061c'],
              'every id of a session: marked, its hidden characters escaped');
    is_deeply($f1->[2]{escapes}, ['\u2066', '\u2069', '\u200b'],
              'each escape on its own');
    is(cells_of('sessions', 2)->[4]{text}, '非ASCII\u0007\u001b[31m\u007f',
       'C0 controls and DEL too');

    my $f5 = cells_of('orders', 5);
    is($f5->[1]{text}, "实名人员 person\n非ASCIIperson:\\u202egnp.exe",
       'an order target');
    is($f5->[5]{text}, 'a\u202ab\u202bc\u202cd\u202d e\u2067f\u2068g'
                       . '\u2028h\u2029i \ud800 \u{e0001} \u3164 <b>x</b>',
       'a reason: every bidi control, the separators, a lone surrogate, '
       . 'a tag, a Hangul filler; markup as text');
    is($f5->[5]{marks}, 0, 'a reason is text, not an id: not marked');
    is($f5->[6]{text}, 'SAMR\u200d-1', 'a reference');

    my $f6 = cells_of('orders', 6);
    is($f6->[1]{text}, "直播间 room\n非ASCIIroom:r\x{43e}\x{43e}m1",
       'a look-alike target is marked');
    is($f6->[2]{text}, "限制 restrict\n等级 tier: 非ASCIIt\\u200e1",
       'a tier');

    nothing_hidden('the tables of the other API', @{table_texts()});
    is(js('return document.querySelectorAll("main td b").length'), 0,
       'and no markup');

    click('#orders-body tr[data-id="5"] button.lift');
    my $alert = wd('GET', '/alert/text');
    wd('POST', '/alert/dismiss');
    like($alert, qr/\(ban person:\\u202egnp\.exe\)/,
         'the lift dialog names the target escaped');
    nothing_hidden('the dialog', $alert);

    screenshot(shots_dir() . '/console-hostile-fake.png');

    no_browser_errors();

    stop_browser();
    stop_client($_) for grep { !client_done($_) } $rc, $rb, $rz, $ra;
}


run_tests();

__DATA__

=== TEST 1: the page: headers, CSP hashes, API path, methods
--- http_server_config eval: $::Locations
--- post_check eval
sub {
    my ($st, $h, $body) = http_request('GET', '/console/');
    is($st, 200, 'GET is 200');
    is($h->{'content-type'}, 'text/html; charset=utf-8', 'HTML in UTF-8');
    is($h->{'cache-control'}, 'no-store', 'not stored');
    is($h->{'x-content-type-options'}, 'nosniff', 'nosniff');
    is($h->{'x-frame-options'}, 'DENY', 'not framed');
    is($h->{'referrer-policy'}, 'no-referrer', 'no referrer');
    is($h->{'content-length'}, length $body, 'Content-Length');

    my ($script) = $body =~ m{<script>(.*?)</script>}s;
    my ($style) = $body =~ m{<style>(.*?)</style>}s;
    my %sha = map { $_ => Digest::SHA::sha256_base64($_) . '=' }
              $script, $style;
    is($h->{'content-security-policy'},
       "default-src 'none'; script-src 'sha256-$sha{$script}'; "
       . "style-src 'sha256-$sha{$style}'; connect-src 'self'; "
       . "img-src data:; base-uri 'none'; form-action 'none'; "
       . "frame-ancestors 'none'",
       'the CSP allows only the inline script and style, by hash');

    is(() = $body =~ /<script\b/g, 1, 'one script element');
    is(() = $body =~ /<style\b/g, 1, 'one style element');
    like($body, qr/<html lang="zh-CN" data-api="\/compliance\/">/,
         'the default API path');
    unlike($body, qr/\@COMPLIANCE_API\@/, 'no placeholder left');
    unlike($body, qr/innerHTML|outerHTML|insertAdjacentHTML|document\.write/,
           'the script never writes markup');
    unlike($body, qr{\b(?:src|href|action)\s*=\s*"(?!data:)}i,
           'no external resources');
    unlike($body, qr{https?://}, 'no URLs');
    unlike($body, qr/\son[a-z]+\s*=|\sstyle\s*=/i,
           'no inline handlers or style attributes');

    utf8::decode($body);
    like($body, qr/直播会话 <span class="en" lang="en">Live sessions/,
         'labels are Chinese first, then English');

    my ($st2, $h2, $b2) = http_request('GET', '/ops/console');
    is($st2, 200, 'another location');
    like($b2, qr/data-api="\/ops\/api\/"/, 'its API path, with a final /');
    is($h2->{'content-security-policy'}, $h->{'content-security-policy'},
       'the same CSP');

    my ($st3, $h3, $b3) = http_request('HEAD', '/console/');
    is($st3, 200, 'HEAD is 200');
    is($b3, '', 'without a body');
    is($h3->{'content-length'}, $h->{'content-length'}, 'with the length');

    for my $m (qw(POST PUT DELETE)) {
        my ($s, $hh) = http_request($m, '/console/', '{}');
        is($s, 405, "$m is 405");
        is($hh->{allow}, 'GET, HEAD', 'Allow: GET, HEAD');
    }
}
--- no_error_log
[error]



=== TEST 2: compliance_console twice in a location
--- http_server_config
location /console/ {
    compliance_console;
    compliance_console /compliance/;
}
--- must_die
--- error_log
"compliance_console" directive is duplicate



=== TEST 3: an API path on another origin
--- http_server_config
location /console/ {
    compliance_console //evil.example/compliance/;
}
--- must_die
--- error_log
invalid API path "//evil.example/compliance/", it must be the absolute path of a "compliance_api" location on this server



=== TEST 4: an API path that is a URL
--- http_server_config
location /console/ {
    compliance_console https://evil.example/compliance/;
}
--- must_die
--- error_log
invalid API path "https://evil.example/compliance/"



=== TEST 5: an API path with characters that are not a path's
--- http_server_config
location /console/ {
    compliance_console '/compliance/"><b>x</b>';
}
--- must_die
--- error_log
invalid API path "/compliance/"><b>x</b>"



=== TEST 6: in a browser: sessions, an API error, an order that drops its session, lift, drop
--- workers: 2
--- rtmp_config eval: $::RtmpConf
--- config eval: $::Config
--- http_server_config eval: $::Locations
--- post_check eval: ::in_browser(\&::browser_test)
--- no_error_log
[error]



=== TEST 7: in a browser: long values are cut to their cells, every button stays in view
--- workers: 2
--- rtmp_config eval: $::RtmpConfNoState
--- config eval: $::Config
--- http_server_config eval: $::Locations
--- post_check eval: ::in_browser(\&::long_values_test)
--- no_error_log
[error]



=== TEST 8: in a browser: look-alike ids are marked, hidden characters escaped
--- workers: 2
--- rtmp_config eval: $::RtmpConfNoState
--- config eval: $::Config
--- http_server_config eval: $::FakeLocations
--- post_check eval: ::in_browser(\&::hostile_test)
--- no_error_log eval: $::NoErrorButMalformed
