# Configuration of the publish gate (issue 2): what `nginx -t` refuses,
# with its message (compliance without key or tier, bad key files, keys of
# the wrong kind or size, algorithm pins, kids, tiers and their parameters,
# recheck, zone and state), and what it accepts: inheritance of keys and
# tiers, HMAC secrets at the size limit, alg= pins.

use strict;
use warnings;

use lib 't/lib';

use File::Temp ();
use JSON::PP ();

our ($BadKeys, $BadKeysDir);
our %T;

BEGIN {
    # keys that the module must refuse, made with openssl in a temporary
    # directory ($TEST_NGINX_BADKEYS in the config sections)
    $BadKeysDir = File::Temp->newdir('compliance-badkeys-XXXXXX',
                                     TMPDIR => 1);
    $BadKeys = "$BadKeysDir";
    $ENV{TEST_NGINX_BADKEYS} = $BadKeys;

    my @cmds = (
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024"
            . " -out $BadKeys/rsa1024.pem",
        "openssl pkey -in $BadKeys/rsa1024.pem -pubout -out $BadKeys/rsa1024.pub",
        "openssl ecparam -name secp256k1 -genkey -noout -out $BadKeys/k1.pem",
        "openssl pkey -in $BadKeys/k1.pem -pubout -out $BadKeys/k1.pub",
        "openssl genpkey -algorithm ed448 -out $BadKeys/ed448.pem",
        "openssl pkey -in $BadKeys/ed448.pem -pubout -out $BadKeys/ed448.pub",
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
            . " -out $BadKeys/ec.pem",
        "openssl req -x509 -key $BadKeys/ec.pem -subj /CN=ingest -days 1"
            . " -out $BadKeys/cert.pem",
    );

    for my $cmd (@cmds) {
        system("$cmd >/dev/null 2>&1") == 0
            or die "cannot make the test keys: $cmd\n";
    }

    my %secrets = (
        'short31.key'      => 's' x 31,
        'short31-lf.key'   => 's' x 31 . "\n",
        'short31-crlf.key' => 's' x 31 . "\r\n",
        'ok32-lf.key'      => 'S' x 32 . "\n",
        'ok32-crlf.key'    => 'C' x 32 . "\r\n",
        'empty.key'        => '',
    );

    for my $name (keys %secrets) {
        open my $fh, '>', "$BadKeys/$name" or die "$BadKeys/$name: $!\n";
        binmode $fh;
        print {$fh} $secrets{$name};
        close $fh;
    }
}

use Test::Compliance;

sub pub {
    my ($app, $t, $room) = @_;
    $room ||= 'room1';
    return "$app/$room?token=$t";
}

run_tests();

__DATA__

=== TEST 1: compliance on without a key
--- config
application live {
    live on;
    compliance on;
    compliance_tier basic;
}
--- must_die
--- error_log
"compliance" is on in application "live" but no "compliance_key" applies to it



=== TEST 2: compliance on without a tier
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
}
--- must_die
--- error_log
"compliance" is on in application "live" but no "compliance_tier" applies to it



=== TEST 3: compliance on at rtmp{} level: the application without a key is named
--- rtmp_config
compliance on;
compliance_tier basic;
--- config
application live {
    live on;
    compliance off;
}
application other {
    live on;
}
--- must_die
--- error_log
"compliance" is on in application "other" but no "compliance_key" applies to it



=== TEST 4: compliance takes on or off only
--- config
application live {
    live on;
    compliance maybe;
}
--- must_die
--- error_log
invalid value "maybe" in "compliance" directive



=== TEST 5: a key file that does not exist
--- config
application live {
    live on;
    compliance on;
    compliance_key /nonexistent/compliance/platform.pub;
    compliance_tier basic;
}
--- must_die
--- error_log
open() "/nonexistent/compliance/platform.pub" failed (2: No such file or directory)



=== TEST 6: a directory as the key file
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS;
    compliance_tier basic;
}
--- must_die
--- error_log
Is a directory



=== TEST 7: an empty key file
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/empty.key;
    compliance_tier basic;
}
--- must_die
--- error_log
"$TEST_NGINX_BADKEYS/empty.key" is empty



