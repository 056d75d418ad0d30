# HLS viewers (issue 13): "compliance_hls live;" in the location that
# serves the application's hls_path.  ffmpeg publishes a real H.264
# stream, nginx-rtmp writes the playlist and segments, and:
#
#   - a room without a live publisher is a 404, whatever is on disk;
#   - a viewer's first playlist request is admitted as any player is
#     (viewer_token=on, max_viewers), refused with a 403, X-Compliance-
#     Reason and "REASON: text"; admitted, it gets a master playlist whose
#     variant carries the session parameter cs=ID.MAC;
#   - ffmpeg reading the room for over 10 s (many playlist refreshes) is
#     ONE viewer: one play.accept, one session in GET sessions (proto
#     hls), and it ends idle (session.end why idle) once it stops;
#   - a bare segment URL, or a forged parameter, is refused (403
#     session_invalid);
#   - a suspend order refuses the playlist within a second while its file
#     is still on disk; DELETE sessions/ID refuses the viewer's next
#     request within a second;
#   - nginx -t refuses an unknown application or one without hls on.

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use Test::Browser;
use Test::Players;
use File::Path ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

BEGIN { need_x264() }


our @Pids;

players_preprocessor(\&ffmpeg_stop, \@Pids);

# the browser block's page and hls.js (make hls-js), and where its
# screenshots are kept (TEST_HLS_SHOTS=DIR for another)
our $HlsJs = repo_root() . '/build/npm/node_modules/hls.js/dist/hls.min.js';
our $Shots = $ENV{TEST_HLS_SHOTS} || repo_root() . '/build/hls-screenshots';
our $Player = "location /player/ {\n    alias " . repo_root() . "/t/hls/;\n}\n"
              . "location = /player/hls.min.js {\n    alias $HlsJs;\n}\n"
              . "location /console/ {\n    compliance_console;\n}\n";

block_defaults(
    config             => tiers('basic', 'vip viewer_token=on',
                                'single max_viewers=1')
                          . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key',
                                     'compliance_recheck 200ms',
                                     'hls on',
                                     'hls_path $TEST_NGINX_SERVROOT/hls',
                                     'hls_fragment 1s',
                                     'hls_playlist_length 4s'),
    http_server_config => api_location()
                          . "location /hls/ {\n"
                          . "    compliance_hls live idle=3s;\n"
                          . "    root \$TEST_NGINX_SERVROOT;\n}\n"
                          . $Player,
);


# ffmpeg(ARGS...) in the background: its pid; its stderr in FILE

sub ffmpeg_start {
    my ($err, @args) = @_;

    my $pid = spawn_cmd($err, 'ffmpeg', '-hide_banner', '-nostdin',
                        '-loglevel', 'warning', @args);

    push @Pids, $pid;
    return $pid;
}


# a publisher of ROOM (tier TIER) for SECS: H.264 with a keyframe a second

sub ffmpeg_publish {
    my ($room, $tier, $secs) = @_;

    my $tok = token(claims => { room => $room, tier => $tier });
    my $url = 'rtmp://127.0.0.1:' . rtmp_port() . "/live/$room?token=$tok";

    return ffmpeg_start(servroot() . "/tmp/publish.$room.err",
                        '-re', '-f', 'lavfi', '-i',
                        'testsrc=size=160x120:rate=25', '-t', $secs || 60,
                        '-c:v', 'libx264', '-preset', 'ultrafast',
                        '-g', '25', '-f', 'flv', $url);
}


# a player of URL for SECS (the output thrown away)

sub ffmpeg_play {
    my ($url, $secs, $name) = @_;

    return ffmpeg_start(servroot() . "/tmp/play.$name.err", '-i', $url,
                        '-t', $secs, '-f', 'null', '-');
}


# its exit code, once it ended (within SECS), or 'timeout'

