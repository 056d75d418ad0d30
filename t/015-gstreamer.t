# The publish gate with GStreamer's rtmp2sink (issue 15): a publish with
# a valid token in the stream name is admitted (GET sessions lists it,
# the audit log records it), an expired token is refused with the reason
# in gst-launch's error, a suspend order drops it, and long tokens go
# through up to the length measured here (docs/tokens.md).
#
# Debian packages: gstreamer1.0-tools (gst-launch-1.0),
# gstreamer1.0-plugins-base (videotestsrc), gstreamer1.0-plugins-good
# (flvmux), gstreamer1.0-plugins-bad (rtmp2sink, h264parse),
# gstreamer1.0-plugins-ugly (x264enc).

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;

BEGIN {
    my @missing = grep {
        system("gst-inspect-1.0 $_ >/dev/null 2>&1") != 0
    } qw(rtmp2sink x264enc h264parse flvmux videotestsrc);

    if (!`command -v gst-launch-1.0 2>/dev/null` || @missing) {
        require Test::More;
        Test::More::plan(skip_all => 'GStreamer cannot publish: '
            . (@missing ? "no element @missing" : 'no gst-launch-1.0')
            . ' (install gstreamer1.0-tools gstreamer1.0-plugins-base'
            . ' gstreamer1.0-plugins-good gstreamer1.0-plugins-bad'
            . ' gstreamer1.0-plugins-ugly)');
    }
}

block_defaults(
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);

# a token of about LEN characters (a pad claim)
sub tok_len {
    my ($len) = @_;
    my $base = length token();
    my $pad = int(($len - $base) * 3 / 4) - 8;
    return kept_token(claims => { pad => 'p' x ($pad > 0 ? $pad : 1) });
}

sub url {
    my ($token) = @_;
    return 'rtmp://127.0.0.1:' . rtmp_port() . "/live/room1?token=$token";
}

# gst_start(URL, FRAMES): gst-launch-1.0 publishing FRAMES frames of a test
# pattern (25 fps, H.264 in FLV) with rtmp2sink; (pid, output file)
sub gst_start {
    my ($url, $frames) = @_;

    my $out = servroot() . "/tmp/gst.$$." . int(rand 1e9);
    my @cmd = ('gst-launch-1.0', 'videotestsrc', 'is-live=true',
               "num-buffers=$frames", '!',
               'video/x-raw,width=160,height=120,framerate=25/1', '!',
               'x264enc', 'tune=zerolatency', 'speed-preset=ultrafast',
               'key-int-max=25', '!', 'h264parse', '!',
               'flvmux', 'streamable=true', '!', 'rtmp2sink',
               "location=$url");

    return (Test::Compliance::_spawn(\@cmd, $out), $out);
}

# gst_wait(PID, OUT, SECONDS): (exit code or "timeout", output)
sub gst_wait {
    my ($pid, $out, $secs) = @_;

    my $rc = Test::Compliance::_reap($pid, $secs);
    my $text = slurp($out) // '';
    unlink $out;
    return ($rc, $text);
}

sub gst {
    my ($url, $frames) = @_;
    return gst_wait(gst_start($url, $frames), 30);
}

run_tests();

__DATA__

=== TEST 1: rtmp2sink publishes with a valid token: admitted, listed, audited
--- rtmp_config eval
zone_conf() . "compliance_audit_log \$TEST_NGINX_SERVROOT/audit;\n"
--- post_check eval
sub {
    my $t = kept_token(claims => { jti => 'gst-1' });
    my ($pid, $out) = gst_start(url($t), 100);
    ok(wait_for(sub { find_sessions(kind => 'publish', room => 'room1',
                                    host => 'host1', jti => 'gst-1') }, 10),
       'GET sessions lists the rtmp2sink publisher');
    my ($rc, $text) = gst_wait($pid, $out, 30);
    is($rc, 0, 'gst-launch-1.0 exits 0 after its 100 frames') or diag($text);
    unlike($text, qr/ERROR/, 'no error') or diag($text);
    ok(wait_accepted($t), 'the accepted log line');
    my $audit = '';
    ok(wait_for(sub {
        $audit = join '', map { slurp($_) // '' }
                 glob(servroot() . '/audit/audit-*.jsonl');
        $audit =~ /"event":"session\.end"/;
    }, 5), 'the audit log has the session\'s end');
    like($audit, qr/"event":"publish\.accept".*"room":"room1","host":"host1".*"jti":"gst-1"/,
         'the audit log has the publish.accept');
    no_token_leak();
}
--- no_error_log
[error]



=== TEST 2: an expired token: rtmp2sink fails with the reason in its error
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    my $t = kept_token(claims => { iat => time - 7200, exp => time - 3600 });
    my ($rc, $text) = gst(url($t), 250);
    isnt($rc, 0, 'gst-launch-1.0 fails');
    isnt($rc, 'timeout', 'gst-launch-1.0 does not hang');
    like($text, qr/ERROR: from element \S+rtmp2sink0: Failed to connect: 'publish' cmd failed: onStatus: \{ "level": "error", "code": "NetStream\.Publish\.Rejected", "description": "token_expired: token expired 36\d\d s ago" \}/, 'gst prints the reason')
        or diag($text);
    my $hash = hash12($t);
    ok(wait_for(sub {
        error_log_text() =~ /\[error\] .*compliance: publish rejected: token_expired: token expired 36\d\d s ago, app: "live", room: "room1", .*token: "sha256:$hash"/
    }, 5), 'the rejected log line');
    unlike(error_log_text(), qr/publish accepted/, 'not admitted');
    no_token_leak();
}



=== TEST 3: a suspend order drops the rtmp2sink publisher
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    my $t = kept_token();
    my ($pid, $out) = gst_start(url($t), 1500);
    ok(wait_for(sub { find_sessions(kind => 'publish', room => 'room1') },
                10), 'the publisher is live');
    my $o = order(target => 'person:person1', action => 'suspend',
                  duration => 600, reason => 'misleading price claims',
                  ref => 'gst-case');
    my ($rc, $text) = gst_wait($pid, $out, 10);
    isnt($rc, 0, 'gst-launch-1.0 fails');
    isnt($rc, 'timeout', 'gst-launch-1.0 stops within 10 s of the order');
    # the server closes the connection: no reason reaches rtmp2sink
    like($text, qr/ERROR: from element \S+rtmp2sink0: Connection error: (?:Error receiving data: Connection reset by peer|connection closed remotely)/,
         'gst prints a connection error') or diag($text);
    ok(wait_for(sub {
        error_log_text() =~ /compliance: session \d+ dropped: suspended, room: "room1", order $o->{id}: misleading price claims \(ref gst-case\)/
    }, 5), 'the drop is logged');
    no_token_leak();
}



=== TEST 4: rtmp2sink gets tokens of 1,000, 2,000 and 4,000 characters through in the stream name
--- rtmp_config eval: zone_conf()
--- post_check eval
sub {
    for my $len (1000, 2000, 4000) {
        my $t = tok_len($len);
        my $n = length $t;
        cmp_ok(abs($n - $len), '<', 100, "a token of ~$len characters: $n");
        my ($rc, $text) = gst(url($t), 25);
        is($rc, 0, "$n characters: gst-launch-1.0 exits 0") or diag($text);
        ok(wait_accepted($t), "$n characters: admitted");
    }
    no_token_leak();
}
--- no_error_log
[error]