=== TEST 8: an RSA private key is refused
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pem;
    compliance_tier basic;
}
--- must_die
--- error_log
"$TEST_NGINX_KEYS/rsa.pem" holds a private key



=== TEST 9: an EC private key is refused
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/ec256.pem;
    compliance_tier basic;
}
--- must_die
--- error_log
"$TEST_NGINX_KEYS/ec256.pem" holds a private key



=== TEST 10: an HMAC secret of 31 bytes
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/short31.key;
    compliance_tier basic;
}
--- must_die
--- error_log
HMAC secret in "$TEST_NGINX_BADKEYS/short31.key" is 31 bytes, at least 32 are required



=== TEST 11: an HMAC secret of 31 bytes and a newline (32 bytes of file)
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/short31-lf.key;
    compliance_tier basic;
}
--- must_die
--- error_log
HMAC secret in "$TEST_NGINX_BADKEYS/short31-lf.key" is 31 bytes, at least 32 are required



=== TEST 12: an HMAC secret of 31 bytes and CR LF
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/short31-crlf.key;
    compliance_tier basic;
}
--- must_die
--- error_log
HMAC secret in "$TEST_NGINX_BADKEYS/short31-crlf.key" is 31 bytes, at least 32 are required



=== TEST 13: an RSA-1024 public key
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/rsa1024.pub;
    compliance_tier basic;
}
--- must_die
--- error_log
RSA key "$TEST_NGINX_BADKEYS/rsa1024.pub" has 1024 bits, at least 2048 are required



=== TEST 14: an EC key on secp256k1
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/k1.pub;
    compliance_tier basic;
}
--- must_die
--- error_log
EC key "$TEST_NGINX_BADKEYS/k1.pub" is on curve "secp256k1"; P-256, P-384 or P-521 is required



=== TEST 15: an Ed448 public key (EdDSA is Ed25519 only; t/014 has the Ed25519 keys)
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/ed448.pub;
    compliance_tier basic;
}
--- must_die
--- error_log
"$TEST_NGINX_BADKEYS/ed448.pub" is not an RSA, EC or Ed25519 public key



=== TEST 16: a certificate is not a public key (nor an HMAC secret)
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/cert.pem;
    compliance_tier basic;
}
--- must_die
--- error_log
"$TEST_NGINX_BADKEYS/cert.pem" is not a PEM public key



=== TEST 17: alg=ES256 on an RSA key
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub alg=ES256;
    compliance_tier basic;
}
--- must_die
--- error_log
RSA key "$TEST_NGINX_KEYS/rsa.pub" cannot be used with "ES256"



=== TEST 18: alg=ES384 on a P-256 key
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/ec256.pub alg=ES384;
    compliance_tier basic;
}
--- must_die
--- error_log
EC key "$TEST_NGINX_KEYS/ec256.pub" is for "ES256", not "ES384"



=== TEST 19: alg=RS256 on an HMAC secret
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key alg=RS256;
    compliance_tier basic;
}
--- must_die
--- error_log
key "$TEST_NGINX_KEYS/hs256.key" is an HMAC secret, not a key for "RS256"



=== TEST 20: an unknown alg=
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub alg=PS256;
    compliance_tier basic;
}
--- must_die
--- error_log
unknown algorithm "PS256" of key "$TEST_NGINX_KEYS/rsa.pub"



=== TEST 21: alg=none
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key alg=none;
    compliance_tier basic;
}
--- must_die
--- error_log
unknown algorithm "none"



=== TEST 22: an unknown compliance_key parameter
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub colour=blue;
    compliance_tier basic;
}
--- must_die
--- error_log
invalid parameter "colour=blue"



=== TEST 23: a duplicate kid
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub kid=2026a;
    compliance_key $TEST_NGINX_KEYS/rsa2.pub kid=2026a;
    compliance_tier basic;
}
--- must_die
--- error_log
duplicate key kid "2026a"



=== TEST 24: two keys without kid
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
    compliance_tier basic;
}
--- must_die
--- error_log
more than one "compliance_key" without kid=



