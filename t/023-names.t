# Names are shown as they are (issue 20).  Claims, stream names and
# order fields with controls (C0, C1), direction controls (U+202A-202E,
# U+2066-2069) or invisible format characters are refused with their
# reason; a look-alike name (a Cyrillic "о" for "o") is a name of its
# own: admitted under its own token, kept apart from the name it looks
# like, escaped in the error log; no byte a client sends starts a line of
# the error log (connect fields, stream arguments), and the order lines
# quote and escape their target.  docs/security.md, "Names".

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;

block_defaults(
    config             => tiers('basic', 'low') . live_app(),
    http_server_config => api_location(),
    rtmp_config        => zone_conf(),
);


# the default claims as JSON, CLAIM's value the JSON text VALUE as it is
# (escapes and raw bytes both: 'r\u202eoom1', "r\xe2\x80\xaeoom1")

sub claims_raw {
    my ($claim, $value, %over) = @_;

    my $c = claims($claim => "\@$claim\@", %over);
    $c =~ s/"\@\Q$claim\E\@"/"$value"/ or die "claims_raw: no $claim\n";

    return $c;
}


# a client run: (exit code, stdout, the error log it added once UNTIL is
# in it, 5 s at most)

sub run_logged {
    my ($until, @args) = @_;

    my $before = length error_log_text();
    my ($rc, $out) = run_client(@args, '--timeout', 3000);
    my $log = '';

    wait_for(sub {
        $log = substr(error_log_text(), $before);
        return $log =~ $until;
    }, 5);

    return ($rc, $out, $log);
}


# every line of LOG is one nginx wrote: "TIME [LEVEL] PID#TID: "

