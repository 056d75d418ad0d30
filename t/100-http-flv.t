# HTTP-FLV players of nginx-http-flv-module (issue 12), against the fork
# built by make flv (make test-flv; the file skips itself with Debian's
# nginx-rtmp-module): the viewer token of a viewer_token=on room asked
# and a token of over 1,000 characters taken from the query string;
# max_viewers counted over RTMP and HTTP-FLV players on two workers;
# refusals as HTTP 403 with X-Compliance-Reason and "REASON: text"; an
# order that closes the room's HTTP-FLV players within a second and the
# refusal of the next one; a publisher dropped by the API or by its tier's
# limit takes its HTTP-FLV players with it; DELETE sessions/ID drops one
# HTTP-FLV player; proto in GET sessions and in the audit records; the
# token in neither log; the fork's gop_cache and rtmp_stat with the module
# loaded.
#
# The HTTP-FLV player here is a small client (flv_viewer) that sends
# GET /live?port=P&app=live&stream=ROOM&token=... as flv.js does (HTTP/1.1,
# chunked FLV) and records how its stream ended; ffmpeg reads one too.

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use Test::Players;
use IO::Socket::INET ();
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

BEGIN {
    my $mods = $ENV{TEST_NGINX_LOAD_MODULES} || '';

    unless ($mods =~ /ngx_http_flv_live_module\.so/ || $ENV{TEST_NGINX_FLV})
    {
        require Test::More;
        Test::More::plan(skip_all => 'needs nginx-http-flv-module: make '
                         . 'test-flv (TEST_NGINX_LOAD_MODULES with '
                         . 'ngx_http_flv_live_module.so, or TEST_NGINX_FLV=1 '
                         . 'for a static nginx with the fork)');
    }
}


# each block has an audit log of its own: audit1, audit2, ...
# (Test::Players)

our @Viewers;

# the last block's players are gone with its nginx
players_preprocessor(\&flv_stop, \@Viewers);

block_defaults(
    config             => tiers('basic', 'vip viewer_token=on',
                                'capped max_viewers=3',
                                'short max_duration=2s')
                          . live_app(),
    http_server_config => api_location()
                          . "location /live {\n    flv_live on;\n}\n",
);


# the first record of EVENT as the writer wrote it

sub audit_line {
    my ($event) = @_;

    for my $f (sort glob servroot() . '/' . audit_dir() . '/*.jsonl') {
        for my $line (split /\n/, slurp($f)) {
            return $line if index($line, "\"event\":\"$event\"") >= 0;
        }
    }

    return '';
}


# build/compliance-audit ARGS: (exit code, output)

sub run_audit {
    my @cmd = (repo_root() . '/build/compliance-audit', @_);
    my $out = `@{[ map { "'$_'" } @cmd ]} 2>&1`;
    return ($? >> 8, $out);
}


# the fork's HTTP-FLV URL path of ROOM, with TOKEN, of APP (live)

sub flv_path {
    my ($room, $token, $app) = @_;

    my $path = '/live?port=' . rtmp_port() . '&app=' . ($app // 'live')
               . "&stream=$room";
    $path .= "&token=$token" if defined $token;

    return $path;
}


# a refused (or any short) HTTP-FLV play: (status, {headers}, body)

sub flv_once {
    my ($room, $token) = @_;
    return http_request('GET', flv_path($room, $token));
}


# flv_viewer(ROOM, token => JWT, secs => N): a background HTTP-FLV player
# that reads the stream for N s (20) and records its status, headers,
# bytes, whether the body is FLV, and how and when it ended: "eof" (the
# server closed it), "timeout" (it stayed), "stopped" (flv_stop)

my $ViewerSeq = 0;

sub flv_viewer {
    my ($room, %o) = @_;

    my $secs = ($o{secs} || 20) * $Test::Compliance::Slow;
    my $path = flv_path($room, $o{token});
    my $file = servroot() . "/tmp/flv-viewer.$$." . ++$ViewerSeq;

    unlink $file;

    my $pid = fork;
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        my $r = eval { flv_read($path, $secs) } || { how => "died: $@" };
        spew("$file.tmp", JSON::PP->new->canonical->encode($r));
        rename "$file.tmp", $file;
        POSIX::_exit(0);
    }

    my $v = { pid => $pid, file => $file, room => $room };
    push @Viewers, $v;

    return $v;
}