=== TEST 25: an empty kid
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub kid=;
    compliance_tier basic;
}
--- must_die
--- error_log
invalid kid "", it must be 1 to 64 bytes



=== TEST 26: a kid of 65 bytes
--- config eval
<<"EOF"
application live {
    live on;
    compliance on;
    compliance_key \$TEST_NGINX_KEYS/rsa.pub kid=@{['k' x 65]};
    compliance_tier basic;
}
EOF
--- must_die
--- error_log
it must be 1 to 64 bytes



=== TEST 27: a duplicate tier
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic;
    compliance_tier basic publish=off;
}
--- must_die
--- error_log
duplicate tier "basic"



=== TEST 28: an unknown tier parameter
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic colour=red;
}
--- must_die
--- error_log
invalid value "colour=red" in tier "basic"



=== TEST 29: publish=maybe
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic publish=maybe;
}
--- must_die
--- error_log
invalid value "publish=maybe" in tier "basic"



=== TEST 30: max_viewers=x
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic max_viewers=x;
}
--- must_die
--- error_log
invalid value "max_viewers=x" in tier "basic"



=== TEST 31: max_viewers=-1
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic max_viewers=-1;
}
--- must_die
--- error_log
invalid value "max_viewers=-1" in tier "basic"



=== TEST 32: ai_host=maybe
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic ai_host=maybe;
}
--- must_die
--- error_log
invalid value "ai_host=maybe" in tier "basic"



=== TEST 33: max_duration=abc
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic max_duration=abc;
}
--- must_die
--- error_log
invalid value "max_duration=abc" in tier "basic"



=== TEST 34: max_bitrate=fast
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic max_bitrate=fast;
}
--- must_die
--- error_log
invalid value "max_bitrate=fast" in tier "basic"



=== TEST 35: viewer_token=yes
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier basic viewer_token=yes;
}
--- must_die
--- error_log
invalid value "viewer_token=yes" in tier "basic"



=== TEST 36: a tier without a name
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
    compliance_tier publish=off;
}
--- must_die
--- error_log
invalid tier name "publish=off"



=== TEST 37: compliance_recheck 0
--- config
application live {
    live on;
    compliance_recheck 0;
}
--- must_die
--- error_log
"compliance_recheck" must be more than 0



=== TEST 38: compliance_recheck abc
--- config
application live {
    live on;
    compliance_recheck abc;
}
--- must_die
--- error_log
"compliance_recheck" directive invalid value



=== TEST 39: compliance_leeway abc
--- config
application live {
    live on;
    compliance_leeway abc;
}
--- must_die
--- error_log
"compliance_leeway" directive invalid value



=== TEST 40: compliance_state without compliance_zone
--- rtmp_config
compliance_state $TEST_NGINX_SERVROOT/state.jsonl;
--- config
application live {
    live on;
}
--- must_die
--- error_log
"compliance_state" requires "compliance_zone" in the rtmp block



=== TEST 41: two compliance_zone
--- rtmp_config
compliance_zone compliance 1m;
compliance_zone other 1m;
--- config
application live {
    live on;
}
--- must_die
--- error_log
"compliance_zone" directive is duplicate



=== TEST 42: the same compliance_zone twice
--- rtmp_config
compliance_zone compliance 1m;
compliance_zone compliance 1m;
--- config
application live {
    live on;
}
--- must_die
--- error_log
"compliance_zone" directive is duplicate



=== TEST 43: compliance_zone of 64k
--- rtmp_config
compliance_zone compliance 64k;
--- config
application live {
    live on;
}
--- must_die
--- error_log
zone "compliance" is too small, at least 256k are required



=== TEST 44: compliance_zone of 255k
--- rtmp_config
compliance_zone compliance 255k;
--- config
application live {
    live on;
}
--- must_die
--- error_log
zone "compliance" is too small, at least 256k are required



=== TEST 45: compliance_zone with a bad size
--- rtmp_config
compliance_zone compliance lots;
--- config
application live {
    live on;
}
--- must_die
--- error_log
invalid zone size "lots"



