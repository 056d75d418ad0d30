# The publish gate with a real encoder (issue 2): ffmpeg publishes with a
# token in the stream key; refusals reach ffmpeg as "Server error: REASON:
# text"; long tokens work.
#
# ffmpeg keeps the URL's path in a 1,024-byte buffer (av_url_split), so a
# token much longer than ~1,000 characters cannot go in the URL itself: it
# goes in -rtmp_playpath ("room1?token=..."), as the module reads the
# stream key from the raw publish command.  TEST 6 shows what happens to a
# 2,000-character token put in the URL.

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use POSIX ();

BEGIN { need_x264() }

our @TOKENS;

block_defaults(config => live_app(
    'compliance_key $TEST_NGINX_KEYS/rsa.pub',
    'compliance_key $TEST_NGINX_KEYS/rsa4096.pub kid=big',
    'compliance_tier basic'));


sub tok {
    my $t = token(@_);
    push @TOKENS, $t;
    return $t;
}

# ffmpeg(URL, [extra output options]): a 2 s test pattern, H.264 in FLV,
# published in real time; returns (exit code or "timeout", stderr)

sub ffmpeg {
    my ($url, @opts) = @_;

    my $err = servroot() . "/tmp/ffmpeg.$$.err";
    my @cmd = ('ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'warning',
               '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25',
               '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast',
               @opts, '-f', 'flv', $url);

    my $pid = spawn_cmd($err, @cmd);

    my $rc;
    my $done = wait_for(sub {
        my $r = waitpid($pid, POSIX::WNOHANG());
        return 0 if $r == 0;
        $rc = $r == $pid ? ($? & 127 ? 'signal ' . ($? & 127) : $? >> 8)
                         : 'lost';
        return 1;
    }, 30);

    unless ($done) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        $rc = 'timeout';
    }

    my $stderr = slurp($err) // '';
    unlink $err;

    return ($rc, $stderr);
}

# publish_start_ms(URL): ffmpeg (no -tcp_nodelay, as encoders run) from
# its "Handshaking..." to its output being open, after Publish.Start, in
# ms; undef if it did not get there
sub publish_start_ms {
    my ($url) = @_;
    my ($th, $to);

    my $pid = open(my $fh, '-|');
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec';
          exec 'ffmpeg', '-nostdin', '-hide_banner', '-loglevel', 'debug',
               '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25',
               '-t', '0.2', '-c:v', 'flv', '-f', 'flv', $url; }
        POSIX::_exit(127);
    }

    my $t0 = Time::HiRes::time();
    while (my $l = <$fh>) {
        my $t = Time::HiRes::time();
        $th //= $t if $l =~ /Handshaking\.\.\./;
        # (ffmpeg says it of its input too: the one after the handshake)
        $to //= $t if $th && $l =~ /Successfully opened the file/;
        last if $t - $t0 > 20;
    }
    close $fh;

    return defined $to ? 1000 * ($to - $th) : undef;
}

sub url {
    my ($path) = @_;
    return 'rtmp://127.0.0.1:' . rtmp_port() . "/live$path";
}

# a publish admitted: ffmpeg exits 0, the log says so, nothing refused
sub admitted {
    my ($name, $rc, $stderr, $token, %o) = @_;

    is($rc, 0, "$name: ffmpeg exits 0") or diag($stderr);
    unlike($stderr, qr/Server error/, "$name: no server error");

    my $hash = hash12($token);
    my $kid = defined $o{kid} ? $o{kid} : '';
    ok(wait_for(sub {
        error_log_text() =~ /\[info\] .*compliance: publish accepted, app: "live", room: "room1", host: "host1", person: "person1", op: "op1", mcn: "mcn1", tier: "basic", ai: false, idv: "face", jti: "[^"]*", kid: "\Q$kid\E", token: "sha256:$hash"/
    }, 5), "$name: the accepted log line");

    like(error_log_text(), qr/publish: name='room1' args='token=x{20,}/,
         "$name: nginx-rtmp sees the token redacted");
    unlike(error_log_text(), qr/publish rejected/, "$name: nothing refused");
}