sub one_line_each {
    my ($log, $name) = @_;

    my $nginx = qr{^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[[a-z]+\] \d+#\d+: };
    my @other = grep { !/$nginx/ } split /\n/, $log;

    is(scalar(@other), 0, "$name: every line of the error log is nginx's")
        or Test::More::diag("lines of another origin:\n"
                            . join("\n", @other[0 .. ($#other < 4 ? $#other
                                                                  : 4)]));
}


our $Forged = '2026/12/01 21:00:00 [info] 1#1: *1 compliance: publish '
              . 'accepted, app: "live", host: "forged-host"';


run_tests();

__DATA__

=== TEST 1: claims with controls, direction controls or invisible characters are token_malformed
--- post_check eval
sub {
    my $printable = 'is not a string of 1 to 256 printable bytes';

    # each claim with values as JSON text: RLO (r\u202eoom1 shows as
    # "r1moo"), raw UTF-8 too, a soft hyphen, U+0085 (C1, NEL), a zero
    # width space, a Hangul filler, an isolate pair, a BOM, LRM, a tag
    # character, a line separator, an override
    my @cases = (
        [room => 'r\u202eoom1', "r\xe2\x80\xaeoom1", 'ro\u00adom1'],
        [op   => 'op\u00851', "op\xc2\x851"],
        [sub  => 'h\u200bost1', '\u3164'],
        [pid  => 'p\u2066erson\u20691'],
        [idv  => '\ufeffface'],
        [tier => 'basic\u200e'],
        [mcn  => 'mcn\udb40\udc41', 'mcn\u20281'],
        [jti  => 'j\u202d1'],
    );

    for my $c (map { my ($k, @v) = @$_; map { [$k, $_] } @v } @cases) {
        my ($claim, $value) = @$c;
        my $name = "claim $claim \"$value\"";

        my $t = token(raw_claims => claims_raw($claim, $value));
        my ($rc, $out, $log) = run_logged(qr/publish (?:rejected|accepted)/,
                                          '-a', 'live', '-n',
                                          "room1?token=$t");
        my $hash = hash12($t);

        is($rc, 1, "$name: refused");
        like($out, qr/^status: error NetStream\.Publish\.Rejected token_malformed: claim "$claim" \Q$printable\E/m,
             "$name: onStatus");
        like($log, qr/\[error\] \d+#\d+: \*\d+ compliance: publish rejected: token_malformed: claim "$claim" \Q$printable\E, app: "live", room: "room1", jti: "[^"]*", kid: "", token: "sha256:$hash", client: /,
             "$name: the error log line");
        unlike($log, qr/publish accepted/, "$name: not admitted");
    }

    # the kid of the header too
    my $t = token(header => '{"alg":"HS256","typ":"JWT","kid":"k\u202e1"}');
    my ($rc, $out, $log) = run_logged(qr/publish (?:rejected|accepted)/,
                                      '-a', 'live', '-n', "room1?token=$t");
    is($rc, 1, 'a kid with RLO: refused');
    like($log, qr/compliance: publish rejected: token_malformed: token header has a bad "kid", /,
         'a kid with RLO: token_malformed');

    # and the same claims without those characters are admitted
    ($rc, $out) = run_client('-a', 'live', '-n',
                             'room1?token=' . token(claims => {
                                 jti => 'j1', mcn => 'mcn1' }));
    is($rc, 0, 'a clean token is admitted');
    like($out, qr/NetStream\.Publish\.Start/, 'Publish.Start');
}


=== TEST 2: a look-alike room (Cyrillic о) is a name of its own: its own token admits it, orders on room1 miss it, the log escapes it
--- post_check eval
sub {
    my $cyr = "r\xd0\xbe\xd0\xbem1";            # rооm1 in UTF-8
    my $t = token(raw_claims => claims_raw('room', 'r\u043e\u043em1',
                                           sub => 'host-c',
                                           pid => 'person-c'));

    my $pub = start_client('publish', "live/$cyr?token=$t",
                           '--duration', 20000);
    ok(wait_output($pub, 'NetStream.Publish.Start'),
       'the look-alike room is admitted under its own token');

    my $real = publisher('room1', sub => 'host-r', pid => 'person-r');
    ok(wait_output($real, 'NetStream.Publish.Start'), 'and room1 itself');
    ok(wait_sessions(2), 'two live sessions');

    # the API gives the name as it is: its bytes, not room1's
    my ($s) = find_sessions(host => 'host-c');
    is($s && $s->{room}, $cyr, 'GET sessions: the room as it is, in UTF-8');
    isnt($s && $s->{room}, 'room1', 'which is not room1');

    # a token for room1 does not open the look-alike room
    my ($rc, $out) = run_client('-a', 'live', '-n', "$cyr?token="
                                . token(claims => { sub => 'host-x',
                                                    pid => 'person-x' }));
    like($out, qr/NetStream\.Publish\.Rejected room_mismatch: /,
         'a token for room1 is refused on the look-alike room');

    # an order on each: each hits its own room only
    my $o1 = order(target => 'room:room1', action => 'suspend',
                   duration => 600, reason => 'the real one');
    ok(wait_log(qr/compliance: order $o1->{id} created: suspend room:"room1" until \d+, 1 live sessions hit/),
       'the order on room1 hits one session');
    ok(wait_client($real, 10) && client_output($real)
           =~ /NetStream\.Publish\.Rejected suspended/,
       'room1 is dropped');
    ok(!client_done($pub), 'the look-alike room is not');

    my ($st, $o2) = api('POST', 'orders',
                        '{"target":"room:r\u043e\u043em1","action":"suspend",'
                        . '"duration":600,"reason":"the look-alike"}');
    is($st, 201, 'an order on the look-alike room');
    is($o2->{target}, "room:$cyr", 'the API gives its target as it is');
    ok(wait_log(qr/compliance: order $o2->{id} created: suspend room:"r\\u043e\\u043em1" until \d+, 1 live sessions hit/),
       'the error log shows the look-alike escaped, and it hits one session');
    ok(wait_client($pub, 10) && client_output($pub)
           =~ /NetStream\.Publish\.Rejected suspended/,
       'the look-alike room is dropped by its own order');
}


=== TEST 3: order fields with controls, direction controls or invisible characters: 400 invalid_order, nothing stored
--- post_check eval
sub {
    # an order of host:h1 as JSON text, FIELD's value the JSON text VALUE
    my $body = sub {
        my ($field, $value) = @_;
        my %o = (target => '"host:h1"', action => '"suspend"',
                 duration => 600, reason => '"r"');
        %o = (%o, action => '"restrict"', tier => '"low"') if $field eq 'tier';
        $o{$field} = qq("$value");
        return '{' . join(',', map { qq("$_":$o{$_}) } sort keys %o) . '}';
    };

    # what the detail says of each character
    my %what = (map({ $_ => 'a direction control' } qw(202E 2068 2067 202D)),
                map({ $_ => 'an invisible character' } qw(200D 2060 200E FEFF)),
                '0085' => 'a control character',
                '2028' => 'a line separator');

    # each field with values as JSON text, and the character refused
    my @bad = (
        [target => 'person:\u202egnp.exe' => '202E',      # "person:exe.png"
                   "person:\xe2\x80\xaegnp.exe" => '202E',
                   'host:h\u00851' => '0085', 'host:h\u200d1' => '200D',
                   'op:o\u20601' => '2060', 'mcn:\u2068m1' => '2068'],
        [tier => 'basic\u200e' => '200E'],
        [reason => 'x \u2067abc\u2069 y' => '2067', 'a\u0085b' => '0085',
                   'a\u2028b' => '2028', '\ufeffr' => 'FEFF'],
        [ref => 'T-\u202d1' => '202D'],
    );

    for my $c (@bad) {
        my ($field, %values) = @$c;

        for my $value (sort keys %values) {
            my $char = "U+$values{$value}";
            my $name = "$field \"$value\" ($char)";
            my ($st, $json, $text) = api('POST', 'orders',
                                         $body->($field, $value));

            is($st, 400, "$name: 400");
            is(ref $json eq 'HASH' && $json->{error}, 'invalid_order',
               "$name: invalid_order") or Test::More::diag($text);
            is(ref $json eq 'HASH' && $json->{detail},
               qq("$field" has $char, $what{$values{$value}}),
               "$name: detail");
        }
    }

    my (undef, $orders) = api('GET', 'orders');
    is_deeply($orders, [], 'no order was stored');

    # free text keeps what scripts need: ZWNJ (Persian), RLM (Hebrew), an
    # emoji's variation selector; a look-alike target is a name of its own
    my @good = (
        # name, field, its value as JSON text, as the API gives it back
        ['a Persian reason with ZWNJ', reason => '\u0645\u06cc\u200c'
         . '\u062e\u0648\u0627\u0647\u0645', "\xd9\x85\xdb\x8c\xe2\x80"
         . "\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85"],
        ['a Hebrew reason with RLM and an emoji', reason => '\u05e9\u05dc'
         . '\u05d5\u05dd\u200f \u2764\ufe0f', "\xd7\xa9\xd7\x9c\xd7\x95"
         . "\xd7\x9d\xe2\x80\x8f \xe2\x9d\xa4\xef\xb8\x8f"],
        ['a look-alike target', target => 'room:r\u043e\u043em1',
         "room:r\xd0\xbe\xd0\xbem1"],
    );

    for my $c (@good) {
        my ($name, $field, $value, $stored) = @$c;
        my ($st, $json, $text) = api('POST', 'orders',
                                     $body->($field, $value));

        is($st, 201, "$name: 201") or Test::More::diag($text);
        is(ref $json eq 'HASH' && $json->{$field}, $stored,
           "$name: stored as it is");
    }
}


=== TEST 4: the order lines of the error log quote the target and escape it
--- post_check eval
sub {
    # the issue's target: its quotes would forge a field of the line
    my ($st, $o) = api('POST', 'orders', { target => 'host:x", host: "y',
                                           action => 'warn',
                                           duration => 600,
                                           reason => 'r' });
    is($st, 201, 'an order on the host x", host: "y');
    ok(wait_log(qr/compliance: order $o->{id} created: warn host:"x\\", host: \\"y" until \d+, 0 live sessions hit/),
       'created: the target quoted, its quotes escaped');
    unlike(error_log_text(), qr/created: warn host:x", host: "y/,
           'never as it was');

    is((api('DELETE', "orders/$o->{id}"))[0], 204, 'lifted');
    ok(wait_log(qr/compliance: order $o->{id} lifted: warn host:"x\\", host: \\"y"(?:,|$)/m),
       'lifted: the target quoted');

    # a backslash, and an order that expires by itself
    my ($st2, $e) = api('POST', 'orders', { target => 'mcn:back\\slash',
                                            action => 'suspend',
                                            duration => 1,
                                            reason => 'r' });
    is($st2, 201, 'an order of one second on mcn back\\slash');
    ok(wait_log(qr/compliance: order $e->{id} expired: suspend mcn:"back\\\\slash"(?:,|$)/m, 15),
       'expired: the target quoted, its backslash escaped');

    one_line_each(error_log_text(), 'the order lines');
}


=== TEST 5: a newline in the tcUrl, the app or a stream's arguments starts no line of the error log
--- post_check eval
sub {
    my $port = rtmp_port();
    my $t = token();

    # the issue: a forged "publish accepted" after a newline in the tcUrl
    my ($rc, $out, $log) = run_logged(qr/publish (?:rejected|accepted)/,
                                      '-a', 'live', '-n', "room1?token=$t",
                                      '-t', "rtmp://127.0.0.1:$port/live\n"
                                            . $::Forged);
    is($rc, 0, 'the publish is admitted all the same');
    like($out, qr/NetStream\.Publish\.Start/, 'Publish.Start');
    unlike($log, qr/^\Q$::Forged\E/m,
           'no line of the error log starts with the forged text');
    like($log, qr/\] \d+#\d+: \*\d+ connect: app='live' [^\n]*tc_url='rtmp:\/\/127\.0\.0\.1:$port\/live_\Q$::Forged\E' page_url=/,
         "nginx-rtmp's connect line is one line, the newline rewritten");
    one_line_each($log, 'a newline in the tcUrl');

    # CR LF and other controls in the app: no such application
    ($rc, $out, $log) = run_logged(qr/application not found/,
                                   '-a', "live\x1b[2J\r\n$::Forged\x7f",
                                   '-n', 'room1');
    like($log, qr/connect: application not found: 'live_\Q[2J\E__\Q$::Forged\E_'/,
         'controls in the app are rewritten');
    unlike($log, qr/^\Q$::Forged\E/m, 'no forged line from the app');
    one_line_each($log, 'controls in the app');

    # C1 and a line separator in the tcUrl (lines to some readers)
    ($rc, $out, $log) = run_logged(qr/publish (?:rejected|accepted)/,
                                   '-a', 'live', '-n', "room1?token=$t",
                                   '-t', "rtmp://127.0.0.1:$port/live"
                                         . "\xc2\x85a\xe2\x80\xa8b");
    like($log, qr/tc_url='rtmp:\/\/127\.0\.0\.1:$port\/live__a___b'/,
         'U+0085 and U+2028 in the tcUrl are rewritten');

    # a newline in the arguments of a publish and of a play
    ($rc, $out, $log) = run_logged(qr/publish: name=/,
                                   '-a', 'live', '-n',
                                   "room1?x=\n$::Forged&token=$t");
    is($rc, 0, 'a publish with a newline in an argument is admitted');
    like($log, qr/publish: name='room1' args='x=_\Q$::Forged\E&token=x+'/,
         "nginx-rtmp's publish line: one line, the token redacted");
    unlike($log, qr/^\Q$::Forged\E/m, 'no forged line from the publish');
    one_line_each($log, 'a newline in a publish argument');

    ($rc, $out, $log) = run_logged(qr/play: name=/,
                                   '-a', 'live', '-P', '--tags', 1,
                                   '--timeout', 1000, '-n',
                                   "room1?x=\r\n$::Forged");
    like($log, qr/play: name='room1' args='x=__\Q$::Forged\E'/,
         "nginx-rtmp's play line: one line");
    unlike($log, qr/^\Q$::Forged\E/m, 'no forged line from the play');
    one_line_each($log, 'a newline in a play argument');

    # a stream name with them is no room: refused before anything
    ($rc, $out, $log) = run_logged(qr/publish (?:rejected|accepted)/,
                                   '-a', 'live', '-n',
                                   "r\xe2\x80\xaeoom1?token=$t");
    like($out, qr/^status: error NetStream\.Publish\.Rejected room_mismatch: the stream name has U\+202E, a direction control/m,
         'a publish of a room with RLO: room_mismatch');
    like($log, qr/\[error\] \d+#\d+: \*\d+ compliance: publish rejected: room_mismatch: the stream name has U\+202E, a direction control, app: "live", room: "r\?\?\?oom1", /,
         'its error log line');

    ($rc, $out, $log) = run_logged(qr/play (?:rejected|accepted)|play: name/,
                                   '-a', 'live', '-P', '--tags', 1,
                                   '--timeout', 1000, '-n',
                                   "room\xc2\x851");
    like($out, qr/^status: error NetStream\.Play\.Rejected room_mismatch: the stream name has U\+0085, a control character/m,
         'a play of a room with U+0085: room_mismatch');
    like($log, qr/\[error\] \d+#\d+: \*\d+ compliance: play rejected: room_mismatch: the stream name has U\+0085, a control character, app: "live", room: "room\?\?1", /,
         'its error log line');

    one_line_each(error_log_text(), 'the whole block');
}
