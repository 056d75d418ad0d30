# Keys of issue 16: a JWKS (RFC 7517) given to compliance_key, with RSA,
# EC, oct and OKP (Ed25519) keys, each picked by its kid and pinned to
# its alg; EdDSA tokens (RFC 8037) with an Ed25519 PEM key and with a JWK;
# what a bad JWKS makes nginx -t say (the file and the index of the bad
# key); a reload that reads a changed JWKS, and one that a bad JWKS
# refuses.
#
# The JWKS files are built here from the public keys with the openssl
# command (the modulus, the DER of the public key), not with
# compliance-token, so that the module's reading of a JWK and the tool's
# writing of one are checked against a third party; one block checks that
# "compliance-token jwks" writes the same keys.

use strict;
use warnings;

use lib 't/lib';

use File::Temp ();
use JSON::PP ();
use MIME::Base64 ();

our ($Dir, $DirObj);
our (%F, %T);

BEGIN {
    $DirObj = File::Temp->newdir('compliance-keys-XXXXXX', TMPDIR => 1);
    $Dir = "$DirObj";
    $ENV{TEST_NGINX_JWKS} = $Dir;

    my @cmds = (
        "openssl genpkey -algorithm ed25519 -out $Dir/ed.pem",
        "openssl pkey -in $Dir/ed.pem -pubout -out $Dir/ed.pub",
        "openssl genpkey -algorithm ed25519 -out $Dir/ed2.pem",
        "openssl pkey -in $Dir/ed2.pem -pubout -out $Dir/ed2.pub",
        "openssl genpkey -algorithm ed448 -out $Dir/ed448.pem",
        "openssl pkey -in $Dir/ed448.pem -pubout -out $Dir/ed448.pub",
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024"
            . " -out $Dir/rsa1024.pem",
        "openssl pkey -in $Dir/rsa1024.pem -pubout -out $Dir/rsa1024.pub",
    );

    for my $cmd (@cmds) {
        system("$cmd >/dev/null 2>&1") == 0
            or die "cannot make the test keys: $cmd\n";
    }
}

use Test::Compliance;

our $Json = JSON::PP->new->canonical(1);

sub b64u { MIME::Base64::encode_base64url($_[0]) }

# a key file: a name in $Dir, or else in the harness's key directory
sub keyf {
    my ($name) = @_;
    return -e "$Dir/$name" ? "$Dir/$name" : keys_dir() . "/$name";
}

# the DER of a PEM public key
sub der {
    my ($pub) = @_;
    my $d = `openssl pkey -pubin -in $pub -outform DER 2>/dev/null`;
    die "openssl pkey -pubin -in $pub failed\n" if $? || !length $d;
    return $d;
}

# the JWK of a public key: RSA from its modulus and exponent as openssl
# prints them, EC and Ed25519 from the end of the key's DER (the
# uncompressed point 04 || x || y, the 32 bytes of Ed25519)
sub jwk {
    my ($kid, $pub, %more) = @_;
    my %k;

    my $text = `openssl pkey -pubin -in $pub -noout -text 2>/dev/null`;

    if ($text =~ /RSA Public-Key|Public-Key: \(\d+ bit\)\s*\nModulus/) {
        my ($mod) = `openssl rsa -pubin -in $pub -noout -modulus` =~ /Modulus=([0-9A-F]+)/;
        my ($e) = $text =~ /Exponent: (\d+)/;
        my $eb = pack('N', $e) =~ s/^\0+//r;
        %k = (kty => 'RSA', n => b64u(pack('H*', $mod)), e => b64u($eb));

    } elsif ($text =~ /ED25519 Public-Key/) {
        %k = (kty => 'OKP', crv => 'Ed25519', x => b64u(substr(der($pub), -32)));

    } elsif ($text =~ /NIST CURVE: (P-\d+)/) {
        my $crv = $1;
        my $half = { 'P-256' => 32, 'P-384' => 48, 'P-521' => 66 }->{$crv};
        my $pt = substr(der($pub), -(1 + 2 * $half));
        die "$pub: not an uncompressed point\n" unless ord($pt) == 4;
        %k = (kty => 'EC', crv => $crv, x => b64u(substr($pt, 1, $half)),
              y => b64u(substr($pt, 1 + $half, $half)));

    } else {
        die "$pub: what key is it?\n$text";
    }

    $k{kid} = $kid if defined $kid;

    for my $m (keys %more) {
        if (defined $more{$m}) {
            $k{$m} = $more{$m};
        } else {
            delete $k{$m};
        }
    }

    return \%k;
}