sub flv_read {
    my ($path, $secs) = @_;

    my $stop = 0;
    local $SIG{TERM} = sub { $stop = 1 };

    my $start = Time::HiRes::time();
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => http_port(),
                                     Proto    => 'tcp',
                                     Timeout  => 5)
        or return { how => "connect: $!" };

    binmode $sock;
    syswrite $sock, "GET $path HTTP/1.1\r\nHost: localhost\r\n"
                    . "User-Agent: t/100-http-flv\r\n\r\n";

    my ($buf, $head, $status, $first, %h) = ('', undef, undef, '');
    my $bytes = 0;
    my $how = 'timeout';
    my $deadline = $start + $secs;

    while (!$stop) {
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0;

        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        my $n = select(my $rout = $rin, undef, undef,
                       $left < 0.1 ? $left : 0.1);
        next unless $n && $n > 0;

        my $got = sysread($sock, my $data, 65536);

        unless ($got) {
            next if !defined $got && $!{EINTR};
            $how = defined $got ? 'eof' : "error: $!";
            last;
        }

        unless (defined $head) {
            $buf .= $data;
            my $i = index($buf, "\r\n\r\n");
            next if $i < 0;

            $head = substr($buf, 0, $i);
            $data = substr($buf, $i + 4);
            ($status) = $head =~ m{^HTTP/1\.\d (\d{3})};

            for my $line (split /\r\n/, $head) {
                $h{lc $1} = $2 if $line =~ /^([^:]+):\s*(.*)$/;
            }
        }

        $bytes += length $data;
        $first .= substr($data, 0, 600 - length $first) if length $first < 600;
    }

    $how = 'stopped' if $stop;
    close $sock;

    return { status => $status, headers => \%h, bytes => $bytes,
             flv => ($first =~ /FLV\x01/ ? 1 : 0),
             body => ($status && $status ne '200' ? $first : ''),
             how => $how, start => $start,
             end => Time::HiRes::time() };
}


# flv_tags(APP, ROOM, TOKEN, SECS): what an HTTP-FLV play of APP/ROOM
# reads in SECS: its status, when it started (start) and the FLV tags
# whole in its body, each { type => 8|9|18, ts => ms, b0 => its first
# data byte, b1 => its second, at => s from the start to its arrival }

sub flv_tags {
    my ($app, $room, $token, $secs) = @_;

    my $start = Time::HiRes::time();
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => http_port(),
                                     Proto    => 'tcp',
                                     Timeout  => 5)
        or return { status => "connect: $!", tags => [] };

    binmode $sock;
    syswrite $sock, 'GET ' . flv_path($room, $token, $app) . " HTTP/1.1\r\n"
                    . "Host: localhost\r\nUser-Agent: t/100-http-flv\r\n\r\n";

    my ($raw, $r) = ('', { tags => [] });
    my @tags;
    my $deadline = $start + $secs * $Test::Compliance::Slow;

    while ((my $left = $deadline - Time::HiRes::time()) > 0) {
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        next unless select(my $rout = $rin, undef, undef, $left);
        last unless sysread($sock, my $data, 65536);

        $raw .= $data;
        $r = flv_parse($raw);
        my $at = Time::HiRes::time() - $start;
        my @new = @{$r->{tags}}[@tags .. $#{$r->{tags}}];
        push @tags, map { { %$_, at => $at } } @new;
    }

    close $sock;

    return { %$r, start => $start, tags => \@tags };
}


# the HTTP answer RAW: its status, whether its body is FLV and the tags
# whole in it (the body chunked or not)