=== TEST 46: compliance_zone inside server{}
--- config
compliance_zone compliance 1m;
application live {
    live on;
}
--- must_die
--- error_log
"compliance_zone" directive is not allowed here



=== TEST 47: tiers and key at rtmp{} level apply to the applications; an application with its own tiers uses only those
--- rtmp_config
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_tier basic;
compliance_tier gold ai_host=allow max_viewers=50000 max_duration=4h max_bitrate=2500k viewer_token=off;
--- config
application live {
    live on;
    compliance on;
}
application own {
    live on;
    compliance on;
    compliance_tier silver;
}
--- publish eval
$::T{basic} = token(claims => { tier => 'basic' });
$::T{gold} = token(claims => { tier => 'gold', ai => JSON::PP::true });
$::T{silver} = token(claims => { tier => 'silver' });
join "\n", pub('live', $::T{basic}), pub('live', $::T{gold}),
           pub('own', $::T{silver}), pub('own', $::T{basic}),
           pub('live', $::T{silver});
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected tier_unknown: 
status: error NetStream.Publish.Rejected tier_unknown: 
--- exit_code: 0 0 0 1 1
--- error_log eval
[ qr/publish accepted, app: "live", room: "room1", .* tier: "basic", ai: false,/,
  qr/publish accepted, app: "live", room: "room1", .* tier: "gold", ai: true,/,
  qr/publish accepted, app: "own", room: "room1", .* tier: "silver", ai: false,/,
  qr/\[error\] .*publish rejected: tier_unknown: .*"basic".*, app: "own", room: "room1"/,
  qr/\[error\] .*publish rejected: tier_unknown: .*"silver".*, app: "live", room: "room1"/ ]
--- no_error_log
[emerg]



=== TEST 48: keys at server{} level; an application with its own key uses only it
--- config
compliance on;
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_tier basic;
application live {
    live on;
}
application rotated {
    live on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub;
}
application open {
    live on;
    compliance off;
}
--- publish eval
$::T{hs} = token();
$::T{rs} = token(alg => 'RS256');
join "\n", pub('live', $::T{hs}), pub('rotated', $::T{rs}),
           pub('rotated', $::T{hs}), 'open/room1';
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_algorithm: 
status: status NetStream.Publish.Start
--- exit_code: 0 0 1 0
--- error_log eval
[ qr/publish accepted, app: "live", room: "room1"/,
  qr/publish accepted, app: "rotated", room: "room1"/,
  qr/\[error\] .*publish rejected: token_algorithm: .*, app: "rotated", room: "room1"/,
  qr/publish: name='room1' args='' type=live/ ]
--- no_error_log
app: "open"



=== TEST 49: HMAC secrets of exactly 32 bytes (newline, CR LF stripped) are accepted
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_BADKEYS/ok32-lf.key kid=lf;
    compliance_key $TEST_NGINX_BADKEYS/ok32-crlf.key kid=crlf;
    compliance_tier basic;
}
--- publish eval
$::T{lf} = token(key => "$ENV{TEST_NGINX_BADKEYS}/ok32-lf.key", kid => 'lf');
$::T{crlf} = token(key => "$ENV{TEST_NGINX_BADKEYS}/ok32-crlf.key", kid => 'crlf');
# the secret is the file less its final newline: with it, no match
$::T{raw} = do {
    my $bin = $ENV{TEST_COMPLIANCE_TOKEN} || repo_root() . '/build/compliance-token';
    my $claims = JSON::PP->new->canonical->encode({
        scope => 'publish', sub => 'h', pid => 'p', room => 'room1',
        op => 'o', tier => 'basic', idv => 'face', exp => time + 600 });
    my $t = `$bin sign --alg HS256 --key $ENV{TEST_NGINX_BADKEYS}/ok32-lf.key --raw-secret --kid lf --claims '$claims'`;
    chomp $t;
    $t;
};
join "\n", pub('live', $::T{lf}), pub('live', $::T{crlf}), pub('live', $::T{raw});
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_signature: 
--- exit_code: 0 0 1
--- error_log eval
[ qr/publish accepted, .* kid: "lf"/, qr/publish accepted, .* kid: "crlf"/,
  qr/publish rejected: token_signature: .* kid: "lf"/ ]