# the JWK of an HMAC secret file, as the module reads the file
sub oct_jwk {
    my ($kid, $file, %more) = @_;
    my $s = slurp($file);
    $s =~ s/\r?\n\z//;
    return { kty => 'oct', kid => $kid, k => b64u($s), %more };
}

# writes NAME in $Dir: {"keys":[...]} of the JWKs, or TEXT as it is;
# returns its path (the file is named in nginx's messages)
sub jwks {
    my ($name, @keys) = @_;
    my $path = "$Dir/$name";
    spew($path, @keys == 1 && !ref $keys[0] ? $keys[0]
                : $Json->encode({ keys => \@keys }));
    return $path;
}

# the JWKS of the first block: every kind of key
sub all_kinds {
    return (jwk('rsa', keyf('rsa.pub')),
            jwk('ec256', keyf('ec256.pub')),
            jwk('ec384', keyf('ec384.pub'), alg => 'ES384', use => 'sig'),
            oct_jwk('oct', keyf('hs256.key')),
            jwk('ed', keyf('ed.pub'), alg => 'EdDSA'));
}

# an application with compliance on and these directives
sub app {
    return live_app(@_, 'compliance_tier basic');
}

sub pub {
    my ($t, $room) = @_;
    return 'live/' . ($room || 'room1') . "?token=$t";
}

# the error log line of an admission and of a refusal, with the kid
sub accepted {
    my ($kid) = @_;
    return qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", .* kid: "\Q$kid\E", token: "sha256:/;
}

sub rejected {
    my ($reason, $kid) = @_;
    return qr/\[error\] .*compliance: publish rejected: \Q$reason\E: .*, app: "live", room: "room1", jti: "[^"]*", kid: "\Q$kid\E", token: "sha256:/;
}

# "nginx -t" of a JWKS: the message, with the file named
sub bad_jwks {
    my ($file, $index, $rest) = @_;
    return qr/JWKS "\Q$file\E" keys\[$index\]\Q$rest\E/;
}

sub refusal {
    my ($reason) = @_;
    return "status: error NetStream.Publish.Rejected $reason: ";
}

run_tests();

__DATA__

=== TEST 1: a JWKS with RSA, EC, oct and OKP keys: one publish admitted per kind, the kid picks the key
--- config eval
$::F{all} = jwks('all.json', all_kinds());
app("compliance_key $::F{all}");
--- publish eval
join "\n", map { pub($_) }
    token(alg => 'RS256', kid => 'rsa'),
    token(alg => 'ES256', kid => 'ec256'),
    token(alg => 'ES384', kid => 'ec384'),
    token(alg => 'HS256', kid => 'oct'),
    token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed');
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
--- exit_code: 0
--- error_log eval
[ map { accepted($_) } qw(rsa ec256 ec384 oct ed) ]
--- no_error_log
publish rejected



=== TEST 2: a kid picks one key of the JWKS: another key's signature, a kid it does not have
--- config eval
$::F{all} = jwks('all.json', all_kinds());
app("compliance_key $::F{all}");
--- publish eval
join "\n", map { pub($_) }
    token(alg => 'RS256', key => 'rsa2.pem', kid => 'rsa'),
    token(alg => 'ES256', kid => 'nope'),
    token(alg => 'HS256', key => 'hs256b.key', kid => 'oct'),
    token(alg => 'ES256', kid => 'rsa');
--- status eval
[ refusal('token_signature'), refusal('token_key_unknown'),
  refusal('token_signature'), refusal('token_algorithm') ]
--- exit_code: 1
--- error_log eval
[ rejected('token_signature', 'rsa'), rejected('token_key_unknown', 'nope'),
  rejected('token_signature', 'oct'), rejected('token_algorithm', 'rsa') ]
--- no_error_log
publish accepted



=== TEST 3: the alg of a JWK pins the key: another algorithm of its family is token_algorithm
--- config eval
$::F{pin} = jwks('pinned.json',
                 jwk('rsa', keyf('rsa.pub'), alg => 'RS256'),
                 oct_jwk('oct', keyf('hs256.key'), alg => 'HS384'),
                 jwk('ec', keyf('ec256.pub'), alg => 'ES256'),
                 jwk('ed', keyf('ed.pub')));
