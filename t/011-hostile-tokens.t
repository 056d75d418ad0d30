# A hostile battery against the publish gate (issue 2): forged, confused,
# malformed, oversized, badly encoded and nested tokens, tokens split over
# RTMP chunks, odd token= arguments and huge stream names.  Every case must
# be refused with its expected reason (named in the case), with the
# client's onStatus line and the error log line; none may be admitted, and
# no worker may crash (the harness checks the log for signals, [alert] and
# abnormal worker exits after each block; each block also checks that the
# worker survived and still admits a valid token afterwards).

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use Digest::SHA ();
use File::Temp ();
use JSON::PP ();
use MIME::Base64 ();

our $TODO;
our @TOKENS;
our @TMP;

our $Json = JSON::PP->new->canonical(1);

block_defaults(config => live_app(
    map({ "compliance_key \$TEST_NGINX_KEYS/$_" }
        'hs256.key', 'rsa.pub kid=rsa', 'ec256.pub kid=ec'),
    'compliance_tier basic'));


sub keyf { keys_dir() . '/' . $_[0] }

sub b64u { MIME::Base64::encode_base64url($_[0]) }

# HS256 over any bytes as the header and claims parts (already encoded)
sub hs_sign_parts {
    my ($h, $p) = @_;
    return "$h.$p." . b64u(Digest::SHA::hmac_sha256("$h.$p", hs_secret()));
}