sub ffmpeg_wait {
    my ($pid, $secs) = @_;

    my $rc = 'timeout';

    wait_for(sub {
        my $r = waitpid($pid, POSIX::WNOHANG());
        return 0 if $r == 0;
        $rc = $r == $pid ? $? >> 8 : 'lost';
        return 1;
    }, $secs);

    return $rc;
}


sub ffmpeg_stop {
    my ($pid) = @_;

    kill 'TERM', $pid;
    ffmpeg_wait($pid, 5) eq 'timeout' and kill 'KILL', $pid;
    waitpid($pid, 0);
}


sub hls_url {
    my ($path) = @_;
    return 'http://127.0.0.1:' . http_port() . "/hls/$path";
}


sub playlist_file {
    my ($room) = @_;
    return servroot() . "/hls/$room.m3u8";
}


# a room live and its playlist on disk

sub live_room {
    my ($room, $tier) = @_;

    my $pid = ffmpeg_publish($room, $tier);

    ok(wait_for(sub { find_sessions(kind => 'publish', room => $room) }, 20),
       "$room: its publisher is live");
    ok(wait_for(sub { (slurp(playlist_file($room)) // '')
                      =~ /EXT-X-MEDIA-SEQUENCE.*\.ts/s }, 20),
       "$room: nginx-rtmp writes its playlist");

    return $pid;
}


# a segment name of ROOM's playlist on disk

sub segment {
    my ($room) = @_;
    my ($seg) = (slurp(playlist_file($room)) // '') =~ /^(\Q$room\E-\d+\.ts)$/m;
    return $seg;
}


# the admission of a viewer: (status, headers, body, cs)

sub admit {
    my ($room, $token) = @_;

    my $path = "/hls/$room.m3u8" . (defined $token ? "?token=$token" : '');
    my ($st, $h, $body) = http_request('GET', $path);
    my ($cs) = ($body // '') =~ /^\Q$room\E\.m3u8\?cs=(\d+\.[0-9a-f]{32})$/m;

    return ($st, $h, $body, $cs);
}


sub hls_sessions {
    my ($room) = @_;
    return find_sessions(kind => 'play', proto => 'hls', room => $room);
}


# the page of the browser block at URL, the playlist PATH after its "#";
# waits until its state is STATE (within SECS): the page's window.viewer

our $Loads = 0;

sub page {
    my ($http, $path, $state, $secs) = @_;

    $Loads++;
    wd('POST', '/url', { url => "$http/player/player.html?n=$Loads#$path" });

    my $v;
    wait_for(sub {
        $v = js('return window.viewer || null');
        return $v && $v->{state} eq $state
               && ($state ne 'playing' || $v->{time} > 3);
    }, $secs || 30);

    return $v || {};
}


sub shot {
    my ($name) = @_;

    File::Path::make_path($Shots);
    my $png = screenshot("$Shots/$name");
    cmp_ok(length $png, '>', 1000, "the screenshot $Shots/$name");
}


sub browser_test {
    my ($block, $root, $http) = @_;

    unless (-f $HlsJs) {
        SKIP: { Test::More::skip("no hls.js at $HlsJs: make hls-js "
                                 . "installs it from the npm registry", 1) }
        return;
    }

    my $pub = live_room('room6', 'vip');
    my $tok = play_token('room6', sub => 'viewer-browser');

    start_browser($root, '640,520');

    my $support = js('return typeof MediaSource !== "undefined" && '
                     . 'MediaSource.isTypeSupported('
                     . '\'video/mp4; codecs="avc1.42E01E"\')');

    my $v = page($http, "/hls/room6.m3u8?token=$tok", 'playing', 40);
    is($v->{state}, 'playing', 'Chromium plays the gated room with hls.js')
        or diag(JSON::PP->new->encode($v) . ', H.264 in MSE: '
                . ($support ? 'yes' : 'no'));
    cmp_ok($v->{time} || 0, '>', 3, sprintf('for %.1f s of video',
                                             $v->{time} || 0));
    shot('hls-playing.png');

    my @s = hls_sessions('room6');
    is(scalar @s, 1, 'the browser is one HLS viewer');
    is($s[0]{host}, 'viewer-browser', 'with its token\'s sub');

    # the console counts it (another tab: the player keeps playing)
    my $player = wd('GET', '/window');
    wd('POST', '/window/new', { type => 'tab' });
    my ($tab) = grep { $_ ne $player } @{wd('GET', '/window/handles')};
    wd('POST', '/window', { handle => $tab });
    wd('POST', '/url', { url => "$http/console/" });
    my $count = '';
    wait_for(sub {
        $count = js('var c = document.getElementById("sessions-count");'
                    . 'return c ? c.textContent : "";') // '';
        $count =~ /\(hls 1\)/;
    }, 10);
    like($count, qr/^1 \S+ live \S+ 1 \S+ plays \(hls 1\)$/,
         'the console counts the HLS viewer: "... plays (hls 1)"');
    shot('hls-console.png');
    wd('DELETE', '/window');
    wd('POST', '/window', { handle => $player });

    # the refusal of a play without the token
    $v = page($http, '/hls/room6.m3u8', 'refused', 20);
    is($v->{refused}{status}, 403, 'without a token the page shows a 403');
    is($v->{refused}{reason}, 'viewer_token_required',
       'and the reason viewer_token_required');
    like(js('return document.getElementById("state").textContent'),
         qr/^refused: 403 viewer_token_required: tier "vip" of the room needs a play token$/,
         'the page shows the refusal as the server said it');
    shot('hls-refused-token.png');

    # playing again, then a suspend order on the room
    $v = page($http, "/hls/room6.m3u8?token=$tok", 'playing', 40);
    is($v->{state}, 'playing', 'the page plays again');
    order(action => 'suspend', target => 'room:room6',
          reason => 'hls browser test', duration => 600);
    ok(wait_for(sub { (js('return window.viewer.state') // '') eq 'refused' },
                20), 'the playing page shows a refusal after the suspension');
    $v = js('return window.viewer');
    is($v->{refused}{status}, 404, 'the room is not live: 404');
    like($v->{refused}{body}, qr/^room "room6" is not live/,
         'the page says the room is not live');
    shot('hls-suspended.png');

    $v = page($http, "/hls/room6.m3u8?token=$tok", 'refused', 20);
    is($v->{refused}{status}, 404, 'a new load of the suspended room: 404');

    stop_browser();
    ffmpeg_stop($pub);
}


END {
    kill 'KILL', @Pids if @Pids;
}


run_tests();

__DATA__

=== TEST 1: only live rooms are served; viewer_token=on asks a play token (403); ffmpeg reads a gated room for 10 s as ONE viewer through many refreshes; bare and forged segment URLs refused; idle end; proto hls in sessions, metrics and audit
--- post_check eval
sub {
    # a playlist left on disk: no live publisher, a 404
    mkdir servroot() . '/hls';
    spew(playlist_file('room1'), "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
                                 . "room1-0.ts\n");
    my ($st, $h, $body) = http_request('GET', '/hls/room1.m3u8');
    is($st, 404, 'a room that is not live: 404, its stale file on disk');
    like($body, qr/^room "room1" is not live\n\z/, 'the 404 says why');
    ($st) = http_request('GET', '/hls/room1-0.ts');
    is($st, 404, 'and its segment: 404');

    my $pub = live_room('room1', 'vip');
    ok(wait_for(sub { segment('room1') }, 20), 'a segment is on disk');

    # no token
    ($st, $h, $body) = admit('room1');
    token_required('room1', $st, $h, $body);

    # bare and forged segment URLs
    my $seg = segment('room1');
    ($st, $h, $body) = http_request('GET', "/hls/$seg");
    http_refused('a bare segment URL', 'session_invalid',
                qr/no session parameter: a segment is served to an admitted viewer only/,
                $st, $h, $body);
    ($st, $h, $body) = http_request('GET', "/hls/$seg?cs=1." . ('0' x 32));
    http_refused('a forged session parameter', 'session_invalid',
                qr/the session parameter is not valid/, $st, $h, $body);
    ($st, $h, $body) = http_request('GET', "/hls/room1.m3u8?cs=7." . ('a' x 32));
    http_refused('a forged parameter on the playlist', 'session_invalid',
                qr/the session parameter is not valid/, $st, $h, $body);
    ok(wait_log(qr/\[info\] .*compliance: hls request refused \(403\): session_invalid: no session parameter/),
       'a bare segment\'s refusal is in the error log');

    # one admission by hand: the master playlist
    my $tok = play_token('room1', sub => 'viewer-a');
    ($st, $h, $body, my $cs) = admit('room1', $tok);
    is($st, 200, 'a play token: 200');
    like($h->{'content-type'}, qr{^application/vnd\.apple\.mpegurl},
         'a playlist');
    like($h->{'cache-control'}, qr/no-store/, 'not to be cached');
    ok($cs, "a master playlist whose variant carries cs=ID.MAC ($cs)")
        or diag($body);
    ($st, $h, $body) = http_request('GET', "/hls/room1.m3u8?cs=$cs");
    is($st, 200, 'the variant with its parameter: 200');
    like($body, qr/^#EXTM3U/, 'the playlist nginx-rtmp wrote');
    like($body, qr/^room1-\d+\.ts\?cs=\Q$cs\E$/m,
         'its segment URIs carry the parameter');
    my ($sseg) = ($body =~ /^(room1-\d+\.ts\?cs=\S+)$/mg)[-1];
    ($st, $h, $body) = http_request('GET', "/hls/$sseg");
    is($st, 200, 'a segment with the parameter: 200');
    cmp_ok(length $body, '>', 1000, 'MPEG-TS bytes (' . length($body) . ')');
    is(substr($body, 0, 1), 'G', 'an MPEG-TS sync byte');

    ($st) = http_request('GET', "/hls/room1.m3u8?cs=$cs" . 'x');
    is($st, 403, 'the parameter altered: 403');

    my ($hs) = hls_sessions('room1');
    ok($hs, 'the viewer is in GET sessions, proto hls');
    is($hs->{host}, 'viewer-a', 'its viewer id is the token\'s sub');
    is($hs->{tier}, 'vip', 'in the room\'s tier');

    # it asks nothing more: ended idle after idle=3s
    ok(wait_for(sub { !hls_sessions('room1') }, 8),
       'an idle viewer leaves GET sessions');
    ok(wait_for(sub { grep { $_->{why} eq 'idle' } records('session.end') },
                5), 'session.end why idle');
    ($st, $h, $body) = http_request('GET', "/hls/room1.m3u8?cs=$cs");
    http_refused('an ended session\'s parameter', 'session_invalid',
                qr/session \d+ has ended: ask for the room's playlist again/,
                $st, $h, $body);

    # ffmpeg for 15 s of video (it reads the first seconds at once): one viewer
    my $access0 = -s servroot() . '/logs/access.log';
    my $tok2 = play_token('room1', sub => 'viewer-ffmpeg');
    my $t0 = Time::HiRes::time();
    my $play = ffmpeg_play(hls_url("room1.m3u8?token=$tok2"), 15, 'ffmpeg');
    my ($max, $rc, %ids) = (0, 'timeout');
    while (Time::HiRes::time() - $t0 < 30) {
        if (waitpid($play, POSIX::WNOHANG()) == $play) {
            $rc = $? >> 8;
            last;
        }
        my @s = hls_sessions('room1');
        $max = @s if @s > $max;
        $ids{$_->{id}} = 1 for @s;
        Time::HiRes::sleep(0.25);
    }
    my $secs = Time::HiRes::time() - $t0;
    is($rc, 0, 'ffmpeg plays the gated room to its end')
        or diag(slurp(servroot() . '/tmp/play.ffmpeg.err'));
    cmp_ok($secs, '>=', 10, sprintf('for %.1f s', $secs));
    is($max, 1, 'one viewer in GET sessions at any time');
    is(scalar keys %ids, 1, 'and the same session throughout');

    my $access = substr(slurp(servroot() . '/logs/access.log'), $access0);
    my $refreshes = () = $access =~ m{"GET /hls/room1\.m3u8\?cs=\d+\.[0-9a-f]{32} HTTP/1\.1" 200 }g;
    my $segs = () = $access =~ m{"GET /hls/room1-\d+\.ts\?cs=\d+\.[0-9a-f]{32} HTTP/1\.1" 20[06] }g;
    cmp_ok($refreshes, '>=', 5, "$refreshes playlist refreshes");
    cmp_ok($segs, '>=', 8, "$segs segments");
    unlike($access, qr/ 403 /, 'no refusal while it played')
        or diag($access);
    like($access, qr{"GET /hls/room1\.m3u8\?token=x{40}}, 'the token is overwritten in the access log');
    my $part = substr($tok2, 0, 40);
    unlike($access, qr/\Q$part\E/, 'the token is not in the access log');

    my $m = metrics();
    ok(defined $m->{'compliance_live_sessions_proto{proto="hls"}'},
       'metrics: live sessions of proto hls');

    ok(wait_for(sub { grep { $_->{host} eq 'viewer-ffmpeg' }
                           records('session.end') }, 8),
       'ffmpeg\'s session ends once it stopped');
    my ($fend) = grep { $_->{host} eq 'viewer-ffmpeg' } records('session.end');
    cmp_ok($fend->{bytes_out}, '>', 100000,
           "session.end: bytes_out counts its playlists and segments "
           . "($fend->{bytes_out})");

    # the audit
    my @acc = grep { $_->{room} eq 'room1' } records('play.accept');
    is_deeply([map { "$_->{host} $_->{proto}" } @acc],
              ['viewer-a hls', 'viewer-ffmpeg hls'],
              'play.accept: one for each viewer, proto hls');
    my @rej = records('play.reject');
    is_deeply([map { "$_->{reason} $_->{proto}" } @rej],
              ['viewer_token_required hls'], 'play.reject: proto hls');
    my @end = grep { $_->{kind} eq 'play' } records('session.end');
    is_deeply([map { "$_->{host} $_->{proto} $_->{why}" } @end],
              ['viewer-a hls idle', 'viewer-ffmpeg hls idle'],
              'session.end: proto hls, why idle');

    ffmpeg_stop($pub);
}
--- no_error_log
[crit]
[alert]


=== TEST 2: max_viewers=1 counted over HLS viewers and RTMP players on two workers: a second distinct HLS player, and an RTMP player, are refused with viewer_limit while the first plays
--- workers: 2
--- post_check eval
sub {
    my $pub = live_room('room2', 'single');

    my $first = ffmpeg_play(hls_url('room2.m3u8'), 8, 'first');
    ok(wait_for(sub { hls_sessions('room2') == 1 }, 10),
       'the first player is the room\'s viewer');

    my ($st, $h, $body) = admit('room2');
    http_refused('a second viewer', 'viewer_limit',
                qr/tier "single" allows 1 viewers and the room has them/,
                $st, $h, $body);

    my $second = ffmpeg_play(hls_url('room2.m3u8'), 3, 'second');
    my $rc = ffmpeg_wait($second, 15);
    isnt($rc, 0, 'a second ffmpeg fails');
    like(slurp(servroot() . '/tmp/play.second.err') // '', qr/403/,
         'it was told 403');

    my ($prc, $pout) = refused('play', 'live/room2');
    is($prc, 1, 'an RTMP player of the room is refused');
    like($pout, qr/NetStream\.Play\.Rejected viewer_limit: tier "single" allows 1 viewers/,
         'with viewer_limit: the HLS viewer is counted');

    is(ffmpeg_wait($first, 20), 0, 'the first plays to its end');

    my @rej = records('play.reject');
    is_deeply([map { "$_->{reason} $_->{proto}" } @rej],
              ['viewer_limit hls', 'viewer_limit hls', 'viewer_limit rtmp'],
              'play.reject: viewer_limit, proto hls, then rtmp');

    ffmpeg_stop($pub);
}
--- no_error_log
[crit]


=== TEST 3: a suspend order refuses the playlist within a second while its file is on disk; DELETE sessions/ID refuses the viewer's next request within a second (two workers)
--- workers: 2
--- post_check eval
sub {
    my $pub = live_room('room3', 'basic');

    # DELETE sessions/ID
    my ($st, $h, $body, $cs) = admit('room3');
    ok($cs, 'a viewer admitted');
    my ($id) = $cs =~ /^(\d+)\./;
    ($st) = http_request('GET', "/hls/room3.m3u8?cs=$cs");
    is($st, 200, 'its playlist');
    my ($dst) = api('DELETE', "sessions/$id");
    is($dst, 202, 'DELETE sessions/ID');
    my $t0 = Time::HiRes::time();
    ok(wait_for(sub {
        ($st) = http_request('GET', "/hls/room3.m3u8?cs=$cs");
        $st == 403;
    }, 1), 'its next request is refused within a second');
    ok(wait_for(sub { grep { $_->{why} eq 'operator_drop' && $_->{proto} eq 'hls' }
                           records('session.end') }, 5),
       'session.end why operator_drop, proto hls');

    # a viewer playing, then a suspend order on the room
    my $play = ffmpeg_play(hls_url('room3.m3u8'), 20, 'suspend');
    ok(wait_for(sub { hls_sessions('room3') == 1 }, 10), 'ffmpeg plays');
    ($st, $h, $body, $cs) = admit('room3');
    ok($cs, 'and a second viewer is admitted');

    order(action => 'suspend', target => 'room:room3',
          reason => 'hls test', duration => 600);
    $t0 = Time::HiRes::time();
    ok(wait_for(sub {
        ($st) = http_request('GET', "/hls/room3.m3u8?cs=$cs");
        $st != 200;
    }, 1), 'the playlist is refused within a second');
    my $took = Time::HiRes::time() - $t0;
    ok(-s playlist_file('room3'), sprintf('while its file is on disk '
                                          . '(refused after %.2f s)', $took));
    ($st, $h, $body) = http_request('GET', '/hls/room3.m3u8');
    is($st, 404, 'a new viewer: 404, the room is not live');

    isnt(ffmpeg_wait($play, 20), 'timeout', 'ffmpeg stops');
    ok(wait_for(sub { !hls_sessions('room3') }, 5),
       'no HLS viewer is left');
    my @end = grep { $_->{kind} eq 'play' } records('session.end');
    is_deeply([sort map { "$_->{proto} $_->{why}" } @end],
              ['hls operator_drop', 'hls suspended', 'hls suspended'],
              'session.end of the viewers: suspended with their room');

    ffmpeg_stop($pub);
}
--- no_error_log
[crit]


=== TEST 4: a real browser: headless Chromium plays a gated room with hls.js (screenshot build/hls-screenshots/hls-playing.png); the same page shows the refusal without a token and for the suspended room
--- post_check eval
in_browser(\&browser_test)
--- no_error_log
[crit]


=== TEST 5: nginx -t refuses compliance_hls of an unknown application
--- http_server_config
location /hls/ {
    compliance_hls nope;
}
--- must_die
--- error_log
"compliance_hls nope" in


=== TEST 6: nginx -t refuses compliance_hls of an application without hls on
--- config eval
tiers('basic') . live_app()
--- http_server_config
location /hls/ {
    compliance_hls live;
}
--- must_die
--- error_log
the application has no "hls on"