app("compliance_key $::F{pin}");
--- publish eval
join "\n", map { pub($_) }
    token(alg => 'RS256', kid => 'rsa'),
    token(alg => 'RS512', kid => 'rsa'),
    token(alg => 'HS384', kid => 'oct'),
    token(alg => 'HS256', kid => 'oct'),
    token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ec'),
    token(alg => 'ES256', kid => 'ed'),
    token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed');
--- status eval
[ 'status: status NetStream.Publish.Start', refusal('token_algorithm'),
  'status: status NetStream.Publish.Start', refusal('token_algorithm'),
  refusal('token_algorithm'), refusal('token_algorithm'),
  'status: status NetStream.Publish.Start' ]
--- exit_code: 0 1 0 1 1 1 0
--- error_log eval
[ accepted('rsa'), rejected('token_algorithm', 'rsa'), accepted('oct'),
  rejected('token_algorithm', 'oct'), rejected('token_algorithm', 'ec'),
  rejected('token_algorithm', 'ed'), accepted('ed') ]



=== TEST 4: an Ed25519 PEM public key: EdDSA admitted; another key's EdDSA signature, a changed token, another alg refused
--- config eval
app('compliance_key $TEST_NGINX_JWKS/ed.pub kid=ed',
    'compliance_key $TEST_NGINX_JWKS/ed2.pub alg=EdDSA')
--- publish eval
my $good = token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed');
my ($h, $p, $s) = split /\./, $good;
my $other = token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed',
                  claims => { sub => 'host2' });
my (undef, $p2) = split /\./, $other;
join "\n", map { pub($_) }
    $good,
    token(alg => 'EdDSA', key => keyf('ed2.pem')),
    token(alg => 'EdDSA', key => keyf('ed2.pem'), kid => 'ed'),
    "$h.$p2.$s",
    token(alg => 'HS256', key => keyf('ed.pub'), kid => 'ed'),
    token(alg => 'EdDSA', key => keyf('ed.pem'),
          header => '{"alg":"EdDSA","kid":"ed"}');
--- status eval
[ 'status: status NetStream.Publish.Start',
  'status: status NetStream.Publish.Start',
  refusal('token_signature'), refusal('token_signature'),
  refusal('token_algorithm'),
  'status: status NetStream.Publish.Start' ]
--- exit_code: 0 0 1 1 1 0
--- error_log eval
[ accepted('ed'), accepted(''), rejected('token_signature', 'ed'),
  rejected('token_signature', 'ed'), rejected('token_algorithm', 'ed'),
  accepted('ed') ]



=== TEST 5: an EdDSA token under the wrong key of a JWKS, a signature of the wrong size
--- config eval
$::F{ed} = jwks('ed.json', jwk('ed', keyf('ed.pub')), jwk('ed2', keyf('ed2.pub')));
app("compliance_key $::F{ed}");
--- publish eval
my $t = token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed');
my ($h, $p, $s) = split /\./, $t;
my $short = b64u(substr(MIME::Base64::decode_base64url($s), 0, 63));
join "\n", map { pub($_) }
    token(alg => 'EdDSA', key => keyf('ed2.pem'), kid => 'ed'),
    token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed2'),
    "$h.$p.$short",
    token(alg => 'EdDSA', key => keyf('ed2.pem'), kid => 'ed2');
--- status eval
[ refusal('token_signature'), refusal('token_signature'),
  refusal('token_signature'), 'status: status NetStream.Publish.Start' ]
--- exit_code: 1 1 1 0
--- error_log eval
[ rejected('token_signature', 'ed'), rejected('token_signature', 'ed2'),
  rejected('token_signature', 'ed'), accepted('ed2') ]



=== TEST 6: the JWKS of compliance-token jwks holds the same keys and verifies the same tokens
--- config eval
my $bin = $ENV{TEST_COMPLIANCE_TOKEN} || repo_root() . '/build/compliance-token';
my @args = ('rsa=' . keyf('rsa.pem'), 'ec=' . keyf('ec521.pub'),
            'hs=' . keyf('hs256.key'), 'ed=' . keyf('ed.pem'));
my $out = `$bin jwks @args`;
die "compliance-token jwks failed\n" if $?;
my $tool = $::Json->decode($out)->{keys};
my @mine = (jwk('rsa', keyf('rsa.pub')), jwk('ec', keyf('ec521.pub')),
            oct_jwk('hs', keyf('hs256.key')), jwk('ed', keyf('ed.pub')));
