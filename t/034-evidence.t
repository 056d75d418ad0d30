# Evidence beyond the chain (docs/audit.md): "verify --recordings" re-hashes
# the files that record.done names; "timestamp --tsa URL" has a local RFC
# 3161 time-stamp authority (openssl ts -reply behind a one-file HTTP
# server below) stamp the newest record's hash; "verify --tsa-ca" checks
# the stored replies. The log is written here by hand with the hashing
# rules of docs/audit.md; the CA and the TSA certificate are made here.
#
#   prove -v t/034-evidence.t
#   AUDIT_TOOL=path/to/binary prove t/034-evidence.t

use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP ();
use MIME::Base64 ();
use POSIX ();

my $TOOL = $ENV{AUDIT_TOOL} || 'build/compliance-audit';
my $TMP = tempdir('evidence-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $LOG = "$TMP/log";
my $REC = "$TMP/rec";
my $PKI = "$TMP/pki";
my $J = JSON::PP->new->canonical;

plan skip_all => "$TOOL is not built (make tools)" unless -x $TOOL;
plan skip_all => 'no openssl command' if system('openssl version >/dev/null');

mkdir $_ or die "$_: $!" for $LOG, $REC, $PKI;

sub slurp {
    open my $fh, '<:raw', $_[0] or return undef;
    local $/;
    return scalar <$fh>;
}

sub spew {
    open my $fh, '>:raw', $_[0] or die "$_[0]: $!";
    print $fh $_[1];
    close $fh or die;
}

sub sh {
    my ($cmd) = @_;
    system("$cmd >$TMP/sh.log 2>&1") == 0
        or BAIL_OUT("$cmd: " . (slurp("$TMP/sh.log") // ''));
}

# { exit, out, err } of the tool
sub tool {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$TMP/out" or POSIX::_exit(126);
        open STDERR, '>', "$TMP/err" or POSIX::_exit(126);
        alarm 60;
        exec($TOOL, @_) or POSIX::_exit(127);
    }
    waitpid($pid, 0);
    return { exit => $? & 127 ? -1 : $? >> 8, out => slurp("$TMP/out"),
             err => slurp("$TMP/err") };
}


# ----------------------------------------------------------------------
# the log: a chain as docs/audit.md defines it (line, hashed bytes, links)

my ($seq, $prev) = (0, '0' x 64);
my %hash_of;                    # seq => hash

sub record {
    my ($event, @kv) = @_;
    $seq++;
    my $body = sprintf('{"seq":%d,"ts":"2026-03-01T08:00:%02d.000Z",'
                       . '"event":"%s","node":"n1"', $seq, $seq, $event);
    while (my ($k, $v) = splice @kv, 0, 2) {
        $body .= ',"' . $k . '":' . ($v =~ /^\d+$/ ? $v : $J->encode([$v])
                                                          =~ s/^\[|\]$//gr);
    }
    $body .= ',"prev":"' . $prev . '"';
    $prev = $hash_of{$seq} = sha256_hex($body . '}');
    open my $fh, '>>:raw', "$LOG/audit-20260301.jsonl" or die $!;
    print $fh $body, ',"hash":"', $prev, '"}', "\n";
    close $fh or die;
}

my %file = (a => "A" x 5000, b => join('', map { chr } 0 .. 255) x 40,
            c => "FLV\x01" . ("\0" x 300));

record('audit.start', pid => 4321);

for my $n (sort keys %file) {
    my $path = "$REC/r-$n.flv";
    spew($path, $file{$n});
    record('record.done', session => 7, app => 'live', room => "r$n",
           recorder => '', path => $path, size => length $file{$n},
           sha256 => sha256_hex($file{$n}));
}

record('session.end', session => 7, kind => 'publish', app => 'live',
       room => 'ra', duration_ms => 60000, why => 'closed');

my $r = tool('verify', $LOG);
is($r->{exit}, 0, 'the hand-written chain verifies') or diag($r->{err});


# ----------------------------------------------------------------------
# --recordings: each case changes the files, runs verify, puts them back

my @recording_cases = (
    { name => 'all present and unaltered', exit => 0,
      out => qr/^recordings: 3 checked \(record\.done\), all present and unaltered/m },
    { name => 'one changed byte, same size', exit => 1,
      change => sub { my $s = $file{b}; substr($s, 777, 1) ^= "\x01";
                      spew("$REC/r-b.flv", $s) },
      err => qr{recording \Q$REC\E/r-b\.flv \(record\.done seq 3\): changed: sha256 [0-9a-f]{64}, recorded \Q@{[sha256_hex($file{b})]}\E},
      not_err => qr{r-[ac]\.flv} },
    { name => 'a file cut short', exit => 1,
      change => sub { spew("$REC/r-a.flv", substr($file{a}, 0, 4999)) },
      err => qr{r-a\.flv \(record\.done seq 2\): changed: 4999 bytes, recorded 5000} },
    { name => 'a missing file', exit => 1,
      change => sub { unlink "$REC/r-c.flv" or die },
      err => qr{recording \Q$REC\E/r-c\.flv \(record\.done seq 4\): missing},
      not_err => qr{r-[ab]\.flv} },
    { name => 'a directory where the file was', exit => 1,
      change => sub { unlink "$REC/r-c.flv"; mkdir "$REC/r-c.flv" },
      undo => sub { rmdir "$REC/r-c.flv" },
      err => qr{r-c\.flv \(record\.done seq 4\): unreadable} },
);

# a case: change the files, run the tool, check exit, stdout, stderr, undo
sub verify_case {
    my ($c, $what, @args) = @_;
    $c->{change}->() if $c->{change};
    my $r = tool(@args);
    my $n = "$what, $c->{name}";
    is($r->{exit}, $c->{exit}, "$n: exit $c->{exit}")
        or diag("out: $r->{out}\nerr: $r->{err}");
    like($r->{out}, $c->{out}, "$n: prints it") if $c->{out};
    like($r->{err}, $c->{err}, "$n: names it") if $c->{err};
    unlike($r->{err}, $c->{not_err}, "$n: only it") if $c->{not_err};
    $c->{undo}->() if $c->{undo};
    return $r;
}

for my $c (@recording_cases) {
    my $r = verify_case($c, '--recordings', 'verify', $LOG, '--recordings');
    like($r->{err}, qr/recordings: 1 of 3 missing or changed/,
         "--recordings, $c->{name}: counted") if $c->{exit};
    spew("$REC/r-$_.flv", $file{$_}) for sort keys %file;
}

$r = tool('verify', $LOG);
is($r->{exit}, 0, 'without --recordings the files are not looked at');
unlike($r->{out}, qr/recordings:/, '... and not mentioned');


# ----------------------------------------------------------------------
# a CA, a TSA certificate it signs (timeStamping, critical), another CA

spew("$PKI/tsa.ext", "basicConstraints=CA:FALSE\n"
     . "keyUsage=critical,digitalSignature\n"
     . "extendedKeyUsage=critical,timeStamping\n");
spew("$PKI/tsa.cnf", <<"EOF");
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = $PKI/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_alg = sha256
EOF
spew("$PKI/serial", "01\n");

my $EC = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
for my $ca (qw(ca other)) {
    sh("openssl req -x509 $EC -keyout $PKI/$ca.key -out $PKI/$ca.pem "
       . "-days 2 -subj '/CN=Test $ca' "
       . "-addext basicConstraints=critical,CA:TRUE "
       . "-addext keyUsage=critical,keyCertSign");
}
sh("openssl req $EC -keyout $PKI/tsa.key -out $PKI/tsa.csr "
   . "-subj '/CN=Test TSA'");
sh("openssl x509 -req -in $PKI/tsa.csr -CA $PKI/ca.pem -CAkey $PKI/ca.key "
   . "-set_serial 2 -days 2 -extfile $PKI/tsa.ext -out $PKI/tsa.pem");


# ----------------------------------------------------------------------
# the TSA: HTTP/1.0, one request per connection; /tsa answers with
# openssl ts -reply, /fail with 500, /text with a 200 that is not a reply

my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                Listen => 5, ReuseAddr => 1)
    or die "listen: $!";
my $PORT = $srv->sockport;

my $tsa = fork // die "fork: $!";
if ($tsa == 0) {
    my $n = 0;
    while (my $c = $srv->accept) {
        $n++;
        my ($head, $buf) = ('', '');
        while ($head !~ /\r\n\r\n/) {
            last unless sysread($c, $buf, 4096);
            $head .= $buf;
        }
        my ($req, $body) = split /\r\n\r\n/, $head, 2;
        my ($len) = $req =~ /^Content-Length:\s*(\d+)/mi;
        while (defined $len && length($body) < $len) {
            last unless sysread($c, $buf, 4096);
            $body .= $buf;
        }
        spew("$TMP/request.$n", $req);
        spew("$TMP/query.$n", $body // '');
        my ($path) = $req =~ m{^POST (\S+) HTTP/1\.[01]\r?$}m;
        my $type = $req =~ m{^Content-Type: application/timestamp-query\r?$}mi;
        if (!$path || !$type || $path eq '/fail') {
            print $c "HTTP/1.0 500 Internal Server Error\r\n"
                   . "Content-Type: text/plain\r\n\r\nno\n";
        } elsif ($path eq '/text') {
            print $c "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n"
                   . "<html></html>\n";
        } elsif (system("openssl ts -reply -queryfile $TMP/query.$n "
                        . "-signer $PKI/tsa.pem -inkey $PKI/tsa.key "
                        . "-config $PKI/tsa.cnf -out $TMP/reply.$n "
                        . ">>$TMP/tsa.log 2>&1") == 0) {
            my $reply = slurp("$TMP/reply.$n");
            print $c "HTTP/1.0 200 OK\r\n"
                   . "Content-Type: application/timestamp-reply\r\n"
                   . "Content-Length: " . length($reply) . "\r\n\r\n"
                   . $reply;
        } else {
            print $c "HTTP/1.0 500 Internal Server Error\r\n\r\n";
        }
        close $c;
    }
    POSIX::_exit(0);
}
close $srv;
END { kill 'TERM', $tsa if $tsa; }

my $URL = "http://127.0.0.1:$PORT/tsa";
my $TSR = "$LOG/timestamps";

sub requests { return scalar(() = glob("$TMP/request.*")) }


# ----------------------------------------------------------------------
# timestamp

my $h5 = $hash_of{5};
$r = tool('timestamp', $LOG, '--tsa', $URL);
is($r->{exit}, 0, 'timestamp: exit 0') or diag("$r->{out}$r->{err}"
                                               . (slurp("$TMP/tsa.log")
                                                  // ''));
like($r->{out}, qr/^timestamped: seq 5 at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ \(hash \Q$h5\E, /m,
     'timestamp: the newest record, seq 5, and its hash');
ok(-s "$TSR/5.tsr", 'the reply is stored as DIR/timestamps/5.tsr');
is(slurp("$TSR/5.tsr"), slurp("$TMP/reply.1"),
   'the stored reply is the TSA\'s, byte for byte');
like(slurp("$TMP/request.1"), qr{^POST /tsa HTTP/1\.0\r\n}, 'an HTTP/1.0 POST');

# the query, as openssl reads it
my $q = `openssl ts -query -in $TMP/query.1 -text 2>&1`;
like($q, qr/Hash Algorithm: sha256/, 'the query: a SHA-256 imprint');
like($q, qr/Certificate required: yes/, 'the query: certReq true');
like($q, qr/Nonce: 0x[0-9A-F]+/i, 'the query: a nonce');
my ($md) = $q =~ /Message data:\n(.*?)\n(?:Policy|Nonce)/s;
my $hex = join '', map { /^\s*[0-9a-f]{4} - (.{47})/ ? $1 : () }
                   split /\n/, $md // '';
$hex =~ s/[ -]//g;
is(lc $hex, $hash_of{5}, 'the query: the imprint is the 32 bytes of the '
   . 'record\'s hash');

# checked by openssl on its own: signed by the CA, imprint = the hash
is(system("openssl ts -verify -digest $hash_of{5} -in $TSR/5.tsr "
          . "-CAfile $PKI/ca.pem >/dev/null 2>&1"), 0,
   'openssl ts -verify accepts the stored reply for the hash of seq 5');

my $before = requests();
$r = tool('timestamp', $LOG, '--tsa', $URL);
is($r->{exit}, 0, 'timestamp again, no newer record: exit 0');
like($r->{out}, qr/already timestamped: seq 5/, '... says so');
is(requests(), $before, '... and asks the TSA nothing');

record('audit.start', pid => 4322);
$r = tool('timestamp', $LOG, '--tsa', $URL);
is($r->{exit}, 0, 'timestamp after a new record: exit 0');
ok(-s "$TSR/6.tsr", '... stored as 6.tsr');

my @timestamp_errors = (
    { name => 'the TSA answers 500', url => "http://127.0.0.1:$PORT/fail",
      exit => 1, err => qr{HTTP 500 Internal Server Error} },
    { name => 'the TSA answers text', url => "http://127.0.0.1:$PORT/text",
      exit => 1, err => qr{not application/timestamp-reply} },
    { name => 'nothing listens', url => 'http://127.0.0.1:1/tsa',
      exit => 2, err => qr{connecting to 127\.0\.0\.1 port 1: Connection refused} },
    { name => 'https', url => "https://127.0.0.1:$PORT/tsa", exit => 2,
      err => qr{only http:// URLs} },
    { name => 'no --tsa', exit => 2, err => qr{missing --tsa URL} },
);

for my $c (@timestamp_errors) {
    record('audit.start', pid => 5000 + $seq);
    $r = tool('timestamp', $LOG, defined $c->{url} ? ('--tsa', $c->{url})
                                                   : ());
    is($r->{exit}, $c->{exit}, "timestamp, $c->{name}: exit $c->{exit}");
    like($r->{err}, $c->{err}, "timestamp, $c->{name}: says why");
    ok(!-e "$TSR/$seq.tsr", "timestamp, $c->{name}: nothing stored");
}

# a damaged chain is not stamped
my $seg = "$LOG/audit-20260301.jsonl";
my $log = slurp($seg);
spew($seg, $log =~ s/"pid":4322/"pid":4323/r);
$before = requests();
$r = tool('timestamp', $LOG, '--tsa', $URL);
is($r->{exit}, 1, 'timestamp of a damaged chain: exit 1');
like($r->{err}, qr/the chain is damaged/, '... says so');
is(requests(), $before, '... and asks the TSA nothing');
spew($seg, $log);


# ----------------------------------------------------------------------
# verify --tsa-ca: each case changes DIR/timestamps, runs verify, puts back

my %good = map { $_ => slurp("$TSR/$_.tsr") } 5, 6;

my @verify_cases = (
    { name => 'good', exit => 0,
      out => qr/^timestamped: seq 5 at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\ntimestamped: seq 6 at 20\d\d-/m },
    { name => 'a wrong CA', exit => 1, ca => "$PKI/other.pem",
      err => qr{\Q$TSR\E/5\.tsr: failed: certificate verify error .*\n\Q$TSR\E/6\.tsr: failed: certificate verify error }s },
    { name => 'a tampered reply (a byte of the signature)', exit => 1,
      change => sub { my $s = $good{6};
                      substr($s, length($s) - 8, 1) ^= "\x55";
                      spew("$TSR/6.tsr", $s) },
      err => qr{\Q$TSR\E/6\.tsr: failed: signature failure \(seq 6, },
      not_err => qr{5\.tsr} },
    { name => 'a reply stored under another seq', exit => 1,
      change => sub { spew("$TSR/3.tsr", $good{5}) },
      undo => sub { unlink "$TSR/3.tsr" },
      err => qr{\Q$TSR\E/3\.tsr: failed: message imprint mismatch \(seq 3, hash \Q@{[ $hash_of{3} ]}\E\)},
      not_err => qr{[56]\.tsr} },
    { name => 'a reply for a record the log does not hold', exit => 1,
      change => sub { spew("$TSR/99.tsr", $good{5}) },
      undo => sub { unlink "$TSR/99.tsr" },
      err => qr{99\.tsr: failed: the log holds no record with seq 99} },
    { name => 'not a reply', exit => 1,
      change => sub { spew("$TSR/6.tsr", "hello\n") },
      err => qr{6\.tsr: failed: not a DER time-stamp reply} },
    { name => 'no replies at all', exit => 1,
      change => sub { unlink "$TSR/$_.tsr" for 5, 6 },
      err => qr{no SEQ\.tsr time-stamp replies} },
);

for my $c (@verify_cases) {
    verify_case($c, '--tsa-ca', 'verify', $LOG, '--tsa-ca',
                $c->{ca} // "$PKI/ca.pem");
    spew("$TSR/$_.tsr", $good{$_}) for 5, 6;
}

# both at once
$r = tool('verify', $LOG, '--recordings', '--tsa-ca', "$PKI/ca.pem");
is($r->{exit}, 0, '--recordings --tsa-ca together: exit 0')
    or diag($r->{err});
like($r->{out}, qr/recordings: 3 checked.*timestamped: seq 5 .*timestamped: seq 6 /s,
     '--recordings --tsa-ca together: both reported');



# ----------------------------------------------------------------------
# seal takes the time stamps that cover the excerpt: seq 2 .. 4 has none
# of its own, so the excerpt goes on to seq 5, the first stamped record
# after it; verify-excerpt --tsa-ca checks the reply with the excerpt alone

my $X = "$TMP/excerpt.jsonl";
$r = tool('seal', $LOG, '--from', '2026-03-01T08:00:02', '--to',
          '2026-03-01T08:00:04', '--out', $X);
is($r->{exit}, 0, 'seal seq 2 .. 4 of a stamped log: exit 0')
    or diag($r->{err});
my @x = split /\n/, slurp($X) // '';
my $xh = $J->decode($x[0]);
is(join(' ', @$xh{qw(first_seq last_seq cover_seq)}), '2 4 5',
   'seal: the range 2 .. 4, on to seq 5, the first stamped record after it');
is($xh->{cover_hash}, $hash_of{5}, 'seal: cover_hash is the hash of seq 5');
is_deeply($xh->{timestamps}, [5], 'seal: the header names the stamp of 5');
is(scalar(@x), 1 + 4 + 1, 'seal: the header, seq 2 .. 5, one reply');
my $ev = $J->decode($x[-1]);
is($ev->{evidence} . ' ' . $ev->{seq}, 'timestamp 5',
   'seal: the last line is the reply of seq 5');
is(MIME::Base64::decode_base64($ev->{tsr}), $good{5},
   'seal: the reply is DIR/timestamps/5.tsr, byte for byte (base64)');

$r = tool('verify-excerpt', $X, '--tsa-ca', "$PKI/ca.pem");
is($r->{exit}, 0, 'verify-excerpt --tsa-ca: exit 0') or diag($r->{err});
like($r->{out}, qr/^timestamped: seq 5 at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m,
     'verify-excerpt --tsa-ca: timestamped: seq 5 at GENTIME');

$r = tool('verify-excerpt', $X);
is($r->{exit}, 0, 'verify-excerpt without --tsa-ca: exit 0');
like($r->{out}, qr/^timestamps: 1 reply\(ies\) in the excerpt, not checked: give --tsa-ca CA\.pem$/m,
     'verify-excerpt without --tsa-ca: says the reply is not checked');

# a range that holds a stamped record at its end: no record after it
my $X2 = "$TMP/excerpt-5.jsonl";
$r = tool('seal', $LOG, '--from', '2026-03-01T08:00:03', '--to',
          '2026-03-01T08:00:05', '--out', $X2);
my $xh2 = $J->decode((split /\n/, slurp($X2) // '{}')[0]);
ok($r->{exit} == 0 && !exists $xh2->{cover_seq}
   && "@{$xh2->{timestamps} // []}" eq '5',
   'seal seq 3 .. 5: the stamp of 5 is in the range, the excerpt ends at 5');

# the excerpt's reply tampered with (a byte of its signature), the other
# CA, a reply cut out
sub excerpt_with {
    my ($name, $edit) = @_;
    my @l = @x;
    $edit->(\@l);
    spew("$TMP/$name", join("\n", @l) . "\n");
    return "$TMP/$name";
}

my $bad = excerpt_with('x-tampered', sub {
    my $e = $J->decode($_[0][-1]);
    my $der = MIME::Base64::decode_base64($e->{tsr});
    substr($der, length($der) - 8, 1) ^= "\x55";
    $_[0][-1] = sprintf('{"evidence":"timestamp","seq":5,"tsr":"%s"}',
                        MIME::Base64::encode_base64($der, ''));
});
$r = tool('verify-excerpt', $bad, '--tsa-ca', "$PKI/ca.pem");
is($r->{exit}, 1, 'a tampered reply in the excerpt: exit 1');
like($r->{err}, qr/^\Q$bad\E:6: time stamp of seq 5: failed: signature failure \(seq 5, hash @{[ $hash_of{5} ]}\)$/m,
     'a tampered reply: names its line, the seq and why');
unlike($r->{out}, qr/timestamped:/, 'a tampered reply: not reported as stamped');

$r = tool('verify-excerpt', $X, '--tsa-ca', "$PKI/other.pem");
is($r->{exit}, 1, 'the excerpt\'s reply against another CA: exit 1');
like($r->{err}, qr/time stamp of seq 5: failed: certificate verify error/,
     'another CA: certificate verify error');

$bad = excerpt_with('x-cut', sub { pop @{$_[0]} });
$r = tool('verify-excerpt', $bad, '--tsa-ca', "$PKI/ca.pem");
is($r->{exit}, 1, 'the reply cut from the excerpt: exit 1');
like($r->{err}, qr/the header's time stamp of seq 5 is not in the excerpt/,
     'the reply cut: says the header names it');

done_testing();