sub flv_parse {
    my ($raw) = @_;

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.\d (\d{3})};
    $body //= '';

    if (($head // '') =~ /^Transfer-Encoding:\s*chunked\r?$/mi) {
        my $flat = '';
        while ($body =~ s/\A([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0 || length $body < $n;
            $flat .= substr($body, 0, $n, '');
            $body =~ s/\A\r\n//;
        }
        $body = $flat;
    }

    my @tags;
    my $pos = 13;               # the FLV header and PreviousTagSize0

    while ($pos + 11 <= length $body) {
        my ($type, $size, $ts, $tsx) =
            unpack('C a3 a3 C', substr($body, $pos, 8));
        $size = unpack('N', "\0$size");
        last if $pos + 11 + $size > length $body;
        my $data = substr($body, $pos + 11, $size);
        push @tags, { type => $type, ts => unpack('N', "\0$ts") + ($tsx << 24),
                      b0 => ord($data), b1 => ord(substr($data, 1, 1)) };
        $pos += 11 + $size + 4;
    }

    return { status => $status, flv => substr($body, 0, 3) eq 'FLV',
             tags => \@tags };
}


# the first video frame in TAGS that is not a sequence header

sub first_frame {
    my ($tags) = @_;
    my ($v) = grep { $_->{type} == 9 && $_->{b1} != 0 } @$tags;
    return $v;
}


# the player's record once it has ended (SECS at most); undef if not

sub flv_wait {
    my ($v, $secs) = @_;

    return $v->{r} if $v->{r};
    return undef unless wait_for(sub { -e $v->{file} }, $secs || 25);

    waitpid($v->{pid}, 0);
    $v->{r} = JSON::PP::decode_json(slurp($v->{file}));

    return $v->{r};
}


sub flv_done {
    my ($v) = @_;
    return $v->{r} || -e $v->{file};
}


sub flv_stop {
    my ($v) = @_;

    kill 'TERM', $v->{pid} unless flv_done($v);

    return flv_wait($v, 10);
}


# the viewers of the (one) publisher in GET sessions, -1 without one

sub viewers {
    my ($p) = find_sessions(kind => 'publish');
    return $p ? $p->{viewers} : -1;
}


# the HTTP-FLV players of ROOM in GET sessions

sub flv_sessions {
    my ($room) = @_;
    return find_sessions(kind => 'play', proto => 'http-flv', room => $room);
}


# a 403 of the gate: its status, header and body say REASON, the body
# matches DETAIL (a qr//)

sub refused_403 {
    my ($what, $reason, $detail, $status, $h, $body) = @_;

    http_refused($what, $reason, $detail, $status, $h, $body);
    unlike($body, qr/FLV/, "$what: no stream");
}


END {
    # players still running when the file dies
    kill 'KILL', map { $_->{pid} } grep { !flv_done($_) } @Viewers;
}


run_tests();

__DATA__

=== TEST 1: viewer_token=on: an HTTP-FLV play needs a play token; one of over 1,000 characters from the query string is taken; proto in sessions and audit; the token in no log
--- post_check eval
sub {
    my $pub = publisher('room1', tier => 'vip');
    ok(wait_output($pub, 'NetStream.Publish.Start'), 'the vip room is live');

    # no token
    my ($st, $h, $body) = flv_once('room1');
    token_required('room1', $st, $h, $body);
    unlike($body, qr/FLV/, 'no token: no stream');

    # a token for another room, and a publish token
    my $other = play_token('room2');
    ($st, $h, $body) = flv_once('room1', $other);
    refused_403('another room\'s token', 'room_mismatch',
                qr/token is for another room/, $st, $h, $body);
    ok(wait_log(qr/\[error\] .*compliance: play rejected: room_mismatch: token is for another room, app: "live", room: "room1"/),
       'room_mismatch is logged at [error]');

    my $ptok = token(claims => { room => 'room1', tier => 'vip' });
    ($st, $h, $body) = flv_once('room1', $ptok);
    refused_403('a publish token', 'token_scope', qr/.+/, $st, $h, $body);
    ok(wait_log(qr/\[error\] .*compliance: play rejected: token_scope: .*room: "room1"/),
       'token_scope is logged');

    # a valid token of over 1,000 characters
    my $long = play_token('room1', sub => 'viewer-long', pad => 'p' x 1000);
    cmp_ok(length $long, '>', 1000,
           'the play token has ' . length($long) . ' characters');

    my $v = flv_viewer('room1', token => $long, secs => 3);
    ok(wait_for(sub { flv_sessions('room1') == 1 }),
       'the HTTP-FLV player is in GET sessions');
    my ($s) = flv_sessions('room1');
    is($s->{proto}, 'http-flv', 'proto: http-flv');
    is($s->{host}, 'viewer-long', 'its viewer id is the long token\'s sub');
    is($s->{tier}, 'vip', 'in the room\'s tier');
    my ($p) = find_sessions(kind => 'publish', room => 'room1');
    is($p->{proto}, 'rtmp', 'the publisher: proto rtmp');
    is($p->{viewers}, 1, 'the publisher has 1 viewer');

    my $r = flv_wait($v, 10);
    is($r->{status}, 200, 'the HTTP-FLV play gets 200');
    like($r->{headers}{'content-type'}, qr{^video/x-flv}, 'video/x-flv');
    ok($r->{flv}, 'the body is an FLV stream');
    cmp_ok($r->{bytes}, '>', 5000, "and media flows ($r->{bytes} bytes)");
    is($r->{how}, 'timeout', 'it stayed for its 3 s');
    ok(wait_for(sub { !flv_sessions('room1') }, 5),
       'it leaves GET sessions when it goes');

    # ffmpeg as the HTTP-FLV player
    my $url = 'http://127.0.0.1:' . http_port() . flv_path('room1', $long);
    my @cmd = ('ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error',
               '-i', $url, '-t', '1', '-f', 'null', '-');
    my $out = `@{[ map { "'$_'" } @cmd ]} 2>&1`;
    is($? >> 8, 0, 'ffmpeg reads the HTTP-FLV stream with the long token')
        or diag($out);

    stop_client($pub);
    wait_client($pub, 10);

    # the audit log
    ok(wait_for(sub { grep { $_->{event} eq 'session.end'
                             && $_->{kind} eq 'publish' } records() }),
       'the publisher\'s session.end is written');
    my @acc = grep { $_->{room} eq 'room1' } records('play.accept');
    is(scalar @acc, 2, 'two play.accept (the player, ffmpeg)');
    is_deeply([map { $_->{proto} } @acc], ['http-flv', 'http-flv'],
              'play.accept: proto http-flv');
    is($acc[0]{host}, 'viewer-long', 'play.accept: the viewer');
    is($acc[0]{token}, 'sha256:' . hash12($long),
       'play.accept: the token\'s hash');
    my @rej = records('play.reject');
    is_deeply([map { "$_->{reason} $_->{proto}" } @rej],
              ['viewer_token_required http-flv', 'room_mismatch http-flv',
               'token_scope http-flv'],
              'play.reject: the three refusals, proto http-flv');
    my @end = grep { $_->{kind} eq 'play' } records('session.end');
    is_deeply([map { "$_->{proto} $_->{why}" } @end],
              ['http-flv closed', 'http-flv closed'],
              'session.end of both: proto http-flv, closed');
    cmp_ok($end[0]{bytes_out}, '>', 5000, 'session.end: bytes_out');
    my ($pa) = records('publish.accept');
    is($pa->{proto}, 'rtmp', 'publish.accept: proto rtmp');

    like(audit_line('play.accept'),
         qr/,"addr":"127\.0\.0\.1","proto":"http-flv","prev":"/,
         'play.accept: proto is its last field, after addr');
    like(audit_line('session.end'),
         qr/,"addr":"127\.0\.0\.1","proto":"http-flv","duration_ms":/,
         'session.end: proto after addr');

    my ($rc, $vout) = run_audit('verify', servroot() . '/' . audit_dir());
    is($rc, 0, 'compliance-audit verify passes') or diag($vout);

    # the credential
    my $log = error_log_text();
    my $access = slurp(servroot() . '/logs/access.log');
    for my $t ([$long, 'long play'], [$other, 'other room'],
               [$ptok, 'publish'])
    {
        my $part = substr($t->[0], 0, 40);
        unlike($log, qr/\Q$part\E/, "the $t->[1] token is not in the error log");
        unlike($access, qr/\Q$part\E/,
               "the $t->[1] token is not in the access log");
    }
    like($log, qr/flv live: name='room1' args='[^']*token=x{40}/,
         'the fork\'s own log line shows the token overwritten');
    like($access, qr/"GET \/live\?[^"]*token=x{40}[^"]* HTTP\/1\.1" 200 /,
         'the access log has the play, token overwritten');
    like($access, qr/"GET \/live\?[^"]*stream=room1 HTTP\/1\.0" 403 /,
         'and the 403');
}
--- no_error_log
[crit]