for my $i (0 .. $#mine) {
    my %t = %{$tool->[$i]};
    is($t{use}, 'sig', "compliance-token jwks: $mine[$i]{kid} has use sig")
        unless $t{kty} eq 'oct';
    delete @t{qw(use alg)};
    is_deeply(\%t, $mine[$i], "compliance-token jwks: key $mine[$i]{kid}");
}
is($tool->[1]{alg}, 'ES512', 'the P-521 key is for ES512');
is($tool->[3]{alg}, 'EdDSA', 'the Ed25519 key is for EdDSA');
ok(!grep({ exists $_->{d} } @$tool), 'no private part, from private keys');
$::F{tool} = jwks('tool.json', $out);
app("compliance_key $::F{tool}");
--- publish eval
join "\n", map { pub($_) }
    token(alg => 'RS384', kid => 'rsa'),
    token(alg => 'ES512', kid => 'ec'),
    token(alg => 'HS512', kid => 'hs'),
    token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed');
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
--- exit_code: 0
--- error_log eval
[ map { accepted($_) } qw(rsa ec hs ed) ]



=== TEST 7: an EdDSA token of compliance-token publish (not libjwt's) verifies with openssl and is admitted
--- config eval
app('compliance_key $TEST_NGINX_JWKS/ed.pub kid=ed')
--- publish eval
my $bin = $ENV{TEST_COMPLIANCE_TOKEN} || repo_root() . '/build/compliance-token';
my $t = `$bin publish --alg EdDSA --key @{[keyf('ed.pem')]} --kid ed --room room1 --sub host1 --pid person1 --op op1 --tier basic --idv face`;
chomp $t;
my ($h, $p, $s) = split /\./, $t;
spew("$::Dir/si", "$h.$p");
spew("$::Dir/sig", MIME::Base64::decode_base64url($s));
my $v = `openssl pkeyutl -verify -pubin -inkey $::Dir/ed.pub -rawin -in $::Dir/si -sigfile $::Dir/sig 2>&1`;
like($v, qr/Signature Verified Successfully/, 'openssl verifies the EdDSA signature');
is(length MIME::Base64::decode_base64url($s), 64, 'an Ed25519 signature is 64 bytes');
pub($t);
--- status
status: status NetStream.Publish.Start
--- exit_code: 0
--- error_log eval
[ accepted('ed') ]



=== TEST 8: JWKS keys and compliance_key keys together: a kid-less PEM key and the JWKS's kids
--- config eval
$::F{two} = jwks('two.json', jwk('r', keyf('rsa.pub')), jwk('e', keyf('ec256.pub')));
app('compliance_key $TEST_NGINX_KEYS/hs256.key',
    "compliance_key $::F{two}",
    'compliance_key $TEST_NGINX_JWKS/ed.pub kid=ed')
--- publish eval
join "\n", map { pub($_) }
    token(alg => 'HS256'),
    token(alg => 'RS256', kid => 'r'),
    token(alg => 'ES256', kid => 'e'),
    token(alg => 'EdDSA', key => keyf('ed.pem'), kid => 'ed'),
    token(alg => 'RS256');
--- status eval
[ ('status: status NetStream.Publish.Start') x 4, refusal('token_algorithm') ]
--- exit_code: 0 0 0 0 1
--- error_log eval
[ accepted(''), accepted('r'), accepted('e'), accepted('ed'),
  rejected('token_algorithm', '') ]



=== TEST 9: a reload reads the changed JWKS: the next key published first, then the old one retired
--- config eval
$::F{rot} = jwks('rotate.json', jwk('2026a', keyf('ec256.pub')));
app("compliance_key $::F{rot}");
--- post_check eval
sub {
    my $a = token(alg => 'ES256', kid => '2026a');
    my $b = token(alg => 'EdDSA', key => keyf('ed.pem'), kid => '2026b');

    my ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$a");
    is($rc, 0, 'the first key admits');
    ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$b");
    like($out, qr/Rejected token_key_unknown/, 'the next key is not known yet');

    # the platform publishes the next key beside the current one
    jwks('rotate.json', jwk('2026a', keyf('ec256.pub')),
         jwk('2026b', keyf('ed.pub')));
    ok(reload_nginx(), 'reload with both keys');

    ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$a");
    is($rc, 0, 'the current key still admits');
    ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$b");
    is($rc, 0, 'the next key admits after the reload');
    like($out, qr/NetStream\.Publish\.Start/, 'Publish.Start with the next key');

    # then retires the old one
    jwks('rotate.json', jwk('2026b', keyf('ed.pub')));
    ok(reload_nginx(), 'reload without the old key');

    ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$a");
    like($out, qr/Rejected token_key_unknown/, 'the retired key is refused');
    ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$b");
    is($rc, 0, 'the next key admits');

    like(error_log_text(), rejected('token_key_unknown', '2026a'),
         'the log names the retired kid');
}
--- error_log eval
[ accepted('2026a'), rejected('token_key_unknown', '2026b'), accepted('2026b') ]



=== TEST 10: a reload with a bad JWKS is refused: the workers carry on with the keys they have
--- config eval
$::F{keep} = jwks('keep.json', jwk('k1', keyf('ec256.pub')));
app("compliance_key $::F{keep}");
--- post_check eval
sub {
    my $t = token(alg => 'ES256', kid => 'k1');
    my @before = worker_pids();

    jwks('keep.json', jwk('k1', keyf('ec256.pub')), jwk(undef, keyf('ed.pub')));
    kill 'HUP', nginx_pid();
    ok(wait_for(sub { error_log_text() =~ bad_jwks($::F{keep}, 1, ': has no "kid"') }),
       'the reload is refused, naming the file and the key');
    is("@{[worker_pids()]}", "@before", 'the workers carry on');

    my ($rc, $out) = run_client('-a', 'live', '-n', "room1?token=$t");
    is($rc, 0, 'the old keys still admit');
    jwks('keep.json', jwk('k1', keyf('ec256.pub')));
}
--- expect_emerg
has no "kid"



=== TEST 11: nginx -t: a key without kid
--- config eval
$::F{f} = jwks('nokid.json', jwk('a', keyf('rsa.pub')), jwk(undef, keyf('ec256.pub')));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 1, ': has no "kid"')