=== TEST 50: alg= pins a key to one algorithm of its family
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/rsa.pub alg=RS512;
    compliance_key $TEST_NGINX_KEYS/hs256.key kid=hs alg=HS384;
    compliance_tier basic;
}
--- publish eval
$::T{rs512} = token(alg => 'RS512');
$::T{rs256} = token(alg => 'RS256');
$::T{hs384} = token(alg => 'HS384', kid => 'hs');
$::T{hs256} = token(alg => 'HS256', kid => 'hs');
join "\n", map { pub('live', $::T{$_}) } qw(rs512 rs256 hs384 hs256);
--- status
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_algorithm: 
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_algorithm: 
--- exit_code: 0 1 0 1
--- error_log eval
[ qr/publish rejected: token_algorithm: algorithm RS256 .*, kid: ""/,
  qr/publish rejected: token_algorithm: algorithm HS256 .*, kid: "hs"/ ]



=== TEST 51: the smallest zone (256k), a state file and a full tier line start
--- rtmp_config
compliance_zone compliance 256k;
compliance_state $TEST_NGINX_SERVROOT/state.jsonl;
compliance_recheck 500ms;
compliance_leeway 5s;
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/ec256.pub;
    compliance_issuer live.example.com;
    compliance_audience ingest.example.com;
    compliance_tier basic publish=on ai_host=deny max_viewers=0 max_duration=4h max_bitrate=2500k viewer_token=off;
}
--- publish eval
pub('live', token(alg => 'ES256', claims => { iss => 'live.example.com',
                                               aud => 'ingest.example.com' }))
--- status
status: status NetStream.Publish.Start
--- exit_code: 0
--- error_log
publish accepted, app: "live", room: "room1"
--- no_error_log
[error]



=== TEST 52: compliance_redis: a timeout under 100ms fails nginx -t
--- rtmp_config
compliance_zone compliance 1m;
compliance_state $TEST_NGINX_SERVROOT/state.jsonl;
compliance_redis 127.0.0.1:6379 timeout=50ms;
--- config
application live {
    live on;
}
--- must_die
--- error_log
compliance_redis: "timeout=50ms" is not a time of 100ms or more



=== TEST 53: compliance_redis: an unknown parameter fails nginx -t
--- rtmp_config
compliance_zone compliance 1m;
compliance_state $TEST_NGINX_SERVROOT/state.jsonl;
compliance_redis 127.0.0.1:6379 keepalive=on;
--- config
application live {
    live on;
}
--- must_die
--- error_log
invalid parameter "keepalive=on"



=== TEST 54: compliance_redis without compliance_state fails nginx -t
--- rtmp_config
compliance_zone compliance 1m;
compliance_redis 127.0.0.1:6379;
--- config
application live {
    live on;
}
--- must_die
--- error_log
"compliance_redis" requires



=== TEST 55: compliance_listen_backlog: the RTMP socket's queue, kept over a reload
--- rtmp_config
compliance_zone compliance 1m;
compliance_listen_backlog 2048;
--- config
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/ec256.pub;
    compliance_tier basic;
}
--- post_check eval
sub {
    # a listening socket's Send-Q is its backlog; nginx's own is 511
    my $queue = sub {
        my $port = rtmp_port();
        my $out = `ss -Hltn 'sport = :$port' 2>&1`;
        return $out =~ /^LISTEN\s+\d+\s+(\d+)\s/m ? $1 : "none: $out";
    };
    is($queue->(), 2048, 'listen queue 2048');
    ok(reload_nginx(), 'reload');
    is($queue->(), 2048, 'listen queue 2048 after the reload');
    ok(reload_nginx(rtmp_config => "compliance_zone compliance 1m;\n"),
       'reload without the directive');
    is($queue->(), 511, "nginx's own queue again");
}
--- no_error_log
[error]



=== TEST 56: compliance_listen_backlog 0 fails nginx -t
--- rtmp_config
compliance_zone compliance 1m;
compliance_listen_backlog 0;
--- config
application live {
    live on;
}
--- must_die
--- error_log
value must be between 1 and 65535