=== TEST 2: max_viewers is counted over RTMP and HTTP-FLV players on two workers; one more of either is refused, HTTP-FLV with a 403
--- workers: 2
--- post_check eval
sub {
    my $pub = publisher('room1', tier => 'capped');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 1 }),
       'the capped room (max_viewers=3) is live');

    my $r1 = player('room1');
    my $f1 = flv_viewer('room1');
    my $f2 = flv_viewer('room1');
    ok(wait_for(sub { find_sessions(kind => 'play', room => 'room1') == 3 }),
       'three players: one RTMP, two HTTP-FLV');
    is(scalar(flv_sessions('room1')), 2, 'two of them proto http-flv');
    is(scalar(find_sessions(kind => 'play', proto => 'rtmp')), 1,
       'one proto rtmp');
    is(viewers(), 3, 'the publisher has 3 viewers');
    my $m = metrics();
    is($m->{'compliance_live_sessions_proto{proto="http-flv"}'}, 2,
       'metrics: 2 live sessions proto http-flv');
    is($m->{'compliance_live_sessions_proto{proto="rtmp"}'}, 2,
       'metrics: 2 proto rtmp (the publisher, the RTMP player)');
    is($m->{'compliance_live_sessions{kind="play"}'}, 3, 'metrics: 3 plays');

    # the fourth: HTTP-FLV or RTMP, on whichever worker
    for my $i (1 .. 3) {
        my ($st, $h, $body) = flv_once('room1');
        refused_403("HTTP-FLV player $i over the limit", 'viewer_limit',
                    qr/tier "capped" allows 3 viewers and the room has them/,
                    $st, $h, $body);
    }
    my ($rc, $out) = refused('play', 'live/room1');
    is($rc, 1, 'an RTMP player over the limit is refused');
    like($out, qr/^status: error NetStream\.Play\.Rejected viewer_limit: tier "capped" allows 3 viewers and the room has them$/m,
         'with viewer_limit');
    my @logged = error_log_text()
        =~ /\] (\d+)#\d+: \*\d+ compliance: play rejected: viewer_limit: tier "capped" allows 3 viewers and the room has them, app: "live", room: "room1"/g;
    is(scalar @logged, 4, 'the four refusals are logged at [error]');
    Test::More::note('refused on workers ' . join ' ', sort keys
                     %{{ map { $_ => 1 } @logged }});
    my %w = map { $_->{worker} => 1 } find_sessions(kind => 'play');
    Test::More::note('players on workers ' . join ' ', sort keys %w);

    ok(!flv_done($f1) && !flv_done($f2) && !client_done($r1),
       'no admitted player was dropped');

    # an HTTP-FLV player leaves: its place is free for an RTMP one
    flv_stop($f1);
    ok(wait_for(sub { viewers() == 2 }, 5),
       'an HTTP-FLV player leaves: 2 viewers');
    my $r2 = player('room1');
    ok(wait_output($r2, 'status: status NetStream.Play.Start'),
       'an RTMP player takes its place');
    ($rc, $out) = refused('play', 'live/room1');
    like($out, qr/viewer_limit/, 'and the next RTMP one is refused again');

    # an RTMP player leaves: its place is free for an HTTP-FLV one
    stop_client($r1);
    ok(wait_for(sub { viewers() == 2 }, 5),
       'the RTMP player leaves: 2 viewers');
    my $f3 = flv_viewer('room1');
    ok(wait_for(sub { flv_sessions('room1') == 2 }),
       'an HTTP-FLV player takes its place');
    my ($st) = flv_once('room1');
    is($st, 403, 'and the next HTTP-FLV one is refused again');

    flv_stop($_) for $f2, $f3;
    stop_client($_) for $pub, $r2;
    ok(wait_for(sub { !@{sessions()} }, 5), 'all sessions end');
    $m = metrics();
    is($m->{'compliance_live_sessions_proto{proto="http-flv"}'}, 0,
       'metrics: no live session proto http-flv left');
    is($m->{'compliance_live_sessions_proto{proto="rtmp"}'}, 0,
       'nor rtmp');

    my @rej = records('play.reject');
    is(scalar(grep { $_->{reason} eq 'viewer_limit' } @rej), 6,
       'six play.reject viewer_limit');
    is(scalar(grep { $_->{proto} eq 'http-flv' } @rej), 4,
       'four of them proto http-flv');
}
--- no_error_log
dropped