# the default claims with a raw JSON member put first: '"exp":1e300'
sub claims_with {
    my ($member, %over) = @_;
    my $c = claims(%over);
    $c =~ s/^\{/{$member,/;
    return $c;
}

# "compliance-token sign ARGS" (byte for byte header and claims)
sub forge {
    my $t = sign_token(@_);
    push @TOKENS, $t;
    return $t;
}

sub hs256 {
    my (%o) = @_;
    return forge('--alg', $o{alg} || 'HS256', '--key', keyf('hs256.key'),
                 defined $o{header} ? ('--header', $o{header}) : (),
                 defined $o{header_file} ? ('--header-file', $o{header_file}) : (),
                 defined $o{claims_file} ? ('--claims-file', $o{claims_file})
                                         : ('--claims', $o{claims} // claims()));
}

sub tmpfile {
    my ($bytes) = @_;
    my $fh = File::Temp->new(DIR => servroot() . '/tmp', SUFFIX => '.json');
    binmode $fh;
    print {$fh} $bytes;
    close $fh;
    push @::TMP, $fh;       # keep it until the end
    return $fh->filename;
}

# a token signed with hs256.key whose length is at least LEN
sub long_token {
    my ($len) = @_;
    my $t = hs256(claims => claims(pad => 'p' x int($len * 3 / 4)));
    die "long_token: too short\n" if length $t < $len;
    return $t;
}


# one case: { name, reason, token (hashed in the log), args => [client
# args] (default: -a live -n room1?token=TOKEN), room (in the log),
# todo, detail (regex) }

sub battery {
    my (@cases) = @_;

    my @workers = worker_pids();
    my $n = 0;

    for my $c (@cases) {
        $n++;
        my $name = "case $n: $c->{name} -> $c->{reason}";
        my @args = $c->{args} ? @{$c->{args}}
                              : ('-a', 'live', '-n', "room1?token=$c->{token}");

        my $before = length error_log_text();
        my ($rc, $out, $err) = run_client(@args, '--timeout', 3000);
        my $log;

        # the rejection is logged before the status is sent
        wait_for(sub {
            $log = substr(error_log_text(), $before);
            $log =~ ($c->{dropped} ? qr/disconnect/
                                   : qr/publish (?:rejected|accepted)/);
        }, 5);

        if ($c->{fits}) {
            cmp_ok(length $c->{token}, '<=', 4096,
                   "$name: the token fits in 4,096 bytes");
        }

        unlike($out, qr/NetStream\.Publish\.Start/, "$name: no Publish.Start");
        unlike($log, qr/publish accepted/, "$name: not admitted");

        if ($c->{dropped}) {
            # refused by nginx-rtmp itself before any publish
            is($rc, 2, "$name: client exit code 2 (closed by the server)");
            like($out, qr/^closed: by=server/m, "$name: closed by the server");
            unlike($out, qr/^status:/m, "$name: no onStatus");
            unlike($log, qr/compliance: publish/, "$name: no gate decision");
            next;
        }

        my $level = $c->{reason} eq 'token_missing' ? 'info' : 'error';
        my $room = defined $c->{room} ? $c->{room} : 'room1';
        my $hash = exists $c->{hash} ? $c->{hash} : hash12($c->{token});
        $hash = ref $hash ? "(?:$hash)" : quotemeta $hash;
        my $detail = $c->{detail} || qr/.+?/;

        is($rc, 1, "$name: client exit code 1 (rejected)")
            or diag("stdout:\n$out\nstderr:\n$err");

        # a known module bug: the reason is wrong (see the case's todo)
        local $TODO = $c->{todo} if $c->{todo};

        like($out,
             qr/^status: error NetStream\.Publish\.Rejected \Q$c->{reason}\E: \S/m,
             "$name: onStatus")
            or diag("stdout:\n$out");
        like($log,
             qr/\[$level\] \d+#\d+: \*\d+ compliance: publish rejected: \Q$c->{reason}\E: $detail, app: "live", room: "\Q$room\E", jti: "[^"]*", kid: "[^"]*", token: "sha256:$hash", client: /,
             "$name: error log line")
            or diag("log:\n" . substr($log, 0, 3000));
    }

    # nothing was admitted, nothing crashed, the gate still works
    unlike(error_log_text(), qr/publish accepted/, 'no case was admitted');
    is("@{[worker_pids()]}", "@workers", 'the worker survived the battery');

    my $ok = hs256();
    my ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$ok");
    is($rc, 0, 'a valid token is still admitted after the battery');
    like($out, qr/NetStream\.Publish\.Start/, 'Publish.Start after the battery');
}


# --- the cases ------------------------------------------------------------

sub algorithm_cases {
    my $rsapub = keyf('rsa.pub');
    my $ecpub = keyf('ec256.pub');
    my @c;

    my $t = forge('--alg', 'none', '--claims', claims());
    push @c, { name => 'alg none, no signature', token => $t,
               reason => 'token_algorithm' };

    my ($h) = split /\./, $t;
    my (undef, $p, $s) = split /\./, hs256();
    push @c, { name => 'alg none with a valid HS256 signature',
               token => "$h.$p.$s", reason => 'token_algorithm' };

    for my $alg ('None', 'nOnE', 'hs256', 'HS256 ', 'PS256', 'EdDSA', '') {
        push @c, { name => "alg \"$alg\"",
                   token => hs256(header => qq({"alg":"$alg","typ":"JWT"})),
                   reason => 'token_algorithm' };
    }

    push @c, { name => 'alg confusion: HS256 keyed with the RSA PEM (kid rsa)',
               token => forge('--alg', 'HS256', '--key', $rsapub,
                              '--header', '{"alg":"HS256","kid":"rsa"}',
                              '--claims', claims()),
               reason => 'token_algorithm' };
    push @c, { name => 'alg confusion: HS256, RSA PEM with its newline',
               token => forge('--alg', 'HS256', '--key', $rsapub, '--raw-secret',
                              '--header', '{"alg":"HS256","kid":"rsa"}',
                              '--claims', claims()),
               reason => 'token_algorithm' };
    push @c, { name => 'alg confusion: HS384 keyed with the EC PEM (kid ec)',
               token => forge('--alg', 'HS384', '--key', $ecpub, '--raw-secret',
                              '--header', '{"alg":"HS384","kid":"ec"}',
                              '--claims', claims()),
               reason => 'token_algorithm' };
    push @c, { name => 'RS256 header on the HMAC key (no kid)',
               token => hs256(header => '{"alg":"RS256"}'),
               reason => 'token_algorithm' };
    push @c, { name => 'ES512 on the P-256 key',
               token => forge('--alg', 'ES512', '--key', keyf('ec521.pem'),
                              '--kid', 'ec', '--claims', claims()),
               reason => 'token_algorithm' };
    push @c, { name => 'ES256 header, signed with P-384 (curve mismatch)',
               token => forge('--alg', 'ES256', '--key', keyf('ec384.pem'),
                              '--allow-key-mismatch', '--kid', 'ec',
                              '--claims', claims()),
               reason => 'token_signature' };
    # an ES256 signature in DER (what OpenSSL makes), not JWS's R||S
    my ($eh, $ep) = split /\./, forge('--alg', 'ES256', '--key', keyf('ec256.pem'),
                                      '--kid', 'ec', '--claims', claims());
    my $in = tmpfile("$eh.$ep");
    my $der = `openssl dgst -sha256 -sign @{[keyf('ec256.pem')]} $in`;
    push @c, { name => 'ES256 with a DER signature (valid, wrong encoding)',
               token => "$eh.$ep." . b64u($der), reason => 'token_signature' };

    push @c, { name => 'alg as a number', reason => 'token_malformed',
               token => hs256(header => '{"alg":256}') };
    push @c, { name => 'no alg', reason => 'token_malformed',
               token => hs256(header => '{"typ":"JWT"}') };

    return @c;
}


sub header_cases {
    my @c;

    push @c, { name => 'unknown kid', reason => 'token_key_unknown',
               token => hs256(header => '{"alg":"HS256","kid":"nope"}') };
    push @c, { name => 'kid with a path', reason => 'token_key_unknown',
               token => hs256(header => '{"alg":"HS256","kid":"../../../etc/passwd"}') };
    push @c, { name => 'kid "RSA" (case)', reason => 'token_key_unknown',
               token => hs256(header => '{"alg":"HS256","kid":"RSA"}') };
    push @c, { name => 'kid of 65 bytes', reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256","kid":"' . ('k' x 65) . '"}') };
    push @c, { name => 'kid as a number', reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256","kid":7}') };
    push @c, { name => 'duplicated header alg (HS256, none)',
               reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256","alg":"none"}') };
    push @c, { name => 'duplicated header alg (none, HS256)',
               reason => 'token_malformed',
               token => hs256(header => '{"alg":"none","alg":"HS256"}') };
    push @c, { name => 'duplicated header alg (HS256 twice)',
               reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256","alg":"HS256"}') };
    push @c, { name => 'duplicated kid', reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256","kid":"rsa","kid":"x"}') };
    push @c, { name => 'crit header', reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256","crit":["exp"]}') };
    push @c, { name => 'header is a JSON array', reason => 'token_malformed',
               token => hs256(header => '["alg","HS256"]') };
    push @c, { name => 'header is not JSON', reason => 'token_malformed',
               token => hs256(header => 'alg=HS256') };
    push @c, { name => 'header with trailing garbage', reason => 'token_malformed',
               token => hs256(header => '{"alg":"HS256"} x') };

    return @c;
}


sub claims_cases {
    my @c;

    push @c, { name => 'duplicated claim room', reason => 'token_malformed',
               token => hs256(claims => claims_with('"room":"room1"')) };
    push @c, { name => 'duplicated claim exp (second one past)',
               reason => 'token_malformed',
               token => hs256(claims => claims_with('"exp":1')) };
    push @c, { name => 'exp as a string', reason => 'token_malformed',
               token => hs256(claims => claims(exp => '' . (time + 3600))) };
    push @c, { name => 'exp null', reason => 'token_malformed',
               token => hs256(claims => claims_with('"exp":null', exp => undef)) };
    push @c, { name => 'nbf as a string', reason => 'token_malformed',
               token => hs256(claims => claims(nbf => '0')) };
    push @c, { name => 'iat as an object', reason => 'token_malformed',
               token => hs256(claims => claims(iat => {})) };
    push @c, { name => 'ai as "true"', reason => 'token_malformed',
               token => hs256(claims => claims(ai => 'true')) };
    push @c, { name => 'ai as 1', reason => 'token_malformed',
               token => hs256(claims => claims(ai => 1)) };
    push @c, { name => 'sub as a number', reason => 'token_malformed',
               token => hs256(claims => claims(sub => 1001)) };
    push @c, { name => 'room as an array', reason => 'token_malformed',
               token => hs256(claims => claims(room => ['room1'])) };
    push @c, { name => 'tier as an object', reason => 'token_malformed',
               token => hs256(claims => claims(tier => { name => 'basic' })) };
    push @c, { name => 'pid as true', reason => 'token_malformed',
               token => hs256(claims => claims(pid => JSON::PP::true)) };
    push @c, { name => 'jti as a number', reason => 'token_malformed',
               token => hs256(claims => claims(jti => 5)) };
    push @c, { name => 'mcn as null', reason => 'token_malformed',
               token => hs256(claims => claims_with('"mcn":null', mcn => undef)) };
    push @c, { name => 'sub of 257 bytes', reason => 'token_malformed',
               token => hs256(claims => claims(sub => 'h' x 257)) };
    push @c, { name => 'op with a newline (log injection)',
               reason => 'token_malformed',
               token => hs256(claims => claims(op => "op1\n2026/01/01 [info] compliance: publish accepted")) };
    push @c, { name => 'idv with an escaped NUL', reason => 'token_malformed',
               token => hs256(claims => claims_with('"idv":"fa\u0000ce"', idv => undef)) };
    push @c, { name => 'sub with a lone surrogate escape',
               reason => 'token_malformed',
               token => hs256(claims => claims_with('"sub":"\ud800"', sub => undef)) };
    push @c, { name => 'claims are a JSON array', reason => 'token_malformed',
               token => hs256(claims => '[' . claims() . ']') };
    push @c, { name => 'claims are a JSON string', reason => 'token_malformed',
               token => hs256(claims => '"publish"') };
    push @c, { name => 'claims are empty', reason => 'token_malformed',
               token => hs256(claims => '') };
    push @c, { name => 'claims with trailing garbage', reason => 'token_malformed',
               token => hs256(claims => claims() . '{}') };

    return @c;
}


sub number_cases {
    my @c;

    for my $exp ('1e300', '99999999999999999999', '9223372036854775807',
                 '9223372036854775808', '1e15', '-1', '-1e300', '1e-300',
                 '0.5e1000')
    {
        push @c, { name => "exp $exp",
                   reason => $exp eq '1e-300' ? 'token_expired'
                                              : 'token_malformed',
                   token => hs256(claims => claims_with("\"exp\":$exp",
                                                        exp => undef)) };
    }

    push @c, { name => 'nbf 1e300', reason => 'token_malformed',
               token => hs256(claims => claims_with('"nbf":1e300')) };
    push @c, { name => 'iat 99999999999999999999', reason => 'token_malformed',
               token => hs256(claims => claims_with('"iat":99999999999999999999',
                                                    iat => undef)) };
    push @c, { name => 'exp NaN (not JSON)', reason => 'token_malformed',
               token => hs256(claims => claims_with('"exp":NaN', exp => undef)) };
    push @c, { name => 'exp Infinity (not JSON)', reason => 'token_malformed',
               token => hs256(claims => claims_with('"exp":Infinity', exp => undef)) };
    push @c, { name => 'exp 0 (1970)', reason => 'token_expired',
               token => hs256(claims => claims(exp => 0)) };

    return @c;
}


sub size_and_encoding_cases {
    my @c;
    my $t;

    $t = long_token(4097);
    push @c, { name => 'a 4 KB token (' . length($t) . ' bytes, valid signature)',
               token => $t, reason => 'token_malformed', detail => qr/.*4096.*/ };
    $t = long_token(4600);
    push @c, { name => 'a 4.5 KB token, one RTMP chunk',
               token => $t, reason => 'token_malformed',
               args => ['-a', 'live', '-n', "room1?token=$t",
                        '--chunk-size', 60000] };
    $t = long_token(65536);
    push @c, { name => 'a 64 KB token (' . length($t) . ' bytes)',
               token => $t, reason => 'token_malformed', room => '',
               hash => '-' };

    # non-base64url characters
    my ($h, $p, $s) = split /\./, hs256();
    push @c, { name => "'!' in the header", token => "!$h.$p.$s",
               reason => 'token_malformed' };
    push @c, { name => "'=' padding on the header", token => "$h=.$p.$s",
               reason => 'token_malformed' };
    push @c, { name => "'%20' in the claims (not decoded; the signature is checked first)",
               token => "$h.%20$p.$s", reason => 'token_signature' };
    push @c, { name => 'percent-encoded dots', reason => 'token_malformed',
               token => "$h%2E$p%2E$s" };
    push @c, { name => 'five parts (JWE-like)', reason => 'token_malformed',
               token => "$h.$p.$s.AAAA.BBBB" };
    push @c, { name => 'dots only', reason => 'token_malformed',
               token => '..' };
    (my $std = $s) =~ tr/-_/+\//;
    $std = substr($std, 0, 5) . '+/' . substr($std, 7) if $std eq $s;
    push @c, { name => "standard base64 '+/' in the signature",
               token => "$h.$p.$std", reason => 'token_malformed' };
    push @c, { name => "'=' padding on the signature",
               token => "$h.$p.$s=", reason => 'token_malformed' };
    {
        # a second spelling of the same signature: the last character's
        # unused low bits set (the module wants one spelling, one hash)
        my $abc = join '', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_';
        my $nc = substr($abc, index($abc, substr($s, -1)) ^ 1, 1);
        push @c, { name => 'non-canonical base64url in the signature',
                   token => "$h.$p." . substr($s, 0, -1) . $nc,
                   reason => 'token_malformed' };
    }
    push @c, { name => 'a 1-character base64url tail (impossible length)',
               token => "$h.${p}A.$s", reason => 'token_signature' };

    # claims signed as they are, with characters outside base64url: the
    # signature verifies, the decoding must not
    push @c, { name => "'*' in the signed claims",
               token => hs_sign_parts($h, "$p*"), reason => 'token_malformed' };
    push @c, { name => 'standard base64 claims (signed)',
               token => hs_sign_parts($h, MIME::Base64::encode_base64(
                                              claims(pad => '>>>???>>>???'), '')),
               reason => 'token_malformed' };

    # non-UTF-8 bytes
    push @c, { name => 'latin-1 byte in a claim', reason => 'token_malformed',
               token => hs256(claims_file => tmpfile(
                                  claims_with(qq("op2":"caf\xe9")))) };
    push @c, { name => 'bytes 0xff 0xfe in a claim', reason => 'token_malformed',
               token => hs256(claims_file => tmpfile(
                                  claims_with(qq("x":"\xff\xfe")))) };
    push @c, { name => 'overlong UTF-8 "/" in sub', reason => 'token_malformed',
               token => hs256(claims_file => tmpfile(
                                  claims_with(qq("sub":"h\xc0\xafx"), sub => undef))) };
    push @c, { name => 'UTF-8 surrogate bytes in room', reason => 'token_malformed',
               token => hs256(claims_file => tmpfile(
                                  claims_with(qq("room":"\xed\xa0\x80"), room => undef))) };
    push @c, { name => 'a UTF-8 BOM before the claims', reason => 'token_malformed',
               token => hs256(claims_file => tmpfile("\xef\xbb\xbf" . claims())) };
    push @c, { name => 'non-UTF-8 byte in the header', reason => 'token_malformed',
               token => hs256(header_file => tmpfile(qq({"alg":"HS256","x":"\xff"}))) };

    return @c;
}


sub bomb_cases {
    my @c;

    my $deep = '[' x 1200 . ']' x 1200;
    my $t;

    $t = hs256(header => qq({"alg":$deep}));
    push @c, { name => 'header: alg is 1,200 nested arrays (' . length($t) . ' bytes)',
               token => $t, reason => 'token_malformed', fits => 1 };
    $t = hs256(header => '{"alg":"HS256","x":' . '[' x 2000 . '}');
    push @c, { name => 'header: 2,000 unclosed arrays',
               token => $t, reason => 'token_malformed', fits => 1 };
    $t = hs256(header => '{"alg":"HS256","x":' . '{"a":' x 300 . '1' . '}' x 300 . '}',
               claims => claims(exp => time - 3600));
    push @c, { name => 'header: 300 nested objects, then an expired token',
               token => $t, reason => 'token_expired', fits => 1 };
    $t = hs256(claims => claims_with("\"exp\":$deep", exp => undef));
    push @c, { name => 'claims: exp is 1,200 nested arrays',
               token => $t, reason => 'token_malformed', fits => 1 };
    $t = hs256(claims => claims_with('"x":' . '[' x 2500));
    push @c, { name => 'claims: 2,500 unclosed arrays',
               token => $t, reason => 'token_malformed', fits => 1 };
    $t = hs256(claims => claims_with('"sub":' . '{"a":' x 400 . '1' . '}' x 400,
                                     sub => undef));
    push @c, { name => 'claims: sub is 400 nested objects',
               token => $t, reason => 'token_malformed', fits => 1 };
    $t = hs256(claims => claims_with('"x":' . '[' x 1600 . ']' x 1600));
    push @c, { name => 'claims: 1,600 nested arrays (over 4 KB)',
               token => $t, reason => 'token_malformed', detail => qr/.*4096.*/ };
    $t = hs256(claims => claims_with('"x":' . '[' x 3000 . ']' x 3000));
    push @c, { name => 'claims: 3,000 nested arrays (an 8 KB stream key)',
               token => $t, reason => 'token_malformed', room => '',
               hash => '-' };
    $t = hs256(claims => claims_with('"x":' . '[' x 40000 . ']' x 40000));
    push @c, { name => 'claims: 40,000 nested arrays (over 64 KB)',
               token => $t, reason => 'token_malformed', room => '',
               hash => '-' };
    # the same bomb with a bad signature: refused before the claims are read
    my ($h, $p) = split /\./, hs256(claims => claims_with('"x":' . '[' x 1200 . ']' x 1200,
                                                         exp => time - 1));
    push @c, { name => 'claims: 1,200 nested arrays, bad signature',
               token => "$h.$p.AAAA", reason => 'token_signature' };

    return @c;
}


sub transport_cases {
    my @c;
    my $ok = hs256();
    my ($h, $p, $s) = split /\./, hs256(claims => claims(pad => 'z' x 2000));
    # every letter but the last changed: the last character's unused low
    # bits must stay zero (canonical base64url) for this to reach the
    # signature check
    my $tampered = "$h.$p." . (substr($s, 0, -1) =~ tr/A-Za-z/B-ZAb-za/r)
                   . substr($s, -1);
    my $port = rtmp_port();

    push @c, { name => 'a tampered 3 KB token over 128-byte chunks',
               token => $tampered, reason => 'token_signature' };
    push @c, { name => 'the same in one 60000-byte chunk',
               token => $tampered, reason => 'token_signature',
               args => ['-a', 'live', '-n', "room1?token=$tampered",
                        '--chunk-size', 60000] };
    push @c, { name => 'the same over 1000-byte chunks',
               token => $tampered, reason => 'token_signature',
               args => ['-a', 'live', '-n', "room1?token=$tampered",
                        '--chunk-size', 1000] };
    push @c, { name => 'empty token=', token => '', reason => 'token_missing',
               args => ['-a', 'live', '-n', 'room1?token='] };
    push @c, { name => 'empty token= before a valid one (the first wins)',
               token => '', reason => 'token_missing',
               args => ['-a', 'live', '-n', "room1?token=&token=$ok"] };
    push @c, { name => 'a bad token= before a valid one (the first wins)',
               token => 'garbage', reason => 'token_malformed',
               args => ['-a', 'live', '-n', "room1?token=garbage&token=$ok"] };
    my $exp = hs256(claims => claims(exp => time - 3600));
    push @c, { name => 'an expired token= before a valid one',
               token => $exp,
               reason => 'token_expired',
               args => ['-a', 'live', '-n', "room1?token=$exp&token=$ok&token=$ok"] };
    push @c, { name => 'Token= (case) is not token=',
               token => '', reason => 'token_missing',
               args => ['-a', 'live', '-n', "room1?Token=$ok"] };
    push @c, { name => 'xtoken= is not token=',
               token => '', reason => 'token_missing',
               args => ['-a', 'live', '-n', "room1?xtoken=$ok"] };
    push @c, { name => 'a token for room1 on the stream "room1/../room2"',
               token => $ok, reason => 'room_mismatch', room => 'room1/../room2',
               args => ['-a', 'live', '-n', "room1/../room2?token=$ok"] };
    push @c, { name => 'a token for room1 on "room1 " (trailing space)',
               token => $ok, reason => 'room_mismatch', room => 'room1 ',
               args => ['-a', 'live', '-n', "room1 ?token=$ok"] };

    push @c, { name => 'an empty stream name', token => $ok,
               reason => 'room_mismatch', room => '',
               args => ['-a', 'live', '-n', "?token=$ok"] };

    my $big = 'a' x 65536;
    push @c, { name => 'a 64 KB stream name with a valid token after it',
               hash => '-', reason => 'token_malformed', room => '',
               args => ['-a', 'live', '-n', "$big?token=$ok"] };
    push @c, { name => 'a 64 KB stream name, no arguments',
               hash => '-', reason => 'token_malformed', room => '',
               args => ['-a', 'live', '-n', $big] };
    push @c, { name => 'a 64 KB stream name in one chunk',
               hash => '-', reason => 'token_malformed', room => '',
               args => ['-a', 'live', '-n', "$big?token=$ok",
                        '--chunk-size', 60000] };
    push @c, { name => '64 KB of arguments before a valid token',
               hash => '-', reason => 'token_malformed', room => '',
               args => ['-a', 'live', '-n', "room1?x=$big&token=$ok"] };

    push @c, { name => 'a stream name with CR LF, quotes, backslash (log injection)',
               token => $ok, reason => 'room_mismatch',
               room => 'room1??[notice] 1#1: *1 fake, app: ?live?, x: ???',
               args => ['-a', 'live', '-n',
                        qq(room1\r\n[notice] 1#1: *1 fake, app: "live", x: \\\x7f\t?token=$ok)] };

    push @c, { name => 'AMF long string stream name, bad token',
               token => 'garbage', reason => 'token_malformed',
               args => ['-a', 'live', '-n', 'room1?token=garbage',
                        '--long-string'] };

    my $none = forge('--alg', 'none', '--claims', claims());
    push @c, { name => 'alg none in the tcUrl', token => $none,
               reason => 'token_algorithm',
               args => ['-a', 'live', '-n', 'room1',
                        '-t', "rtmp://127.0.0.1:$port/live?token=$none"] };
    push @c, { name => 'alg none in the app', token => $none,
               reason => 'token_algorithm',
               args => ['-a', "live?token=$none", '-n', 'room1'] };
    my $t4500 = 'e' x 4500;
    push @c, { name => 'a 4,500-byte token in the tcUrl', token => $t4500,
               reason => 'token_malformed', detail => qr/.*4096.*/,
               args => ['-a', 'live', '-n', 'room1',
                        '-t', "rtmp://127.0.0.1:$port/live?token=$t4500"] };
    push @c, { name => 'a 4,500-byte token in the app', token => $t4500,
               reason => 'token_malformed', detail => qr/.*4096.*/,
               args => ['-a', "live?token=$t4500", '-n', 'room1'] };
    my $t6000 = 'e' x 6000;
    push @c, { name => 'a 6,000-byte token in the tcUrl', token => $t6000,
               reason => 'token_malformed', hash => '-',
               detail => qr/the connect URL is longer than \d+ bytes/,
               args => ['-a', 'live', '-n', 'room1',
                        '-t', "rtmp://127.0.0.1:$port/live?token=$t6000"] };
    push @c, { name => 'a 6,000-byte token in the app', token => $t6000,
               reason => 'token_malformed', hash => '-',
               detail => qr/the connect URL is longer than \d+ bytes/,
               args => ['-a', "live?token=$t6000", '-n', 'room1'] };
    push @c, { name => 'a 64 KB token in the tcUrl (nginx-rtmp drops the connect)',
               dropped => 1, reason => 'none',
               args => ['-a', 'live', '-n', 'room1',
                        '-t', "rtmp://127.0.0.1:$port/live?token=" . ('e' x 65536)] };

    return @c;
}

run_tests();

__DATA__

=== TEST 1: algorithms: none, confusion, mismatches
--- post_check eval: sub { battery(algorithm_cases()) }



=== TEST 2: header: kid, duplicated names, crit, not an object
--- post_check eval: sub { battery(header_cases()) }



=== TEST 3: claims of the wrong type, duplicated, not an object
--- post_check eval: sub { battery(claims_cases()) }



=== TEST 4: huge and odd numbers in the time claims
--- post_check eval: sub { battery(number_cases()) }



=== TEST 5: 4 KB and 64 KB tokens, characters outside base64url, non-UTF-8
--- post_check eval: sub { battery(size_and_encoding_cases()) }



=== TEST 6: JSON bombs in the header and in the claims
--- post_check eval: sub { battery(bomb_cases()) }



=== TEST 7: chunking, odd token= arguments, huge stream names, the connect URL
--- post_check eval: sub { battery(transport_cases()) }
