# The identity gate on publish (issue 2): every rejection reason the gate
# produces, with the client's onStatus line and the error log line; every
# algorithm family; long tokens; key rotation; the connect URL; leeway;
# nothing of nginx-rtmp runs for a rejected publish (no Publish.Start, no
# recording, no exec, no on_publish); the credential never reaches the log.

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use Digest::SHA ();
use JSON::PP ();
use MIME::Base64 ();

our @TOKENS;    # every token made by this file: none may reach the log
our %T;         # tokens of the current block, by name
our $LAST;      # the last token made

our $Json = JSON::PP->new->canonical(1);

# a block's "app" section: the directives of application live (which has
# live on and compliance on), instead of a whole config
add_block_preprocessor(sub {
    my ($block) = @_;
    my $app = $block->app;
    return unless defined $app;
    $block->set_value(config => live_app(map { s/;\s*\z//r }
                                         grep { /\S/ } split /\n/, $app));
});

# the application most blocks use: one HMAC key, three tiers
block_defaults(config => live_app(
    'compliance_key $TEST_NGINX_KEYS/hs256.key',
    map({ "compliance_tier $_" } 'basic', 'closed publish=off',
                                 'robots ai_host=allow')));


# TOKEN, remembered as made by this file and as the last one
sub remember {
    my ($t) = @_;
    push @TOKENS, $t;
    return $LAST = $t;
}

# a token from the harness (token()), remembered
sub tok { return remember(token(@_)) }

# a token from "compliance-token sign ARGS", byte for byte, remembered
sub forge { return remember(sign_token(@_)) }

sub b64u { MIME::Base64::encode_base64url($_[0]) }
sub unb64u { MIME::Base64::decode_base64url($_[0]) }

# a token whose length is exactly LEN, padded with an unknown claim
sub sized_token {
    my ($len, %o) = @_;

    my $alg = $o{alg} || 'HS256';

    for my $typ ('JWT', 'JWTx', 'JWTxx') {
        my $hdr = $Json->encode({ alg => $alg, typ => $typ,
                                  defined $o{kid} ? (kid => $o{kid}) : () });
        my $base = length token(%o, alg => $alg, header => $hdr,
                                claims => { pad => '' });
        my $pad = int(($len - $base) * 3 / 4) - 4;
        $pad = 0 if $pad < 0;

        for my $n ($pad .. $pad + 10) {
            my $t = token(%o, alg => $alg, header => $hdr,
                          claims => { pad => 'p' x $n });
            return remember($t) if length $t == $len;
            last if length $t > $len;
        }
    }

    die "sized_token($len): no padding gives this length\n";
}

# a publish line: live/ROOM?token=T [client args]
sub pub {
    my ($t, %o) = @_;
    my $room = defined $o{room} ? $o{room} : 'room1';
    my $app = $o{app} || 'live';
    return "$app/$room?token=$t" . (defined $o{args} ? " $o{args}" : '');
}

# client output of a refused publish
sub refusal {
    my ($reason) = @_;
    return [
        'connect: NetConnection.Connect.Success',
        "status: error NetStream.Publish.Rejected $reason: ",
        'closed: by=server',
    ];
}

sub started {
    return [
        'connect: NetConnection.Connect.Success',
        'status: status NetStream.Publish.Start',
        'closed: by=client',
    ];
}

# the error log line of a refused publish
sub rejected {
    my ($reason, %o) = @_;

    my $level = $o{level}
                || ($reason eq 'token_missing' ? 'info' : 'error');
    my $room = defined $o{room} ? $o{room} : 'room1';
    my $tok = exists $o{token} ? $o{token} : $LAST;
    my $hash = hash12($tok);
    my $detail = defined $o{detail} ? $o{detail} : '.+?';
    my $kid = defined $o{kid} ? quotemeta($o{kid}) : '[^"]*';
    my $app = $o{app} || 'live';

    return qr/\[$level\] \d+#\d+: \*\d+ compliance: publish rejected: \Q$reason\E: $detail, app: "\Q$app\E", room: "\Q$room\E", jti: "[^"]*", kid: "$kid", token: "sha256:\Q$hash\E", client: 127\.0\.0\.1/;
}

# the error log lines of an admitted publish
sub accepted {
    my (%o) = @_;

    my %f = (room => 'room1', host => 'host1', person => 'person1',
             op => 'op1', mcn => 'mcn1', tier => 'basic', ai => 'false',
             idv => 'face', jti => '', kid => '', app => 'live', %o);
    my $hash = hash12(exists $o{token} ? $o{token} : $LAST);

    my @re = (qr/\[info\] \d+#\d+: \*\d+ compliance: publish accepted, app: "\Q$f{app}\E", room: "\Q$f{room}\E", host: "\Q$f{host}\E", person: "\Q$f{person}\E", op: "\Q$f{op}\E", mcn: "\Q$f{mcn}\E", tier: "\Q$f{tier}\E", ai: $f{ai}, idv: "\Q$f{idv}\E", jti: "\Q$f{jti}\E", kid: "\Q$f{kid}\E", token: "sha256:$hash"/);

    # nginx-rtmp's own line sees the token overwritten with 'x'
    # (all of it that nginx-rtmp keeps: name and args are cut at 255 bytes)
    push @re, qr/publish: name='\Q$f{room}\E' args='token=x{20,}' type=live/
        unless $o{no_redact};

    return \@re;
}

# the credential (all of it, or its first 40 characters) must not be
# logged: one pattern for every token made so far; plus any other strings
sub no_leak {
    my (@extra) = @_;
    my %seen;
    my @parts = grep { !$seen{$_}++ }
                map { ($_, substr($_, 0, 40)) }
                grep { length >= 40 } @TOKENS;
    return [@extra] unless @parts;
    my $alt = join '|', map { quotemeta } @parts;
    return [@extra, qr/$alt/];
}

run_tests();

__DATA__

=== TEST 1: a valid HS256 token is admitted, nginx-rtmp sees it redacted
--- publish eval: pub(tok())
--- status eval: started()
--- exit_code: 0
--- error_log eval: accepted()
--- no_error_log eval: no_leak('[error]', 'publish rejected')



=== TEST 2: token_missing: no token anywhere (logged at info)
--- publish
live/room1
live/room1?other=1&tokens=2
--- status
status: error NetStream.Publish.Rejected token_missing: 
status: error NetStream.Publish.Rejected token_missing: 
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
qr/\[info\] \d+#\d+: \*\d+ compliance: publish rejected: token_missing: .+, app: "live", room: "room1", jti: "", kid: "", token: "sha256:-"/,
qr/\[info\] \d+#\d+: \*\d+ compliance: publish rejected: token_missing: .+, app: "live", room: "room1", jti: "", kid: "", token: "sha256:-"/,
--- no_error_log
[error]
publish accepted
publish: name=



=== TEST 3: token_malformed: not a compact JWS (one, two and four parts)
--- publish eval
$::T{one} = 'x' x 60;
$::T{two} = b64u('{"alg":"HS256"}') . '.' . b64u(claims());
$::T{four} = tok() . '.AAAA';
join "\n", map { pub($::T{$_}) } qw(one two four);
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_malformed: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('token_malformed', token => $::T{$_}) } qw(one two four) ]
--- no_error_log eval: no_leak('publish accepted', $::T{two})