=== TEST 3: an order on the room closes its HTTP-FLV players within a second, on both workers; the next one is refused with suspended
--- workers: 2
--- post_check eval
sub {
    my $pub = publisher('room1');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 1 }),
       'the room is live');

    # players until both workers have some (the one without the
    # publisher has no stream for them: they wait, admitted, unanswered)
    my (@f, %w);
    while (@f < 12 && (@f < 4 || keys %w < 2)) {
        push @f, flv_viewer('room1');
        my $n = @f;
        wait_for(sub { flv_sessions('room1') == $n });
        %w = map { $_->{worker} => 1 } flv_sessions('room1');
    }
    my $n = @f;
    is(scalar(flv_sessions('room1')), $n, "$n HTTP-FLV players of room1");
    is(scalar(keys %w), 2, 'on both workers');
    my ($p) = find_sessions(kind => 'publish', room => 'room1');
    my $with = grep { $_->{worker} == $p->{worker} } flv_sessions('room1');

    my $other = flv_viewer('room2');
    my $pub2 = publisher('room2', sub => 'h2', pid => 'p2');
    ok(wait_for(sub { flv_sessions('room2') == 1 }),
       'and one of room2');

    my $t0 = Time::HiRes::time();
    my $o = order(target => 'room:room1', action => 'suspend',
                  duration => 600, reason => 'under review', ref => 'C-12');

    for my $v (@f) {
        my $r = flv_wait($v, 10);
        is($r->{how}, 'eof', 'an HTTP-FLV player of room1 is closed');
        my $after = $r->{end} - $t0;
        ok($after < 1 * $Test::Compliance::Slow,
           sprintf('within a second of the order (%.3f s)', $after));
    }
    is(scalar(grep { ($_->{r}{status} // '') eq '200' } @f), $with,
       "the $with on the publisher's worker had been playing");
    ok(!grep({ defined $_->{r}{status} && $_->{r}{status} ne '200' } @f),
       'no other answer');
    ok(!flv_done($other), 'the player of room2 stays');
    my @drops = error_log_text()
        =~ /compliance: session \d+ dropped: suspended, room: "room1", order $o->{id}: under review \(ref C-12\)/g;
    is(scalar @drops, $n + 1, 'the publisher\'s and the players\' drops '
                              . 'are logged');
    ok(wait_for(sub { !find_sessions(room => 'room1') }, 5),
       'room1 has no session left');

    my ($st, $h, $body) = flv_once('room1');
    refused_403('a new HTTP-FLV player after the order', 'suspended',
                qr/suspended until $o->{until}, order $o->{id}: under review \(ref C-12\)/,
                $st, $h, $body);
    ok(wait_log(qr/\[error\] .*compliance: play rejected: suspended: suspended until $o->{until}, order $o->{id}: under review \(ref C-12\), app: "live", room: "room1"/),
       'its refusal is logged');

    my @end = grep { $_->{kind} eq 'play' && $_->{room} eq 'room1' }
              records('session.end');
    is(scalar @end, $n, "$n session.end of players");
    is(scalar(grep { $_->{why} eq 'suspended' && $_->{proto} eq 'http-flv' }
              @end), $n, 'each why suspended, proto http-flv');
    my ($rej) = grep { $_->{room} eq 'room1' } records('play.reject');
    is("$rej->{reason} $rej->{proto}", 'suspended http-flv',
       'play.reject: suspended, proto http-flv');

    flv_stop($other);
    stop_client($_) for $pub, $pub2;
}


=== TEST 4: DELETE sessions/ID drops one HTTP-FLV player; the other stays
--- post_check eval
sub {
    my $pub = publisher('room1');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 1 }),
       'the room is live');

    my $a = flv_viewer('room1');
    ok(wait_for(sub { flv_sessions('room1') == 1 }), 'one HTTP-FLV player');
    my ($sa) = flv_sessions('room1');
    my $b = flv_viewer('room1');
    ok(wait_for(sub { flv_sessions('room1') == 2 }), 'two');

    my $t0 = Time::HiRes::time();
    my ($status, $json) = api('DELETE', "sessions/$sa->{id}");
    is($status, 202, 'DELETE sessions/ID: 202');
    is($json->{proto}, 'http-flv', 'the answer names it proto http-flv');

    my $r = flv_wait($a, 10);
    is($r->{how}, 'eof', 'the HTTP-FLV player is closed');
    my $after = $r->{end} - $t0;
    ok($after < 1 * $Test::Compliance::Slow,
       sprintf('within a second (%.3f s)', $after));
    ok(wait_log(qr/\[notice\] .*compliance: session $sa->{id} dropped: operator_drop, room: "room1", dropped through the control API/),
       'the drop is logged');
    ok(wait_for(sub { flv_sessions('room1') == 1 }, 5),
       'one HTTP-FLV player left in GET sessions');
    ok(!flv_done($b), 'the other player stays');
    ok(!client_done($pub), 'and so does the publisher');

    my ($end) = grep { $_->{session} == $sa->{id} } records('session.end');
    is("$end->{why} $end->{proto}", 'operator_drop http-flv',
       'session.end: why operator_drop, proto http-flv');

    Time::HiRes::sleep(0.5);
    my $rb = flv_stop($b);
    is($rb->{how}, 'stopped', 'the other ran until it was stopped');
    ok($rb->{end} - $r->{end} >= 0.5, 'after the dropped one by '
       . sprintf('%.3f s', $rb->{end} - $r->{end}));
    is($rb->{status}, 200, 'it had 200');
    ok($rb->{flv}, 'and an FLV stream');
    stop_client($pub);
}