# a publish refused: ffmpeg fails and prints "Server error: REASON: ..."
sub rejected {
    my ($name, $rc, $stderr, $token, $reason) = @_;

    isnt($rc, 0, "$name: ffmpeg fails");
    isnt($rc, 'timeout', "$name: ffmpeg does not hang");
    like($stderr, qr/Server error: \Q$reason\E: \S/,
         "$name: ffmpeg prints the reason") or diag($stderr);

    my $hash = hash12($token);
    ok(wait_for(sub {
        error_log_text() =~ /\[error\] .*compliance: publish rejected: \Q$reason\E: .+, app: "live", room: "room1", jti: "[^"]*", kid: "[^"]*", token: "sha256:$hash"/
    }, 5), "$name: the rejected log line");

    unlike(error_log_text(), qr/publish accepted|publish: name=/,
           "$name: not admitted");
}

sub no_leak {
    my $log = error_log_text();
    for my $t (@TOKENS) {
        ok(index($log, substr($t, 0, 40)) < 0,
           'token ' . hash12($t) . ' is not in the error log');
    }
}

run_tests();

__DATA__

=== TEST 1: ffmpeg publishes with a valid RS256 token in the URL
--- post_check eval
sub {
    my $t = tok(alg => 'RS256', claims => { jti => 'ff-1' });
    my ($rc, $err) = ffmpeg(url("/room1?token=$t"));
    admitted('RS256', $rc, $err, $t);
    like(error_log_text(), qr/jti: "ff-1"/, 'jti logged');
    no_leak();
}
--- no_error_log
[error]



=== TEST 2: an expired token: ffmpeg shows "Server error: token_expired: ..."
--- post_check eval
sub {
    my $t = tok(alg => 'RS256', claims => { iat => time - 7200,
                                             exp => time - 3600 });
    my ($rc, $err) = ffmpeg(url("/room1?token=$t"));
    rejected('expired', $rc, $err, $t, 'token_expired');
    like($err, qr/Server error: token_expired: token expired 36\d\d s ago/,
         'the human text');
    no_leak();
}



=== TEST 3: a tampered token: ffmpeg shows "Server error: token_signature: ..."
--- post_check eval
sub {
    my ($h, $p, $s) = split /\./, tok(alg => 'RS256',
                                       claims => { room => 'room2' });
    my ($h2, $p2) = split /\./, tok(alg => 'RS256');
    my $t = "$h.$p2.$s";        # room1's claims under room2's signature
    push @::TOKENS, $t;
    my ($rc, $err) = ffmpeg(url("/room1?token=$t"));
    rejected('tampered', $rc, $err, $t, 'token_signature');
    no_leak();
}



=== TEST 4: a ~2,000 character token works (stream key in -rtmp_playpath)
--- post_check eval
sub {
    my $t = tok(alg => 'RS256', claims => { pad => 'p' x 1000 });
    cmp_ok(length $t, '>=', 1900, 'token of ~2,000 characters: ' . length $t);
    cmp_ok(length $t, '<=', 2100, 'token of ~2,000 characters');
    my ($rc, $err) = ffmpeg(url(''), '-rtmp_playpath', "room1?token=$t");
    admitted('2,000 characters', $rc, $err, $t);
    no_leak();
}
--- no_error_log
[error]



=== TEST 5: a ~4,000 character token works (RS512, RSA-4096, -rtmp_playpath)
--- post_check eval
sub {
    my $t = tok(alg => 'RS512', key => 'rsa4096.pem', kid => 'big',
                claims => { pad => 'q' x 2300 });
    cmp_ok(length $t, '>=', 3900, 'token of ~4,000 characters: ' . length $t);
    cmp_ok(length $t, '<=', 4096, 'token of at most 4,096 characters');
    my ($rc, $err) = ffmpeg(url(''), '-rtmp_playpath', "room1?token=$t");
    admitted('4,000 characters', $rc, $err, $t, kid => 'big');
    no_leak();
}
--- no_error_log
[error]