=== TEST 4: token_malformed: bad base64url in the header and in the claims
--- publish eval
# '!' in the header
my ($h, $p, $s) = split /\./, tok();
$::T{hdr} = "$h!.$p.$s";
# the claims in standard base64 ('+', '/', '=' padding), signed as they
# are: the signature verifies, the claims do not decode
my $std = MIME::Base64::encode_base64(claims(pad => '>>>???' . 'x' x 4), '');
$::T{std} = $std;
my $input = "$h.$std";
$::T{pl} = "$input." . b64u(Digest::SHA::hmac_sha256($input, hs_secret()));
push @::TOKENS, $::T{pl};
join "\n", pub($::T{hdr}), pub($::T{pl});
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_malformed: " } 1 .. 2 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
[ rejected('token_malformed', token => $::T{hdr}, detail => 'token header .+'),
  rejected('token_malformed', token => $::T{pl}, detail => '.*claims.*') ]
--- no_error_log eval: no_leak('publish accepted')
--- post_check eval
sub { like($::T{std}, qr{[+/=]}, 'the claims are not base64url') }



=== TEST 5: token_malformed: a duplicated claim
--- publish eval
my $c = claims();
$c =~ s/^\{/{"room":"room1",/;
pub(forge('--alg', 'HS256', '--key', "$ENV{TEST_NGINX_KEYS}/hs256.key",
          '--claims', $c))
--- status eval: refusal('token_malformed')
--- no_status: NetStream.Publish.Start
--- exit_code: 1
--- error_log eval: rejected('token_malformed')
--- no_error_log eval: no_leak('publish accepted')



=== TEST 6: token_malformed: exp as a string, exp missing
--- publish eval
$::T{str} = tok(claims => { exp => '' . (time + 3600) });
$::T{none} = tok(claims => { exp => undef });
join "\n", pub($::T{str}), pub($::T{none});
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_malformed: " } 1 .. 2 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
[ rejected('token_malformed', token => $::T{str}, detail => '.*"exp".*'),
  rejected('token_malformed', token => $::T{none}, detail => '.*"exp".*') ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 7: token_malformed: 4,097 bytes (a valid signature); 4,096 admitted
--- publish eval
$::T{max} = sized_token(4096);
$::T{over} = sized_token(4097);
join "\n", pub($::T{max}), pub($::T{over});
--- status
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_malformed: 
--- exit_code: 0 1
--- error_log eval
[ @{accepted(token => $::T{max})},
  rejected('token_malformed', token => $::T{over}, detail => '.*4096.*') ]
--- no_error_log eval: no_leak()
--- post_check eval
sub {
    is(length $::T{max}, 4096, '4,096 byte token');
    is(length $::T{over}, 4097, '4,097 byte token');
}



=== TEST 8: token_algorithm: alg none, unsigned
--- publish eval
$::T{none} = forge('--alg', 'none', '--claims', claims());
$::T{nonesig} = forge('--alg', 'none', '--claims', claims()) . 'AAAA';
$::T{upper} = forge('--alg', 'HS256', '--key', "$ENV{TEST_NGINX_KEYS}/hs256.key",
                  '--header', '{"alg":"NONE","typ":"JWT"}', '--claims', claims());
join "\n", map { pub($::T{$_}) } qw(none nonesig upper);
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_algorithm: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('token_algorithm', token => $::T{$_}) } qw(none nonesig upper) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 9: token_algorithm: alg confusion, HS256 keyed with the RSA public key PEM
--- app
compliance_key $TEST_NGINX_KEYS/rsa.pub;
compliance_tier basic;
--- publish eval
my $pub = "$ENV{TEST_NGINX_KEYS}/rsa.pub";
$::T{strip} = forge('--alg', 'HS256', '--key', $pub, '--claims', claims());
$::T{raw} = forge('--alg', 'HS256', '--key', $pub, '--raw-secret',
                '--claims', claims());
$::T{hs512} = forge('--alg', 'HS512', '--key', $pub, '--raw-secret',
                  '--claims', claims());
join "\n", map { pub($::T{$_}) } qw(strip raw hs512);
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_algorithm: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('token_algorithm', token => $::T{$_}) } qw(strip raw hs512) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 10: token_algorithm: alg confusion against an EC key, and ES384 on a P-256 key
--- app
compliance_key $TEST_NGINX_KEYS/ec256.pub;
compliance_tier basic;
--- publish eval
$::T{hs} = forge('--alg', 'HS256', '--key', "$ENV{TEST_NGINX_KEYS}/ec256.pub",
               '--raw-secret', '--claims', claims());
$::T{es384} = tok(alg => 'ES384');
$::T{rs} = tok(alg => 'RS256');
join "\n", map { pub($::T{$_}) } qw(hs es384 rs);
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_algorithm: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('token_algorithm', token => $::T{$_}) } qw(hs es384 rs) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 11: token_key_unknown: unknown kid; no kid when every key has one
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key kid=k1;
compliance_key $TEST_NGINX_KEYS/hs256b.key kid=k2;
compliance_tier basic;
--- publish eval
$::T{unknown} = tok(kid => 'k3');
$::T{nokid} = tok();
join "\n", pub($::T{unknown}), pub($::T{nokid});
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_key_unknown: " } 1 .. 2 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
[ rejected('token_key_unknown', token => $::T{unknown}, kid => 'k3'),
  rejected('token_key_unknown', token => $::T{nokid}, kid => '') ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 12: token_signature: tampered claims, tampered signature
--- publish eval
my ($h, $p, $s) = split /\./, tok(claims => { tier => 'closed' });
my $c = JSON::PP::decode_json(unb64u($p));
$c->{tier} = 'basic';
$::T{claims} = "$h." . b64u($::Json->encode($c)) . ".$s";
my ($h2, $p2, $s2) = split /\./, tok();
substr($s2, 10, 1) = substr($s2, 10, 1) eq 'A' ? 'B' : 'A';
$::T{sig} = "$h2.$p2.$s2";
push @::TOKENS, $::T{claims}, $::T{sig};
join "\n", pub($::T{claims}), pub($::T{sig});
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_signature: " } 1 .. 2 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
[ rejected('token_signature', token => $::T{claims}),
  rejected('token_signature', token => $::T{sig}) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 13: token_signature: signed with another key
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_key $TEST_NGINX_KEYS/rsa.pub kid=rsa;
compliance_key $TEST_NGINX_KEYS/ec256.pub kid=ec;
compliance_tier basic;
--- publish eval
$::T{hs} = tok(key => 'hs256b.key');
$::T{rs} = tok(alg => 'RS256', key => 'rsa2.pem', kid => 'rsa');
$::T{rs4096} = tok(alg => 'RS256', key => 'rsa4096.pem', kid => 'rsa');
$::T{hsempty} = join('.', (split /\./, tok())[0, 1]) . '.';
push @::TOKENS, $::T{hsempty};
join "\n", map { pub($::T{$_}) } qw(hs rs rs4096 hsempty);
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_signature: " } 1 .. 4 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1 1
--- error_log eval
[ rejected('token_signature', token => $::T{hs}, kid => ''),
  rejected('token_signature', token => $::T{rs}, kid => 'rsa'),
  rejected('token_signature', token => $::T{rs4096}, kid => 'rsa'),
  rejected('token_signature', token => $::T{hsempty}, kid => '') ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 14: token_expired: exp an hour ago, and exp 31 s ago (past the leeway)
--- publish eval
$::T{hour} = tok(claims => { iat => time - 7200, exp => time - 3600 });
$::T{edge} = tok(claims => { exp => time - 31 });
join "\n", pub($::T{hour}), pub($::T{edge});
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_expired: " } 1 .. 2 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
[ rejected('token_expired', token => $::T{hour}, detail => 'token expired 36\d\d s ago'),
  rejected('token_expired', token => $::T{edge}, detail => 'token expired 3\d s ago') ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 15: token_not_yet_valid: nbf and iat in the future
--- publish eval
$::T{nbf} = tok(claims => { nbf => time + 600 });
$::T{iat} = tok(claims => { iat => time + 600 });
join "\n", pub($::T{nbf}), pub($::T{iat});
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_not_yet_valid: " } 1 .. 2 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1
--- error_log eval
[ rejected('token_not_yet_valid', token => $::T{nbf}),
  rejected('token_not_yet_valid', token => $::T{iat}) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 16: token_issuer: another issuer, none; the right one admitted
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_issuer live.example.com;
compliance_tier basic;
--- publish eval
$::T{other} = tok(claims => { iss => 'live.example.org' });
$::T{none} = tok();
$::T{prefix} = tok(claims => { iss => 'live.example.com.evil' });
$::T{ok} = tok(claims => { iss => 'live.example.com' });
join "\n", map { pub($::T{$_}) } qw(other none prefix ok);
--- status
status: error NetStream.Publish.Rejected token_issuer: 
status: error NetStream.Publish.Rejected token_issuer: 
status: error NetStream.Publish.Rejected token_issuer: 
status: status NetStream.Publish.Start
--- exit_code: 1 1 1 0
--- error_log eval
[ (map { rejected('token_issuer', token => $::T{$_}) } qw(other none prefix)),
  @{accepted(token => $::T{ok})} ]
--- no_error_log eval: no_leak()



=== TEST 17: token_audience: string and array forms; a matching array admits
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_audience ingest.example.com;
compliance_tier basic;
--- publish eval
$::T{str} = tok(claims => { aud => 'cdn.example.com' });
$::T{arr} = tok(claims => { aud => ['cdn.example.com', 'api.example.com'] });
$::T{none} = tok();
$::T{empty} = tok(claims => { aud => [] });
$::T{okstr} = tok(claims => { aud => 'ingest.example.com' });
$::T{okarr} = tok(claims => { aud => ['cdn.example.com', 'ingest.example.com'] });
join "\n", map { pub($::T{$_}) } qw(str arr none empty okstr okarr);
--- status
status: error NetStream.Publish.Rejected token_audience: 
status: error NetStream.Publish.Rejected token_audience: 
status: error NetStream.Publish.Rejected token_audience: 
status: error NetStream.Publish.Rejected token_audience: 
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
--- exit_code: 1 1 1 1 0 0
--- error_log eval
[ (map { rejected('token_audience', token => $::T{$_}) } qw(str arr none empty)),
  @{accepted(token => $::T{okstr})}, @{accepted(token => $::T{okarr})} ]
--- no_error_log eval: no_leak()



=== TEST 18: token_scope: a play token, no scope, a list of scopes
--- publish eval
$::T{play} = tok(claims => { scope => 'play' });
$::T{none} = tok(claims => { scope => undef });
$::T{many} = tok(claims => { scope => 'play publish' });
join "\n", map { pub($::T{$_}) } qw(play none many);
--- status eval: [ map { "status: error NetStream.Publish.Rejected token_scope: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('token_scope', token => $::T{$_}) } qw(play none many) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 19: room_mismatch: a token for another room, for no room, for a prefix
--- publish eval
$::T{other} = tok(claims => { room => 'room2' });
$::T{none} = tok(claims => { room => undef });
$::T{prefix} = tok(claims => { room => 'room' });
join "\n", map { pub($::T{$_}) } qw(other none prefix);
--- status eval: [ map { "status: error NetStream.Publish.Rejected room_mismatch: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('room_mismatch', token => $::T{$_}) } qw(other none prefix) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 20: identity_unverified: sub, pid, op or idv missing; pid empty
--- publish eval
$::T{$_} = tok(claims => { $_ => undef }) for qw(sub pid op idv);
$::T{emptypid} = tok(claims => { pid => '' });
join "\n", map { pub($::T{$_}) } qw(sub pid op idv emptypid);
--- status eval: [ map { "status: error NetStream.Publish.Rejected identity_unverified: " } 1 .. 5 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1 1 1
--- error_log eval
[ (map { rejected('identity_unverified', token => $::T{$_}, detail => qq{.*"$_".*}) } qw(sub pid op idv)),
  rejected('identity_unverified', token => $::T{emptypid}, detail => '.*"pid".*') ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 21: tier_unknown: an unconfigured tier, no tier
--- publish eval
$::T{gold} = tok(claims => { tier => 'gold' });
$::T{none} = tok(claims => { tier => undef });
$::T{case} = tok(claims => { tier => 'Basic' });
join "\n", map { pub($::T{$_}) } qw(gold none case);
--- status eval: [ map { "status: error NetStream.Publish.Rejected tier_unknown: " } 1 .. 3 ]
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ map { rejected('tier_unknown', token => $::T{$_}) } qw(gold none case) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 22: tier_forbids_publish: a tier with publish=off
--- publish eval: pub(tok(claims => { tier => 'closed' }))
--- status eval: refusal('tier_forbids_publish')
--- no_status: NetStream.Publish.Start
--- exit_code: 1
--- error_log eval: rejected('tier_forbids_publish', detail => '.*"closed".*')
--- no_error_log eval: no_leak('publish accepted')



=== TEST 23: ai_host_forbidden: an AI host in a tier with ai_host=deny (the default)
--- publish eval: pub(tok(claims => { ai => JSON::PP::true }))
--- status eval: refusal('ai_host_forbidden')
--- no_status: NetStream.Publish.Start
--- exit_code: 1
--- error_log eval: rejected('ai_host_forbidden', detail => '.*"basic".*')
--- no_error_log eval: no_leak('publish accepted')



=== TEST 24: an AI host is admitted in an ai_host=allow tier, marked ai: true
--- publish eval
$::T{ai} = tok(claims => { ai => JSON::PP::true, tier => 'robots' });
$::T{human} = tok(claims => { ai => JSON::PP::false });
join "\n", pub($::T{ai}), pub($::T{human});
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
--- exit_code: 0 0
--- error_log eval
[ @{accepted(token => $::T{ai}, tier => 'robots', ai => 'true')},
  @{accepted(token => $::T{human})} ]
--- no_error_log eval: no_leak('[error]', 'publish rejected')



=== TEST 25: HS256, HS384 and HS512 are admitted
--- publish eval
$::T{$_} = tok(alg => $_, claims => { jti => "j-$_" }) for qw(HS256 HS384 HS512);
join "\n", map { pub($::T{$_}) } qw(HS256 HS384 HS512);
--- status eval: [ map { 'status: status NetStream.Publish.Start' } 1 .. 3 ]
--- exit_code: 0 0 0
--- error_log eval
[ map { @{accepted(token => $::T{$_}, jti => "j-$_")} } qw(HS256 HS384 HS512) ]
--- no_error_log eval: no_leak('[error]', 'publish rejected')



=== TEST 26: RS256, RS384 and RS512 are admitted, RSA-2048 and RSA-4096
--- app
compliance_key $TEST_NGINX_KEYS/rsa.pub;
compliance_key $TEST_NGINX_KEYS/rsa4096.pub kid=big;
compliance_tier basic;
--- publish eval
$::T{$_} = tok(alg => $_) for qw(RS256 RS384 RS512);
$::T{big} = tok(alg => 'RS512', key => 'rsa4096.pem', kid => 'big');
join "\n", map { pub($::T{$_}) } qw(RS256 RS384 RS512 big);
--- status eval: [ map { 'status: status NetStream.Publish.Start' } 1 .. 4 ]
--- exit_code: 0 0 0 0
--- error_log eval
[ (map { @{accepted(token => $::T{$_})} } qw(RS256 RS384 RS512)),
  @{accepted(token => $::T{big}, kid => 'big')} ]
--- no_error_log eval: no_leak('[error]', 'publish rejected')



=== TEST 27: ES256, ES384 and ES512 are admitted, each with its curve
--- app
compliance_key $TEST_NGINX_KEYS/ec256.pub kid=p256;
compliance_key $TEST_NGINX_KEYS/ec384.pub kid=p384;
compliance_key $TEST_NGINX_KEYS/ec521.pub kid=p521;
compliance_tier basic;
--- publish eval
$::T{ES256} = tok(alg => 'ES256', kid => 'p256');
$::T{ES384} = tok(alg => 'ES384', kid => 'p384');
$::T{ES512} = tok(alg => 'ES512', kid => 'p521');
join "\n", map { pub($::T{$_}) } qw(ES256 ES384 ES512);
--- status eval: [ map { 'status: status NetStream.Publish.Start' } 1 .. 3 ]
--- exit_code: 0 0 0
--- error_log eval
[ @{accepted(token => $::T{ES256}, kid => 'p256')},
  @{accepted(token => $::T{ES384}, kid => 'p384')},
  @{accepted(token => $::T{ES512}, kid => 'p521')} ]
--- no_error_log eval: no_leak('[error]', 'publish rejected')



=== TEST 28: ~2,000 and ~4,000 character tokens (padded claims) are admitted
--- app
compliance_key $TEST_NGINX_KEYS/rsa.pub;
compliance_key $TEST_NGINX_KEYS/rsa4096.pub kid=big;
compliance_tier basic;
--- publish eval
$::T{t2k} = tok(alg => 'RS256', claims => { pad => 'p' x 1000 });
$::T{t4k} = tok(alg => 'RS512', key => 'rsa4096.pem', kid => 'big',
              claims => { pad => 'q' x 2300 });
join "\n", pub($::T{t2k}), pub($::T{t4k}), pub($::T{t4k}, args => '--chunk-size 60000');
--- status eval: [ map { 'status: status NetStream.Publish.Start' } 1 .. 3 ]
--- exit_code: 0 0 0
--- error_log eval
[ @{accepted(token => $::T{t2k})}, @{accepted(token => $::T{t4k}, kid => 'big')} ]
--- no_error_log eval: no_leak('[error]', 'publish rejected')
--- post_check eval
sub {
    cmp_ok(length $::T{t2k}, '>=', 1900, '~2,000 characters: ' . length $::T{t2k});
    cmp_ok(length $::T{t2k}, '<=', 2100, '~2,000 characters');
    cmp_ok(length $::T{t4k}, '>=', 3900, '~4,000 characters: ' . length $::T{t4k});
    cmp_ok(length $::T{t4k}, '<=', 4096, '~4,000 characters');
    my $n = () = error_log_text() =~ /publish accepted/g;
    is($n, 3, 'three admissions');
}



=== TEST 29: key rotation by kid: each kid admitted, unknown kid refused
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key kid=2026a;
compliance_key $TEST_NGINX_KEYS/hs256b.key kid=2026b;
compliance_key $TEST_NGINX_KEYS/rsa.pub kid=2026r;
compliance_key $TEST_NGINX_KEYS/rsa2.pub;
compliance_tier basic;
--- publish eval
$::T{a} = tok(kid => '2026a');
$::T{b} = tok(key => 'hs256b.key', kid => '2026b');
$::T{r} = tok(alg => 'RS256', kid => '2026r');
$::T{nokid} = tok(alg => 'RS256', key => 'rsa2.pem');
$::T{c} = tok(kid => '2026c');
$::T{swap} = tok(key => 'hs256b.key', kid => '2026a');
join "\n", map { pub($::T{$_}) } qw(a b r nokid c swap);
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_key_unknown: 
status: error NetStream.Publish.Rejected token_signature: 
--- exit_code: 0 0 0 0 1 1
--- error_log eval
[ @{accepted(token => $::T{a}, kid => '2026a')},
  @{accepted(token => $::T{b}, kid => '2026b')},
  @{accepted(token => $::T{r}, kid => '2026r')},
  @{accepted(token => $::T{nokid}, kid => '')},
  rejected('token_key_unknown', token => $::T{c}, kid => '2026c'),
  rejected('token_signature', token => $::T{swap}, kid => '2026a') ]
--- no_error_log eval: no_leak()



=== TEST 30: the token in the connect URL (app, tcUrl); the stream key's wins
--- clients eval
$::T{app} = tok(claims => { jti => 'via-app' });
$::T{tc} = tok(claims => { jti => 'via-tcurl' });
$::T{name} = tok(claims => { jti => 'via-name' });
$::T{bad} = tok(claims => { jti => 'bad', exp => time - 3600 });
my $url = "rtmp://127.0.0.1:$ENV{TEST_NGINX_RTMP_PORT}/live";
[ "publish live?token=$::T{app}/room1",
  "publish live/room1 -t $url?token=$::T{tc}",
  "publish live/room1?token=$::T{name} -t $url?x=1&token=$::T{bad}",
  "publish live/room1?token=$::T{bad} -t $url?token=$::T{tc}" ]
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_expired: 
--- exit_code: 0 0 0 1
--- error_log eval
[ @{accepted(token => $::T{app}, jti => 'via-app', no_redact => 1)},
  @{accepted(token => $::T{tc}, jti => 'via-tcurl', no_redact => 1)},
  @{accepted(token => $::T{name}, jti => 'via-name')},
  rejected('token_expired', token => $::T{bad}),
  qr/connect: app='live' args='token=x{20,}'/,
  qr/tc_url='rtmp:\/\/127\.0\.0\.1:\d+\/live\?token=x{20,}'/,
  qr/tc_url='rtmp:\/\/127\.0\.0\.1:\d+\/live\?x=1&token=x{20,}'/ ]
--- no_error_log eval: no_leak()



=== TEST 31: leeway: exp 10 s ago and nbf/iat 10 s ahead pass the default 30 s
--- publish eval
$::T{exp} = tok(claims => { iat => time - 100, exp => time - 10 });
$::T{nbf} = tok(claims => { nbf => time + 10, iat => time + 10 });
join "\n", pub($::T{exp}), pub($::T{nbf});
--- status
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
--- exit_code: 0 0
--- error_log eval
[ @{accepted(token => $::T{exp})}, @{accepted(token => $::T{nbf})} ]
--- no_error_log eval: no_leak('[error]', 'publish rejected')



=== TEST 32: leeway: with compliance_leeway 0s the same tokens are refused
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_tier basic;
compliance_leeway 0s;
--- publish eval
$::T{exp} = tok(claims => { iat => time - 100, exp => time - 10 });
$::T{nbf} = tok(claims => { nbf => time + 10 });
$::T{iat} = tok(claims => { iat => time + 10 });
join "\n", map { pub($::T{$_}) } qw(exp nbf iat);
--- status
status: error NetStream.Publish.Rejected token_expired: 
status: error NetStream.Publish.Rejected token_not_yet_valid: 
status: error NetStream.Publish.Rejected token_not_yet_valid: 
--- no_status: NetStream.Publish.Start
--- exit_code: 1 1 1
--- error_log eval
[ rejected('token_expired', token => $::T{exp}, detail => 'token expired 1\d s ago'),
  rejected('token_not_yet_valid', token => $::T{nbf}),
  rejected('token_not_yet_valid', token => $::T{iat}) ]
--- no_error_log eval: no_leak('publish accepted')



=== TEST 33: a refused publish records nothing, runs no exec and no on_publish; an admitted one does
--- http_config
log_format onpub '$request_uri $request_body';
--- http_server_config
location = /on_publish {
    access_log logs/on_publish.log onpub;
    proxy_pass http://127.0.0.1:$TEST_NGINX_HTTP_PORT/ok;
}
location = /ok {
    access_log off;
    return 200 "ok";
}
--- config eval
mkdir "$ENV{TEST_NGINX_SERVROOT}/rec";
mkdir "$ENV{TEST_NGINX_SERVROOT}/exec";
<<'EOF';
application live {
    live on;
    compliance on;
    compliance_key $TEST_NGINX_KEYS/hs256.key;
    compliance_tier basic;
    record all;
    record_path $TEST_NGINX_SERVROOT/rec;
    exec_publish /bin/sh -c "echo name=$name $args > $TEST_NGINX_SERVROOT/exec/$name";
    on_publish http://127.0.0.1:$TEST_NGINX_HTTP_PORT/on_publish;
}
EOF
--- publish eval
$::T{bad} = tok(claims => { room => 'refused', exp => time - 3600 });
$::T{good} = tok(claims => { room => 'admitted' });
join "\n", pub($::T{bad}, room => 'refused'), pub($::T{good}, room => 'admitted');
--- status
status: error NetStream.Publish.Rejected token_expired: 
status: status NetStream.Publish.Start
--- exit_code: 1 0
--- error_log eval
[ rejected('token_expired', token => $::T{bad}, room => 'refused'),
  @{accepted(token => $::T{good}, room => 'admitted')} ]
--- no_error_log eval: no_leak()
--- post_check eval
sub {
    my $root = servroot();

    # the admitted publish is the barrier: it came after the refused one
    ok(wait_for(sub { -s "$root/exec/admitted" }, 10),
       'exec_publish ran for the admitted publish');
    ok(wait_for(sub { (slurp("$root/logs/on_publish.log") || '')
                      =~ /name=admitted/ }, 10),
       'on_publish called for the admitted publish');
    ok(wait_for(sub { -s "$root/rec/admitted.flv" }, 10),
       'the admitted publish is recorded');

    my @rec = glob("$root/rec/refused*");
    is("@rec", '', 'no recording of the refused publish');
    ok(!-e "$root/exec/refused", 'no exec_publish for the refused publish');
    my $onpub = slurp("$root/logs/on_publish.log") || '';
    unlike($onpub, qr/name=refused/, 'no on_publish for the refused one');

    # exec and on_publish see the token overwritten
    like(slurp("$root/exec/admitted"), qr/^name=admitted token=x{50,}$/m,
         'exec_publish sees token=xxx');
    like($onpub, qr/token=x{50,}/, 'on_publish sees token=xxx');
    for my $t ($::T{bad}, $::T{good}) {
        is(index($onpub, substr($t, 0, 40)), -1, 'no token in on_publish');
    }
}



=== TEST 34: the credential is never logged, only its jti, kid and sha256 prefix
--- app
compliance_key $TEST_NGINX_KEYS/hs256.key kid=k1;
compliance_key $TEST_NGINX_KEYS/rsa.pub kid=k2;
compliance_tier basic;
--- clients eval
$::T{ok} = tok(kid => 'k1', claims => { jti => 'jti-ok-1' });
$::T{sig} = tok(kid => 'k2', alg => 'RS256', key => 'rsa2.pem',
              claims => { jti => 'jti-bad-2' });
$::T{tc} = tok(kid => 'k2', alg => 'RS256', claims => { jti => 'jti-tc-3' });
$::T{exp} = tok(kid => 'k1', claims => { exp => time - 3600 });
$::T{room} = tok(kid => 'k1', claims => { room => 'room2', jti => 'jti-room-4' });
my $url = "rtmp://127.0.0.1:$ENV{TEST_NGINX_RTMP_PORT}/live";
[ "publish live/room1?token=$::T{ok}",
  "publish live/room1?token=$::T{sig}",
  "publish live/room1 -t $url?token=$::T{tc}",
  "publish live?token=$::T{exp}/room1",
  "publish live/room1?token=$::T{room}" ]
--- status
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_signature: 
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_expired: 
status: error NetStream.Publish.Rejected room_mismatch: 
--- exit_code: 0 1 0 1 1
--- error_log eval
[ @{accepted(token => $::T{ok}, kid => 'k1', jti => 'jti-ok-1')},
  rejected('token_signature', token => $::T{sig}, kid => 'k2'),
  @{accepted(token => $::T{tc}, kid => 'k2', jti => 'jti-tc-3', no_redact => 1)},
  rejected('token_expired', token => $::T{exp}, kid => 'k1'),
  qr/publish rejected: room_mismatch: .*, jti: "jti-room-4", kid: "k1", token: "sha256:@{[hash12($::T{room})]}"/ ]
--- no_error_log eval: no_leak()
--- post_check eval
sub {
    # the whole error log of this file so far, every block
    my $log = slurp(servroot() . '/logs/error.log');
    my $n = 0;

    for my $t (@::TOKENS) {
        next if length $t < 40;
        $n++;
        my $at = index($log, $t);
        my $at40 = index($log, substr($t, 0, 40));
        ok($at < 0 && $at40 < 0,
           "token " . hash12($t) . " is not in the error log")
            or diag("found at $at / $at40");
    }

    cmp_ok($n, '>', 50, "checked $n tokens against the whole log");

    # the sha256 prefix is the one compliance-token decode prints
    my $bin = $ENV{TEST_COMPLIANCE_TOKEN}
              || repo_root() . '/build/compliance-token';
    my $out = `$bin decode $::T{ok}`;
    like($out, qr/\b\Q@{[hash12($::T{ok})]}\E\b/,
         'compliance-token decode prints the same sha256 prefix');
}



=== TEST 35: control: without compliance, nginx-rtmp logs the stream key as it is
--- config
application open {
    live on;
}
--- publish eval
$::T{control} = token();    # not in @TOKENS: it is meant to be logged here
"open/room1?token=$::T{control}"
--- status eval: started()
--- exit_code: 0
--- error_log eval
[ "args='token=" . substr($::T{control}, 0, 200), substr($::T{control}, 0, 40) ]
--- no_error_log
compliance:
--- post_check eval
sub {
    # the leak pattern of the other blocks does catch a token
    local @::TOKENS = ($::T{control});
    like("x args='token=$::T{control}", no_leak()->[-1], 'no_leak() matches a token');
    like(substr($::T{control}, 0, 40), no_leak()->[-1], 'and its first 40 characters');
}


=== TEST 36: compliance-token warns on stderr when a token is longer than publishers like OBS can send, and prints it all the same
--- post_check eval
sub {
    my $tool = repo_root() . '/build/compliance-token';
    my $key = keys_dir() . '/hs256.key';
    my $now = time;
    my $claims = '{"exp":' . ($now + 600) . ',"room":"r99","scope":"publish",'
               . '"sub":"h","pid":"p","op":"o","tier":"basic","idv":"face",'
               . '"pad":"' . ('x' x 800) . '"}';
    my $short = '{"exp":' . ($now + 600) . ',"room":"r99"}';

    for my $case ([$claims, 1], [$short, 0]) {
        my ($json, $warn) = @$case;
        my $out = `$tool sign --alg HS256 --key $key --claims '$json' 2>/tmp/ct-err.$$`;
        my $err = slurp("/tmp/ct-err.$$") // '';
        unlink "/tmp/ct-err.$$";
        chomp $out;
        like($out, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is printed alone on stdout');
        if ($warn) {
            like($err, qr/^compliance-token: warning: the token has \d+ characters; OBS and librtmp publishers cannot send a stream key over about 960/,
                 length($out) . ' characters: warned');
        } else {
            is($err, '', length($out) . ' characters: no warning');
        }
    }
}



=== TEST 37: TCP_NODELAY is set on each RTMP connection when it comes (go-live without Nagle); at admission a player's is cleared (its media goes out with Nagle) and a publisher's stays: one setsockopt() less a publish
--- post_check eval
sub {
    my @w = worker_pids();
    my $out = servroot() . '/tmp/setsockopt.strace';
    my $tracer = fork();
    if ($tracer == 0) {
        exec 'strace', '-qq', '-e', 'trace=setsockopt', '-e', 'signal=none',
             '-o', $out, map { ('-p', $_) } @w;
        exit 127;
    }
    my $traced = sub {
        for my $w (@w) {
            my $st = slurp("/proc/$w/status") // '';
            return 0 unless $st =~ /^TracerPid:\s*[1-9]/m;
        }
        return 1;
    };
    ok(wait_for($traced, 10), 'strace follows the workers');

    my $p = publisher('room1');
    ok(wait_output($p, 'NetStream.Publish.Start'), 'the publisher is live');
    my $v = player('room1');
    ok(wait_output($v, 'NetStream.Play.Start'), 'the player is admitted');

    kill 'INT', $tracer;
    waitpid($tracer, 0);
    stop_client($_) for $p, $v;

    my $t = slurp($out) // '';
    my $on = () = $t =~ /TCP_NODELAY, \[1\]/g;
    my $off = () = $t =~ /TCP_NODELAY, \[0\]/g;
    is($on, 2, 'set on both connections when they came') or diag($t);
    is($off, 1, "cleared once: the player's") or diag($t);
}
--- no_error_log
[error]