=== TEST 5: a publisher dropped by the API or by its tier's limit takes the room's HTTP-FLV players with it; its RTMP player is told the stream stopped, as before
--- post_check eval
sub {
    # through the API
    my $pub = publisher('room1');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 1 }),
       'room1 is live');
    my @f = map { flv_viewer('room1') } 1 .. 2;
    my $rtmp = player('room1');
    ok(wait_for(sub { flv_sessions('room1') == 2 }),
       'two HTTP-FLV players and an RTMP one');
    ok(wait_output($rtmp, 'status: status NetStream.Play.Start'),
       'the RTMP player plays');
    my ($p) = find_sessions(kind => 'publish');

    my $t0 = Time::HiRes::time();
    my ($status) = api('DELETE', "sessions/$p->{id}");
    is($status, 202, 'the publisher is dropped through the API');

    for my $v (@f) {
        my $r = flv_wait($v, 10);
        is($r->{how}, 'eof', 'an HTTP-FLV player is closed with it');
        ok($r->{end} - $t0 < 1 * $Test::Compliance::Slow,
           sprintf('within a second (%.3f s)', $r->{end} - $t0));
    }
    my @drops = error_log_text()
        =~ /compliance: session \d+ dropped: operator_drop, room: "room1"/g;
    is(scalar @drops, 3, 'the publisher\'s and the players\' drops are '
                         . 'logged');
    ok(!client_done($rtmp), 'the RTMP player is not dropped');
    ok(wait_for(sub { find_sessions(kind => 'play', proto => 'rtmp') == 1
                      && !flv_sessions('room1') }, 5),
       'only the RTMP player is left in GET sessions');
    stop_client($rtmp);

    # by max_duration=2s
    my $short = publisher('room2', sub => 'h2', pid => 'p2', tier => 'short',
                          duration => 10000);
    ok(wait_output($short, 'NetStream.Publish.Start'), 'room2 is live');
    my $g = flv_viewer('room2');
    ok(wait_for(sub { flv_sessions('room2') == 1 }), 'an HTTP-FLV player');

    ok(wait_output($short, qr/duration_limit/, 6),
       'the publisher is dropped with duration_limit');
    my $t1 = Time::HiRes::time();
    my $r = flv_wait($g, 10);
    is($r->{how}, 'eof', 'its HTTP-FLV player is closed with it');
    ok($r->{end} - $t1 < 1 * $Test::Compliance::Slow,
       sprintf('within a second (%.3f s)', $r->{end} - $t1));
    ok(wait_log(qr/compliance: session \d+ dropped: duration_limit, room: "room2", the room's publisher was dropped/),
       'its drop is logged: the room\'s publisher was dropped');

    my @end = grep { $_->{kind} eq 'play' && $_->{proto} eq 'http-flv' }
              records('session.end');
    is_deeply([sort map { $_->{why} } @end],
              ['duration_limit', 'operator_drop', 'operator_drop'],
              'session.end of the HTTP-FLV players: why their publisher '
              . 'went');
    stop_client($pub);
}