=== TEST 6: ffmpeg's URL limit: ~900 characters in the URL work, ~2,000 are cut by ffmpeg
--- post_check eval
sub {
    my $t = tok(alg => 'RS256', claims => { pad => 'p' x 250 });
    cmp_ok(length $t, '>=', 850, 'token of ~900 characters: ' . length $t);
    cmp_ok(length $t, '<=', 990, 'token of ~900 characters');
    my ($rc, $err) = ffmpeg(url("/room1?token=$t"));
    admitted('900 characters in the URL', $rc, $err, $t);

    # ffmpeg sends only the first 1,023 bytes of the URL's path: the
    # token arrives cut short, without its signature
    my $long = tok(alg => 'RS256', claims => { pad => 'p' x 1000 });
    my $before = length error_log_text();
    ($rc, $err) = ffmpeg(url("/room1?token=$long"));
    isnt($rc, 0, '2,000 characters in the URL: ffmpeg fails');
    like($err, qr/Server error: token_malformed: /,
         '2,000 characters in the URL: token_malformed (cut by ffmpeg)');
    my $log = substr(error_log_text(), $before);
    like($log, qr/publish rejected: token_malformed: .*room: "room1"/,
         'the rejected log line');
    no_leak();
}



=== TEST 7: ffmpeg with the token in the connect URL (rtmp://host/live?token=T/room1)
--- post_check eval
sub {
    my $t = tok(alg => 'RS256');
    my ($rc, $err) = ffmpeg(url("?token=$t/room1"));
    is($rc, 0, 'ffmpeg exits 0') or diag($err);
    my $hash = hash12($t);
    ok(wait_for(sub {
        error_log_text() =~ /\[info\] .*compliance: publish accepted, app: "live", room: "room1", .*token: "sha256:$hash"/
    }, 5), 'the accepted log line');
    like(error_log_text(), qr/connect: app='live' args='token=x{20,}'/,
         'nginx-rtmp sees the connect URL token redacted');
    no_leak();
}
--- no_error_log
[error]



=== TEST 8: a token in swfUrl is redacted too (OBS sends its server URL as tcUrl and swfUrl)
--- post_check eval
sub {
    my $t = tok(alg => 'RS256', claims => { jti => 'swf-1' });
    my ($rc, $err) = ffmpeg(url("?token=$t/room1"),
                            '-rtmp_swfurl', url("?token=$t"));
    is($rc, 0, 'ffmpeg exits 0') or diag($err);
    ok(wait_log(qr/compliance: publish accepted, .*jti: "swf-1"/, 5),
       'the accepted log line');
    like(error_log_text(), qr/connect: app='live' args='token=x{20,}' .*swf_url='rtmp:\/\/[^']*\?token=x{20,}' tc_url='rtmp:\/\/[^']*\?token=x{20,}'/,
         'nginx-rtmp sees the token redacted in swf_url and tc_url');
    no_leak();
}
--- no_error_log
[error]



=== TEST 9: ffmpeg's publish starts without waiting on Nagle and delayed ACKs (TCP_NODELAY, TCP_QUICKACK until admitted): under 100 ms from its handshake, median of three (nginx-rtmp alone: ~180 ms, three delayed ACKs of at least 40 ms)
--- post_check eval
sub {
    my @ms;
    for my $i (1 .. 3) {
        my $t = tok(alg => 'RS256', claims => { jti => "start-$i" });
        my $ms = publish_start_ms(url("/room1?token=$t"));
        ok(defined $ms, "publish $i: ffmpeg's output opened");
        push @ms, $ms // 1e9;
    }
    my ($median) = (sort { $a <=> $b } @ms)[1];
    diag(sprintf 'ffmpeg handshake to publish start: %s ms',
                 join(', ', map { sprintf '%.1f', $_ } @ms));
    ok($median < 100, sprintf 'median %.1f ms < 100 ms', $median);
    ok(wait_for(sub {
        (() = error_log_text() =~ /compliance: publish accepted, app: "live", room: "room1", .*jti: "start-\d"/g) == 3
    }, 5), 'three accepted log lines');
    no_leak();
}
--- no_error_log
[error]