=== TEST 12: nginx -t: an RSA key under 2048 bits (a short n)
--- config eval
$::F{f} = jwks('short.json', jwk('a', keyf('ec256.pub')), jwk('r1024', keyf('rsa1024.pub')));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 1, ' (kid "r1024"): the RSA key has 1024 bits, at least 2048 are required')



=== TEST 13: nginx -t: a duplicate kid in one JWKS
--- config eval
$::F{f} = jwks('dup.json', jwk('a', keyf('rsa.pub')), jwk('b', keyf('ec256.pub')),
               jwk('a', keyf('ed.pub')));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 2, ': duplicate kid "a"')



=== TEST 14: nginx -t: a duplicate kid across a compliance_key kid= and a JWKS, either way round
--- config eval
$::F{f} = jwks('dup2.json', jwk('x', keyf('rsa.pub')), jwk('2026a', keyf('ec256.pub')));
app('compliance_key $TEST_NGINX_KEYS/hs256.key kid=2026a', "compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 1, ': duplicate kid "2026a"')



=== TEST 15: nginx -t: a kid= that a JWKS above already has
--- config eval
$::F{f} = jwks('dup3.json', jwk('2026a', keyf('ec256.pub')));
app("compliance_key $::F{f}", 'compliance_key $TEST_NGINX_KEYS/rsa.pub kid=2026a');
--- must_die
--- error_log
duplicate key kid "2026a"



=== TEST 16: nginx -t: a duplicate kid across two JWKS files
--- config eval
$::F{a} = jwks('dupa.json', jwk('one', keyf('rsa.pub')));
$::F{b} = jwks('dupb.json', jwk('two', keyf('ed.pub')), jwk('one', keyf('ec256.pub')));
app("compliance_key $::F{a}", "compliance_key $::F{b}");
--- must_die
--- error_log eval
bad_jwks($::F{b}, 1, ': duplicate kid "one"')



=== TEST 17: nginx -t: an unknown kty
--- config eval
$::F{f} = jwks('kty.json', jwk('a', keyf('ec256.pub')),
               { kty => 'RSA-PSS', kid => 'b', n => 'AQAB', e => 'AQAB' });
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 1, ' (kid "b"): unknown "kty" "RSA-PSS", use RSA, EC, OKP or oct')