=== TEST 6: where compliance is off the fork serves HTTP-FLV players as before: no token asked, not registered
--- config eval
tiers('vip viewer_token=on')
. "application open {\n    live on;\n}\n"
. live_app()
--- post_check eval
sub {
    my $pub = start_client('publish', 'open/room1', '--duration', 20000);
    ok(wait_output($pub, 'NetStream.Publish.Start'),
       'a publish where compliance is off');

    my $file = servroot() . "/tmp/open.flv";
    my $url = 'http://127.0.0.1:' . http_port() . '/live?port='
              . rtmp_port() . '&app=open&stream=room1';
    my $code = `curl -s -o '$file' -w '%{http_code}' --max-time 2 '$url'`;
    is($code, '200', 'an HTTP-FLV play without a token: 200');
    like(slurp($file), qr/^FLV\x01/, 'an FLV stream');
    is(scalar(@{sessions()}), 0, 'no session registered');
    stop_client($pub);
}
--- no_error_log
compliance: play rejected


=== TEST 7: a token over 4 KB in the query string is refused with token_malformed
--- post_check eval
sub {
    my $pub = publisher('room1', tier => 'vip');
    ok(wait_output($pub, 'NetStream.Publish.Start'), 'the vip room is live');

    my $big = play_token('room1', pad => 'p' x 4200);
    cmp_ok(length $big, '>', 4096, 'a token of ' . length($big)
                                   . ' characters');
    my ($st, $h, $body) = flv_once('room1', $big);
    refused_403('the oversize token', 'token_malformed', qr/.+/,
                $st, $h, $body);
    ok(wait_log(qr/compliance: play rejected: token_malformed: .*room: "room1"/),
       'logged');
    unlike(error_log_text(), qr/\Q@{[substr($big, 0, 40)]}\E/,
           'the token is not in the error log');
    stop_client($pub);
}