=== TEST 18: nginx -t: an EC key on secp256k1
--- config eval
$::F{g} = jwks('crv.json', jwk('c', keyf('ec256.pub'), crv => 'secp256k1'));
app("compliance_key $::F{g}");
--- must_die
--- error_log eval
bad_jwks($::F{g}, 0, ' (kid "c"): the EC key is on curve "secp256k1"; P-256, P-384 or P-521 is required')



=== TEST 19: nginx -t: an OKP key on Ed448
--- config eval
$::F{h} = jwks('ed448.json', { kty => 'OKP', crv => 'Ed448', kid => 'd',
                               x => b64u('x' x 57) });
app("compliance_key $::F{h}");
--- must_die
--- error_log eval
bad_jwks($::F{h}, 0, ' (kid "d"): the OKP key is on curve "Ed448"; Ed25519 is required')



=== TEST 20: nginx -t: base64url with its padding
--- config eval
my $ec = jwk('p', keyf('ec256.pub'));
$::F{pad} = jwks('pad.json', { %$ec, x => "$ec->{x}=" });
app("compliance_key $::F{pad}");
--- must_die
--- error_log eval
bad_jwks($::F{pad}, 0, ' (kid "p"): "x" is not base64url')



=== TEST 21: nginx -t: the base64 alphabet, not base64url
--- config eval
my $n = jwk('q', keyf('rsa.pub'))->{n};
(my $plus = $n) =~ tr/-_/+\//;
$plus = '+' . substr($plus, 1);
$::F{alpha} = jwks('alpha.json', jwk('ok', keyf('ed.pub')),
                   { %{jwk('q', keyf('rsa.pub'))}, n => $plus });
app("compliance_key $::F{alpha}");
--- must_die
--- error_log eval
bad_jwks($::F{alpha}, 1, ' (kid "q"): "n" is not base64url')



=== TEST 22: nginx -t: a non-canonical base64url value (bits set past the last byte)
--- config eval
my $okp = jwk('s', keyf('ed.pub'));
my $enc = $okp->{x};
my @alphabet = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_');
my ($pos) = grep { $alphabet[$_] eq substr($enc, -1) } 0 .. 63;
# 32 bytes are 43 characters: the last one carries 4 bits and 2 unused
my $noncanon = substr($enc, 0, -1) . $alphabet[$pos ^ 1];
$::F{canon} = jwks('canon.json', { %$okp, x => $noncanon });
app("compliance_key $::F{canon}");
--- must_die
--- error_log eval
bad_jwks($::F{canon}, 0, ' (kid "s"): "x" is not base64url')



=== TEST 23: nginx -t: a private key in the JWKS
--- config eval
my $d = jwk('priv', keyf('ec256.pub'));
$d->{d} = b64u('d' x 32);
$::F{f} = jwks('priv.json', $d);
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ' (kid "priv"): holds a private key ("d"); the JWKS must have the public keys only')



=== TEST 24: nginx -t: an oct key of 31 bytes
--- config eval
$::F{f} = jwks('oct31.json', { kty => 'oct', kid => 'o', k => b64u('k' x 31) });
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ' (kid "o"): the oct key "k" is 31 bytes, at least 32 are required')



=== TEST 25: nginx -t: an alg the module does not know
--- config eval
$::F{a} = jwks('alg1.json', jwk('a', keyf('rsa.pub'), alg => 'PS256'));
app("compliance_key $::F{a}");
--- must_die
--- error_log eval
bad_jwks($::F{a}, 0, ' (kid "a"): unknown "alg" "PS256"')



=== TEST 26: nginx -t: alg RS256 on an EC key
--- config eval
$::F{b} = jwks('alg2.json', jwk('b', keyf('ec256.pub'), alg => 'RS256'));
app("compliance_key $::F{b}");
--- must_die
--- error_log eval
bad_jwks($::F{b}, 0, ' (kid "b"): "alg" "RS256" is not for kty "EC"')



=== TEST 27: nginx -t: alg ES384 on a P-256 key
--- config eval
$::F{c} = jwks('alg3.json', jwk('c', keyf('ec256.pub'), alg => 'ES384'));
app("compliance_key $::F{c}");
--- must_die
--- error_log eval
bad_jwks($::F{c}, 0, ' (kid "c"): the EC key on P-256 is for "ES256", not "ES384"')



=== TEST 28: nginx -t: a point that is not on its curve
--- config eval
my $k = jwk('off', keyf('ec256.pub'));
my $y = MIME::Base64::decode_base64url($k->{y});
substr($y, -1) = chr(ord(substr($y, -1)) ^ 1);
$::F{f} = jwks('offcurve.json', { %$k, y => b64u($y) });
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ' (kid "off"): is not a valid EC public key')



=== TEST 29: nginx -t: x and y of the wrong size
--- config eval
my $k = jwk('w', keyf('ec384.pub'));
$::F{f} = jwks('size.json', { %$k, crv => 'P-256' });
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ' (kid "w"): "x" and "y" of a P-256 key are 32 bytes each')



=== TEST 30: nginx -t: an Ed25519 x of 31 bytes
--- config eval
$::F{f} = jwks('ed31.json', { kty => 'OKP', crv => 'Ed25519', kid => 'e',
                              x => b64u('e' x 31) });
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ' (kid "e"): "x" of an Ed25519 key is 32 bytes')



=== TEST 31: nginx -t: use "enc"
--- config eval
$::F{f} = jwks('enc.json', jwk('a', keyf('rsa.pub'), use => 'sig'),
               jwk('b', keyf('rsa2.pub'), use => 'enc'));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 1, ' (kid "b"): "use" is "enc", not "sig"')



=== TEST 32: nginx -t: a kid that is not a string
--- config eval
$::F{f} = jwks('kidnum.json', { %{jwk(undef, keyf('ed.pub'))}, kid => 7 });
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ': "kid" is not a string')



=== TEST 33: nginx -t: a kid of 65 bytes
--- config eval
$::F{f} = jwks('kid65.json', jwk('k' x 65, keyf('ed.pub')));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ': "kid" must be 1 to 64 bytes')



=== TEST 34: nginx -t: a JWKS that is not JSON
--- config eval
$::F{f} = jwks('broken.json', '{"keys":[{"kty":"RSA",}]}');
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
qr/JWKS "\Q$::F{f}\E" is not JSON: .+ \(line 1, column \d+\)/



=== TEST 35: nginx -t: a JWKS with duplicated member names
--- config eval
$::F{f} = jwks('dupname.json', '{"keys":[],"keys":[]}');
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
qr/JWKS "\Q$::F{f}\E" is not JSON: duplicate object key/



=== TEST 36: nginx -t: an empty keys array
--- config eval
$::F{f} = jwks('empty.json', '{"keys":[]}');
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
qr/JWKS "\Q$::F{f}\E" has no keys/



=== TEST 37: nginx -t: a single JWK, not a set
--- config eval
$::F{f} = jwks('single.json', $::Json->encode(jwk('a', keyf('ed.pub'))));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
qr/JWKS "\Q$::F{f}\E" has no "keys" array \(a single JWK: put it in \{"keys":\[\.\.\.\]\}\)/



=== TEST 38: nginx -t: kid= or alg= with a JWKS
--- config eval
$::F{f} = jwks('param.json', jwk('a', keyf('ed.pub')));
app("compliance_key $::F{f} kid=a");
--- must_die
--- error_log eval
qr/"\Q$::F{f}\E" is a JWKS: each of its keys has its own "kid" and "alg", give it without kid= and alg=/



=== TEST 39: nginx -t: a key that is not an object; the message names the directive's line
--- config eval
$::F{f} = jwks('notobj.json', jwk('a', keyf('ed.pub')), 'AQAB');
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
qr/JWKS "\Q$::F{f}\E" keys\[1\]: is not a JSON object in \S+nginx\.conf:\d+/



=== TEST 40: an Ed25519 PEM key pinned to another algorithm
--- config eval
app('compliance_key $TEST_NGINX_JWKS/ed.pub alg=ES256')
--- must_die
--- error_log
Ed25519 key "$TEST_NGINX_JWKS/ed.pub" cannot be used with "ES256"



=== TEST 41: an Ed448 PEM key is refused
--- config eval
app('compliance_key $TEST_NGINX_JWKS/ed448.pub')
--- must_die
--- error_log
"$TEST_NGINX_JWKS/ed448.pub" is not an RSA, EC or Ed25519 public key



=== TEST 42: nginx -t: an RSA JWK whose e is even
--- config eval
$::F{f} = jwks('even.json', jwk('ev', keyf('rsa.pub'), e => b64u("\x01\x00\x00")));
app("compliance_key $::F{f}");
--- must_die
--- error_log eval
bad_jwks($::F{f}, 0, ' (kid "ev"): is not a valid RSA public key ("n" and "e" odd, "e" more than 1)')