=== TEST 8: the fork's gop_cache and rtmp_stat with the module loaded: a late HTTP-FLV player of a gop_cache room starts at once on its key frame (of a room without it, at the next GOP's); the fork's stat lists the admitted HTTP-FLV player and not the refused one
--- config eval
tiers('basic', 'vip viewer_token=on')
. live_app('compliance_key $TEST_NGINX_KEYS/hs256.key',
           'compliance_recheck 200ms', 'gop_cache on')
. "application nocache {\n    live on;\n    compliance on;\n"
. "    compliance_key \$TEST_NGINX_KEYS/hs256.key;\n}\n"
--- http_server_config eval
api_location()
. "location /live {\n    flv_live on;\n}\n"
. "location /stat {\n    rtmp_stat all;\n    rtmp_stat_format json;\n}\n"
--- post_check eval
sub {
    my $pub = publisher('room1', tier => 'vip');
    my $pub2 = publisher('nocache/room2', sub => 'h2', pid => 'p2');
    ok(wait_output($pub, 'NetStream.Publish.Start'),
       'room1 is live (gop_cache on)');
    ok(wait_output($pub2, 'NetStream.Publish.Start'),
       'room2 is live (an application without gop_cache)');

    # late: the publishers have sent more than a GOP (25 frames, 1 s)
    Time::HiRes::sleep(1.5);

    my $tok = play_token('room1');
    for my $i (1 .. 3) {
        my $r = flv_tags('live', 'room1', $tok, 0.3);
        is($r->{status}, 200, "late player $i of room1: 200");
        ok($r->{flv}, 'an FLV stream');
        my $f = first_frame($r->{tags});
        ok($f, 'a video frame within 0.3 s') or next;
        is(sprintf('%#x', $f->{b0}), '0x17',
           'the first video frame is an AVC key frame (the GOP cache\'s)');
        ok($f->{at} < 0.2 * $Test::Compliance::Slow,
           sprintf('at once: %.3f s after the request', $f->{at}));
        Time::HiRes::sleep(0.2 + 0.1 * $i);
    }

    # the control: without gop_cache a late player waits for the next key
    # frame. The first one finds where the GOPs start (they are 1 s); the
    # second comes 0.3 s into one
    my $r = flv_tags('nocache', 'room2', undef, 1.3);
    my $f = first_frame($r->{tags});
    ok($f, 'room2 (no gop_cache): a first player gets a video frame in '
           . '1.3 s') or Test::More::diag(Test::More::explain($r));
    my $key = $r->{start} + ($f ? $f->{at} : 0);
    my $gops = POSIX::ceil((Time::HiRes::time() - $key - 0.3) / 1.0);
    $gops = 0 if $gops < 0;
    Time::HiRes::sleep($key + 0.3 + $gops - Time::HiRes::time());
    $r = flv_tags('nocache', 'room2', undef, 1.2);
    $f = first_frame($r->{tags});
    ok($f, 'a second, 0.3 s into a GOP, gets one in 1.2 s');
    is(sprintf('%#x', $f->{b0} // 0), '0x17', 'a key frame');
    ok(($f->{at} // 0) > 0.4,
       sprintf('the next GOP\'s: not at once, %.3f s after the request',
               $f->{at} // 0));

    # the fork's stat
    my $v = flv_viewer('room1', token => $tok);
    ok(wait_for(sub { flv_sessions('room1') == 1 }),
       'an HTTP-FLV player of room1 in GET sessions');
    my ($st, $h) = flv_once('room1');
    is($st, 403, 'one without a token is refused');

    my ($code, $stat);
    ok(wait_for(sub {
        my ($c, undef, $body) = http_request('GET', '/stat');
        $stat = eval { JSON::PP::decode_json($body) };
        $code = $c;
        return $stat;
    }, 5), 'GET /stat: the fork\'s statistics in JSON');
    is($code, 200, 'with 200');

    my ($app) = grep { $_->{name} eq 'live' }
                map { @{$_->{applications} || []} }
                @{$stat->{'http-flv'}{servers} || []};
    my ($s1) = grep { $_->{name} eq 'room1' } @{$app->{live}{streams} || []};
    ok($s1, 'room1 is in it');
    my @flv = grep { ($_->{flashver} // '') eq 'flv_live 1.1' }
              @{$s1->{clients} || []};
    is(scalar @flv, 1, 'with one HTTP-FLV client (flashver flv_live 1.1): '
                       . 'the admitted one, not the refused one');
    ok(!$flv[0]{publishing}, 'playing');
    is(scalar(grep { $_->{publishing} } @{$s1->{clients} || []}), 1,
       'and its publisher');
    is($s1->{nclients}, 2, 'nclients 2');

    flv_stop($v);
    stop_client($_) for $pub, $pub2;
}
--- no_error_log
[error]
