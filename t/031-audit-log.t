# The audit log written by the module (compliance_audit_log): every event
# with its fields, one hash chain per node across workers, segments,
# reloads, restarts and crashes, a torn last line cut at the next start,
# the retention floor, on_error=refuse and on_error=continue while the
# directory cannot be written (a full tmpfs), and the metrics.
#
# Every log is checked twice: by a Perl implementation of the chain of
# docs/audit.md (chain() below) and by build/compliance-audit verify.
#
#   prove -v t/031-audit-log.t
#   AUDIT_TOOL=path/to/compliance-audit prove t/031-audit-log.t
#
# The blocks with a full disk need root and tmpfs mounts; they are skipped
# without them.

use lib 't/lib';

use Test::Compliance;
use Digest::SHA ();
use File::Copy ();
use File::Path ();
use JSON::PP ();
use POSIX ();
use Test::More ();
use Time::HiRes ();

our $Zeros = '0' x 64;
our %Mounted;           # tmpfs mount points to take down at the end


#-----------------------------------------------------------------------------
# configuration

sub rtmp_conf {
    my ($dir, $opts) = @_;
    return zone_conf()
         . "compliance_audit_log \$TEST_NGINX_SERVROOT/$dir"
         . (defined $opts && length $opts ? " $opts" : '') . ";\n";
}

our $Tiers = tiers('basic ai_host=allow', 'low', 'vip viewer_token=on');

# the tiers and application live (its key has kid k1) with more DIRECTIVES
sub app_conf {
    my (@directives) = @_;
    return $Tiers
           . live_app('compliance_key $TEST_NGINX_KEYS/hs256.key kid=k1',
                      'compliance_recheck 200ms', @directives);
}

token_defaults(kid => 'k1');

block_defaults(
    config             => app_conf(),
    http_server_config => api_location(),
);


#-----------------------------------------------------------------------------
# files

sub audit_dir {
    my ($name) = @_;
    return "$ENV{TEST_NGINX_SERVROOT}/$name";
}

sub segments {
    my ($dir) = @_;
    opendir my $dh, $dir or return ();
    my @s = sort grep { /^audit-\d{8}(?:T\d\d)?\.jsonl\z/ } readdir $dh;
    closedir $dh;
    return @s;
}

# the keys of a compact record, in their order
sub keys_in_order {
    my ($line) = @_;
    my @k;
    while ($line =~ /\G[{,]"((?:[^"\\]|\\.)*)":(?:"(?:[^"\\]|\\.)*"|-?\d+|true|false|null)/gc) {
        push @k, $1;
    }
    return @k;
}

sub seg_period_ok {
    my ($seg, $ts) = @_;
    my ($d, $h) = $seg =~ /^audit-(\d{8})(?:T(\d\d))?\.jsonl\z/ or return 0;
    my ($td, $th) = $ts =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d)/
        ? ("$1$2$3", $4) : return 0;
    return $d eq $td && (!defined $h || $h eq $th);
}


# The chain of docs/audit.md over every segment of DIR, in Perl.
# Returns { err => first problem or undef, recs => [records], seq, hash,
# bytes }; each record is its decoded JSON plus _line, _seg, _n, _keys.
# lenient: a last line without its newline (a write in progress) is left
# out instead of being an error.

sub chain {
    my ($dir, %opt) = @_;

    my $json = JSON::PP->new->utf8;
    my (@recs, $err, $prev, $seq);

    SEG: for my $seg (segments($dir)) {
        my $data = slurp("$dir/$seg");

        if (length $data && $data !~ /\n\z/) {
            if ($opt{lenient}) {
                $data =~ s/[^\n]*\z//;
            } else {
                $err = "$seg: the last line has no newline (a torn record)";
                last SEG;
            }
        }

        my $n = 0;

        for my $line (split /\n/, $data) {
            $n++;
            my $where = "$seg:$n";
            my $len = length $line;

            if ($len < 160 || substr($line, -2) ne '"}'
                || substr($line, $len - 75, 9) ne ',"hash":"')
            {
                $err = "$where: not a record ending with its hash"; last SEG;
            }

            my $hash = substr($line, $len - 66, 64);
            my $p = substr($line, $len - 75 - 65, 64);

            if (substr($line, $len - 75 - 74, 9) ne ',"prev":"'
                || $hash !~ /^[0-9a-f]{64}\z/ || $p !~ /^[0-9a-f]{64}\z/)
            {
                $err = "$where: no prev or hash"; last SEG;
            }

            my $body = substr($line, 0, $len - 75) . '}';

            if (Digest::SHA::sha256_hex($body) ne $hash) {
                $err = "$where: edited (hash mismatch)"; last SEG;
            }

            my $r = eval { $json->decode($line) };

            unless (ref $r eq 'HASH') {
                $err = "$where: not JSON"; last SEG;
            }

            my @k = keys_in_order($line);

            if ("@k[0 .. 3]" ne 'seq ts event node'
                || "@k[-2, -1]" ne 'prev hash'
                || scalar(@k) != scalar(keys %$r))
            {
                $err = "$where: fields not in the writer's layout (@k)";
                last SEG;
            }

            if ($r->{ts} !~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/
                || !seg_period_ok($seg, $r->{ts}))
            {
                $err = "$where: ts $r->{ts} is not in the period of $seg";
                last SEG;
            }

            if (defined $seq) {
                if ($r->{seq} != $seq + 1) {
                    $err = "$where: expected seq " . ($seq + 1)
                         . ", found $r->{seq}";
                    last SEG;
                }
                if ($p ne $prev) {
                    $err = "$where: chain broken: prev $p, the previous "
                         . "hash is $prev";
                    last SEG;
                }

            } elsif ($r->{seq} != 1 || $p ne $Zeros) {
                $err = "$where: the first record is not seq 1 with a zero "
                     . "prev";
                last SEG;
            }

            $seq = $r->{seq};
            $prev = $hash;

            push @recs, { %$r, _line => $line, _seg => $seg, _n => $n,
                          _keys => [@k[4 .. $#k - 2]] };
        }
    }

    return { err => $err, recs => \@recs, seq => $seq, hash => $prev };
}


# the records of DIR so far (a write in progress left out)

sub records {
    my ($dir, $event) = @_;
    my $c = chain($dir, lenient => 1);
    my @r = @{$c->{recs}};
    @r = grep { $_->{event} eq $event } @r if defined $event;
    return @r;
}


# the first worker has written the audit.start of this run (N: that many
# audit.start records in DIR)

sub started {
    my ($dir, $n) = @_;
    return wait_records($dir, sub {
        grep({ $_->{event} eq 'audit.start' } @_) >= ($n || 1) });
}


sub wait_records {
    my ($dir, $cond, $secs) = @_;
    my @r;
    my $ok = wait_for(sub { @r = records($dir); $cond->(@r) }, $secs || 10);
    return $ok;
}


# the audit tool: build/compliance-audit (or AUDIT_TOOL); built aside from
# scripts/compliance-audit.c when it is missing

our $Tool;

sub tool {
    return $Tool if defined $Tool;

    $Tool = $ENV{AUDIT_TOOL} || repo_root() . '/build/compliance-audit';
    return $Tool if -x $Tool;

    my $src = repo_root() . '/scripts/compliance-audit.c';
    my $bin = "$ENV{TEST_NGINX_SERVROOT}/tmp/compliance-audit";

    if (-f $src && system('cc', '-O2', '-o', $bin, $src, '-ljansson',
                          '-lcrypto') == 0)
    {
        return $Tool = $bin;
    }

    return $Tool = '';
}


# (exit code, stdout, stderr) of the tool

sub run_tool {
    my (@args) = @_;

    my $t = tool() or return (undef, '', 'no audit tool');
    my $base = "$ENV{TEST_NGINX_SERVROOT}/tmp/tool.$$";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', "$base.out";
        open STDERR, '>', "$base.err";
        { no warnings 'exec'; exec $t, @args; }
        POSIX::_exit(127);
    }

    waitpid $pid, 0;
    my $rc = $? >> 8;
    my ($out, $err) = (slurp("$base.out"), slurp("$base.err"));
    unlink "$base.out", "$base.err";

    return ($rc, $out, $err);
}


# the whole chain verifies, in Perl and with the tool; its records

sub verified {
    my ($dir, $what) = @_;

    my $c = chain($dir);
    ok(!$c->{err}, "$what: the chain verifies (Perl)")
        or Test::More::diag($c->{err});

    if (tool()) {
        my ($rc, $out, $err) = run_tool('verify', $dir);
        is($rc, 0, "$what: compliance-audit verify exits 0")
            or Test::More::diag("$out$err");

        if (defined $c->{seq}) {
            like($out, qr/^records:\s+\Q$c->{seq}\E \(seq 1 \.\. \Q$c->{seq}\E\)$/m,
                 "$what: the tool counts seq 1 .. $c->{seq}");
            like($out, qr/^final hash:\s+\Q$c->{hash}\E$/m,
                 "$what: the tool ends on the same hash");
        }

    } else {
        Test::More::note('no compliance-audit tool: verified in Perl only');
    }

    return @{$c->{recs}};
}


# the event's fields (between node and prev) are these, in this order

sub layout_is {
    my ($r, $want, $what) = @_;
    is("@{$r->{_keys}}", "@$want", "$what: fields in order")
        or Test::More::diag($r->{_line});
}


sub todo {
    my ($code, $why) = @_;
    my $tb = Test::More->builder;
    $tb->todo_start($why);
    my @r = eval { $code->() };
    my $e = $@;
    $tb->todo_end;
    die $e if $e;
    return wantarray ? @r : $r[0];
}


our @Accept = qw(session app room host person op mcn tier ai idv jti kid
                 token addr proto);
our @End = qw(session kind app room host person op mcn tier ai addr proto
              duration_ms bytes_in bytes_out why);
our @Order = qw(order target action until reason ref tier uid);


sub line_count {
    my ($dir) = @_;
    my $n = 0;
    for my $seg (segments($dir)) {
        $n += () = slurp("$dir/$seg") =~ /\n/g;
    }
    return $n;
}

# the text of every file under DIR
sub all_text {
    my ($dir) = @_;
    my $text = '';
    opendir my $dh, $dir or return '';
    for my $f (sort readdir $dh) {
        next if $f =~ /^\.\.?\z/ || !-f "$dir/$f";
        $text .= slurp("$dir/$f");
    }
    closedir $dh;
    return $text;
}


#-----------------------------------------------------------------------------
# a full disk: a small tmpfs

sub can_mount {
    return 0 unless $> == 0;
    my $probe = "$ENV{TEST_NGINX_SERVROOT}/tmp/mount-probe";
    mkdir $probe;
    my $ok = system("mount -t tmpfs -o size=64k tmpfs '$probe' 2>/dev/null")
             == 0;
    system("umount '$probe'") if $ok;
    rmdir $probe;
    return $ok;
}

our $CanMount;

# mounts a tmpfs of SIZE at servroot/NAME; the config for its audit/ dir
sub tmpfs_conf {
    my ($name, $size, $opts) = @_;
    $CanMount = can_mount() unless defined $CanMount;
    my $mp = audit_dir($name);
    mkdir $mp;
    if ($CanMount) {
        system("mount -t tmpfs -o size=$size tmpfs '$mp'") == 0
            or die "mount $mp failed";
        $Mounted{$mp} = 1;
    }
    return rtmp_conf("$name/audit", $opts);
}

# the mount point of tmpfs_conf(NAME) and its audit/ dir; none (and a
# skipped test) without tmpfs mounts
sub tmpfs_dirs {
    my ($name) = @_;
    unless ($CanMount) {
        Test::More->builder->skip('needs root and tmpfs mounts');
        return;
    }
    my $mp = audit_dir($name);
    return ($mp, "$mp/audit");
}

# fills the file system of DIR; the filler's path
sub fill {
    my ($mp) = @_;
    my $path = "$mp/filler";
    open my $fh, '>:raw', $path or die "$path: $!";
    my $chunk = "\0" x 4096;
    while (syswrite($fh, $chunk)) { }
    close $fh;
    return $path;
}

sub umount_all {
    for my $mp (keys %Mounted) {
        system("umount -l '$mp' 2>/dev/null");
        delete $Mounted{$mp};
    }
}

END { umount_all() }


#-----------------------------------------------------------------------------
# an older segment written here (the writer of t/030, in short)

sub old_record {
    my ($st, $ms, $event, @kv) = @_;

    my @t = gmtime(int($ms / 1000));
    my $ts = sprintf '%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $t[5] + 1900,
                     $t[4] + 1, $t[3], $t[2], $t[1], $t[0], $ms % 1000;
    my $enc = JSON::PP->new->allow_nonref;

    my $body = '{"seq":' . $st->{seq} . ',"ts":"' . $ts . '","event":"'
             . $event . '","node":"' . $st->{node} . '"';
    while (@kv) {
        my ($k, $v) = splice @kv, 0, 2;
        # numbers and \'raw' JSON as they are, the rest as strings
        $body .= ',"' . $k . '":' . (ref $v ? $$v
                                     : $v =~ /^\d+\z/ ? $v
                                     : $enc->encode("$v"));
    }
    $body .= ',"prev":"' . $st->{prev} . '"';

    my $hash = Digest::SHA::sha256_hex($body . '}');
    $st->{seq}++;
    $st->{prev} = $hash;

    return $body . ',"hash":"' . $hash . "\"}\n";
}

# DIR with a closed hourly segment of yesterday (seq 1 .. 3); the config
our %Old;

sub old_segment_conf {
    my ($name, $opts) = @_;

    my $dir = audit_dir($name);
    File::Path::mkpath($dir);

    my $ms = (time - 86400) * 1000;
    my @t = gmtime($ms / 1000);
    my $seg = sprintf 'audit-%04d%02d%02dT%02d.jsonl', $t[5] + 1900,
                      $t[4] + 1, $t[3], $t[2];
    my $ms0 = int($ms / 3600000) * 3600000;     # within that hour

    my $st = { seq => 1, prev => $Zeros, node => 'edge-b' };
    my $text = old_record($st, $ms0 + 100, 'audit.start', pid => 4321)
             . old_record($st, $ms0 + 1100, 'publish.accept', session => 7,
                          app => 'live', room => 'old-room', host => 'old-h',
                          person => 'old-p', op => 'op1', mcn => 'mcn1',
                          tier => 'basic', ai => \'false', idv => 'face',
                          jti => 'j-old', kid => 'k1',
                          token => 'sha256:0123456789ab',
                          addr => '192.0.2.1')
             . old_record($st, $ms0 + 5100, 'session.end', session => 7,
                          kind => 'publish', app => 'live',
                          room => 'old-room', host => 'old-h',
                          person => 'old-p', addr => '192.0.2.1',
                          duration_ms => 4000, bytes_in => 1000,
                          bytes_out => 3000, why => 'closed');

    spew("$dir/$seg", $text);

    %Old = (segment => $seg, seq => $st->{seq} - 1, hash => $st->{prev},
            text => $text);

    return rtmp_conf($name, $opts);
}


run_tests();

__DATA__

=== TEST 1: admissions, rejections and session ends are recorded with their fields; the token never is
--- workers: 2
--- rtmp_config eval: rtmp_conf('audit1', 'node=edge-a fsync=always')
--- post_check eval
sub {
    my $dir = audit_dir('audit1');
    ok(-d $dir && ((stat $dir)[2] & 07777) == 0750,
       'the master made the directory, mode 0750');

    # a worker writes it once it runs (slowly under valgrind)
    ok(started($dir), 'audit.start is written');
    my @r = records($dir);
    is(scalar @r, 1, 'one record at start');
    my $s = $r[0];
    my ($day) = $s->{ts} =~ /^(\d{4})-(\d\d)-(\d\d)T/ ? ("$1$2$3") : ('?');
    is(join(' ', segments($dir)), "audit-$day.jsonl",
       'one daily segment, named for the UTC day of its records');
    is($s->{event}, 'audit.start', 'audit.start');
    is($s->{seq}, 1, 'seq 1');
    is($s->{node}, 'edge-a', 'node= is the node');
    layout_is($s, ['pid'], 'audit.start');
    is($s->{pid}, nginx_pid(), 'audit.start: pid is the master\'s');
    my $ms0 = metrics();
    is($ms0->{compliance_audit_records_total}, 1,
       'metrics: compliance_audit_records_total 1');
    is($ms0->{compliance_audit_write_errors_total}, 0, 'no write errors');

    # a publisher with every claim, a player, a refused player, two
    # refused publishers, a publisher dropped by the operator
    my %tok = (
        a   => room_token('room1', sub => 'h1', pid => 'p1', op => 'op1',
                   mcn => 'mcn1', tier => 'basic', idv => 'face+id2',
                   jti => 'j-a1', ai => JSON::PP::true()),
        exp => room_token('room3', sub => 'h3', pid => 'p3', jti => 'j-exp',
                   iat => time - 7200, exp => time - 3600),
        vip => room_token('room5', sub => 'h5', pid => 'p5', tier => 'vip',
                   jti => 'j-vip'),
        b   => room_token('room4', sub => 'h4', pid => 'p4', jti => 'j-b'),
    );

    my $pa = start_client('publish', "live/room1?token=$tok{a}",
                          '--duration', 2500);
    ok(wait_output($pa, 'NetStream.Publish.Start'), 'publisher A is live');
    my ($sa) = find_sessions(host => 'h1');
    my $pl = player('room1', 1000);
    ok(wait_output($pl, 'NetStream.Play.Start'), 'the player is live');
    my ($spl) = find_sessions(kind => 'play');

    my ($rc, $out) = once('publish', 'live/room2');
    like($out, qr/Publish\.Rejected token_missing/, 'a publish without token is refused');
    ($rc, $out) = once('publish', "live/room3?token=$tok{exp}");
    like($out, qr/Publish\.Rejected token_expired/, 'an expired token is refused');

    my $pv = start_client('publish', "live/room5?token=$tok{vip}",
                          '--duration', 4000);
    ok(wait_output($pv, 'NetStream.Publish.Start'), 'a vip publisher is live');
    ($rc, $out) = once('play', 'live/room5');
    like($out, qr/Play\.Rejected viewer_token_required/,
         'a play without token in a viewer_token room is refused');

    my $pb = start_client('publish', "live/room4?token=$tok{b}",
                          '--duration', 20000);
    ok(wait_output($pb, 'NetStream.Publish.Start'), 'publisher B is live');
    my ($sb) = find_sessions(host => 'h4');
    my ($st) = api('DELETE', "sessions/$sb->{id}");
    is($st, 202, 'B is dropped by the operator');
    ok(wait_output($pb, 'operator_drop'), 'B is told');

    wait_client($_, 15) for $pa, $pl, $pv, $pb;
    ok(wait_records($dir, sub { grep({ $_->{event} eq 'session.end' } @_) == 4 }),
       'four session.end records');

    @r = verified($dir, 'after the sessions');
    my %by;
    push @{$by{$_->{event}}}, $_ for @r;
    is(scalar @{$by{'publish.accept'} || []}, 3, 'three publish.accept');
    is(scalar @{$by{'play.accept'} || []}, 1, 'one play.accept');
    is(scalar @{$by{'publish.reject'} || []}, 2, 'two publish.reject');
    is(scalar @{$by{'play.reject'} || []}, 1, 'one play.reject');
    is(scalar @{$by{'audit.start'} || []}, 1, 'one audit.start');
    is_deeply([sort map { $_->{node} } @r], [('edge-a') x @r],
              'every record has the node');

    # publish.accept
    my ($a) = grep { $_->{host} eq 'h1' } @{$by{'publish.accept'}};
    layout_is($a, \@::Accept, 'publish.accept');
    is_deeply({ map { $_ => $a->{$_} } grep { $_ ne 'session' && $_ ne 'addr' } @::Accept },
              { app => 'live', room => 'room1', host => 'h1', person => 'p1',
                op => 'op1', mcn => 'mcn1', tier => 'basic',
                ai => JSON::PP::true(), idv => 'face+id2', jti => 'j-a1',
                kid => 'k1', proto => 'rtmp',
                token => 'sha256:'
                         . substr(Digest::SHA::sha256_hex($tok{a}), 0, 12) },
              'publish.accept: the subjects and sha256: + 12 hex of the token');
    is("$a->{session}", "$sa->{id}", 'publish.accept: session is the API id');
    like($a->{addr}, qr/^127\.0\.0\.1(?::\d+)?\z/, "publish.accept: addr ($a->{addr})");

    # play.accept
    my ($p) = @{$by{'play.accept'}};
    layout_is($p, \@::Accept, 'play.accept');
    is($p->{room}, 'room1', 'play.accept: room');
    is($p->{app}, 'live', 'play.accept: app');
    is($p->{proto}, 'rtmp', 'play.accept: proto rtmp');
    is("$p->{session}", "$spl->{id}", 'play.accept: session');
    ok(!defined $p->{token} || $p->{token} eq '',
       'play.accept: no token for an anonymous viewer');

    # rejections
    my ($r1) = grep { $_->{reason} eq 'token_missing' } @{$by{'publish.reject'}};
    ok($r1, 'publish.reject token_missing');
    layout_is($r1, [@::Accept, 'reason', 'detail'], 'publish.reject');
    is($r1->{room}, 'room2', 'publish.reject: room');
    is($r1->{detail}, 'no token in the stream key or the connect URL',
       'publish.reject: detail is the text the client was sent');
    my ($r2) = grep { $_->{reason} eq 'token_expired' } @{$by{'publish.reject'}};
    ok($r2, 'publish.reject token_expired');
    is($r2->{token}, 'sha256:' . substr(Digest::SHA::sha256_hex($tok{exp}), 0, 12),
       'publish.reject: the token hash');
    like($r2->{detail}, qr/^token expired \d+ s ago/, 'publish.reject: detail');
    my ($r3) = @{$by{'play.reject'}};
    layout_is($r3, [@::Accept, 'reason', 'detail'], 'play.reject');
    is($r3->{reason}, 'viewer_token_required', 'play.reject: reason');
    is($r3->{room}, 'room5', 'play.reject: room');

    # session.end
    my %end = map { ($_->{kind} eq 'play' ? 'play' : $_->{host}) => $_ }
              @{$by{'session.end'}};
    my $ea = $end{h1};
    layout_is($ea, \@::End, 'session.end');
    is_deeply({ map { $_ => $ea->{$_} } qw(kind app room host person why) },
              { kind => 'publish', app => 'live', room => 'room1',
                host => 'h1', person => 'p1', why => 'closed' },
              'session.end of a publisher that closed');
    is("$ea->{session}", "$sa->{id}", 'session.end: its session');
    cmp_ok($ea->{duration_ms}, '>=', 2000, "duration_ms ($ea->{duration_ms})");
    cmp_ok($ea->{duration_ms}, '<', 6000, 'duration_ms below 6 s');
    cmp_ok($ea->{bytes_in}, '>', 10000, "bytes_in ($ea->{bytes_in})");
    cmp_ok($ea->{bytes_out}, '>', 0, "bytes_out ($ea->{bytes_out})");
    my $ep = $end{play};
    is_deeply({ map { $_ => $ep->{$_} } qw(kind room why) },
              { kind => 'play', room => 'room1', why => 'closed' },
              'session.end of the player');
    cmp_ok($ep->{bytes_out}, '>', 0, 'the player was sent bytes');
    is($end{h4}{why}, 'operator_drop', 'session.end why operator_drop');
    is("$end{h4}{session}", "$sb->{id}", 'of the dropped session');
    is($end{h5}{why}, 'closed', 'the vip publisher closed');
    cmp_ok($end{h1}{seq}, '>', $a->{seq}, 'the end comes after the accept');

    # the token itself, in no file
    my $text = all_text($dir);
    ok(!grep({ index($text, $_) >= 0 } values %tok),
       'no token appears in the audit directory');
    my ($sig) = $tok{a} =~ /\.([^.]+)\z/;
    ok(index($text, $sig) < 0, 'not even its signature');

    my $m = metrics();
    is($m->{compliance_audit_records_total}, scalar @r,
       'compliance_audit_records_total counts every record ('
       . scalar(@r) . ')');
    is($m->{compliance_audit_write_errors_total}, 0,
       'compliance_audit_write_errors_total 0');
    is($m->{compliance_audit_available}, 1, 'compliance_audit_available 1');
}
--- no_error_log
[crit]


=== TEST 2: orders, warnings and drops: order.create, order.lift, order.expire, warn.sent, play.reject, session.end why suspended
--- workers: 2
--- rtmp_config eval: rtmp_conf('audit2', 'node=edge-a')
--- post_check eval
sub {
    my $dir = audit_dir('audit2');

    my $ps = publisher('r2', sub => 'h2', pid => 'p2');
    my $pw = publisher('r3', sub => 'h3', pid => 'p3', op => 'shop-w',
                       duration => 3000);
    ok(wait_output($ps, 'NetStream.Publish.Start')
       && wait_output($pw, 'NetStream.Publish.Start'), 'two publishers');
    my $pl = player('r2');
    ok(wait_output($pl, 'NetStream.Play.Start'), 'a player of r2');
    ok(wait_for(sub { @{sessions()} == 3 }), 'three sessions');
    my ($ss) = find_sessions(host => 'h2');
    my ($sw) = find_sessions(host => 'h3');
    my ($spl) = find_sessions(kind => 'play');

    my $w = order(target => 'op:shop-w', action => 'warn', duration => 600,
                  reason => 'unlabelled ad', ref => 'W-1');
    ok(wait_output($pw, 'NetStream.Publish.Warning'), 'the warning is sent');

    my $o = order(target => 'host:h2', action => 'suspend', duration => 600,
                  reason => 'fake discounts', ref => 'SAMR-1');
    ok(wait_output($ps, 'Rejected suspended'), 'the publisher is dropped');
    ok(wait_output($pl, 'Rejected suspended'), 'and its player');

    my $room = order(target => 'room:r9', action => 'suspend',
                     duration => 600, reason => 'room closed', ref => 'R9');
    my ($rc, $out) = once('play', 'live/r9');
    like($out, qr/Play\.Rejected suspended/, 'a play of a suspended room is refused');

    my $x = order(target => 'host:h7', action => 'suspend', duration => 1,
                  reason => 'cool down', ref => 'E-1');
    my $b = order(target => 'person:p8', action => 'ban',
                  reason => 'repeated fraud', ref => 'BAN-7');
    my $t = order(target => 'mcn:m9', action => 'restrict', duration => 600,
                  tier => 'low', reason => 'probation', ref => 'T-1');
    my ($st) = api('DELETE', "orders/$o->{id}");
    is($st, 204, 'the suspension is lifted');

    ok(wait_records($dir, sub { grep { $_->{event} eq 'order.expire' } @_ }, 6),
       'order.expire is recorded');
    wait_client($_, 15) for $ps, $pw, $pl;
    ok(wait_records($dir, sub { grep({ $_->{event} eq 'session.end' } @_) == 3 }),
       'three session.end records');

    my @r = verified($dir, 'orders');
    my %by;
    push @{$by{$_->{event}}}, $_ for @r;

    my %create = map { $_->{order} => $_ } @{$by{'order.create'} || []};
    is(scalar keys %create, 6, 'six order.create');
    for my $c (values %create) {
        layout_is($c, \@::Order, "order.create $c->{order}");
    }
    is_deeply({ map { $_ => $create{$o->{id}}{$_} } @::Order },
              { order => $o->{id}, target => 'host:h2', action => 'suspend',
                until => $o->{until}, reason => 'fake discounts',
                ref => 'SAMR-1', tier => undef, uid => $o->{uid} },
              'order.create of a suspension');
    is_deeply({ map { $_ => $create{$b->{id}}{$_} } @::Order },
              { order => $b->{id}, target => 'person:p8', action => 'ban',
                until => undef, reason => 'repeated fraud', ref => 'BAN-7',
                tier => undef, uid => $b->{uid} },
              'order.create of a ban: until null');
    is_deeply({ map { $_ => $create{$t->{id}}{$_} } @::Order },
              { order => $t->{id}, target => 'mcn:m9', action => 'restrict',
                until => $t->{until}, reason => 'probation', ref => 'T-1',
                tier => 'low', uid => $t->{uid} },
              'order.create of a restriction: its tier');
    is($create{$w->{id}}{action}, 'warn', 'order.create of a warning');

    my ($l) = @{$by{'order.lift'} || []};
    ok($l, 'order.lift');
    layout_is($l, \@::Order, 'order.lift') if $l;
    is($l && $l->{order}, $o->{id}, 'order.lift of the suspension');
    is($l && $l->{target}, 'host:h2', 'order.lift: target');

    my ($e) = @{$by{'order.expire'} || []};
    layout_is($e, \@::Order, 'order.expire');
    is_deeply({ map { $_ => $e->{$_} } qw(order target action until reason ref) },
              { order => $x->{id}, target => 'host:h7', action => 'suspend',
                until => $x->{until}, reason => 'cool down', ref => 'E-1' },
              'order.expire of the short suspension');

    my ($ws) = @{$by{'warn.sent'} || []};
    ok($ws, 'warn.sent');
    layout_is($ws, [qw(session room order text)], 'warn.sent');
    is("$ws->{session}", "$sw->{id}", 'warn.sent: the warned session');
    is($ws->{room}, 'r3', 'warn.sent: room');
    is($ws->{order}, $w->{id}, 'warn.sent: order');
    is($ws->{text}, "order $w->{id}: unlabelled ad (ref W-1)",
       'warn.sent: the text the publisher was sent');
    cmp_ok($ws->{seq}, '>', $create{$w->{id}}{seq},
           'warn.sent after its order.create');

    my ($pr) = @{$by{'play.reject'} || []};
    is($pr->{reason}, 'suspended', 'play.reject: suspended');
    is($pr->{room}, 'r9', 'play.reject: room');
    like($pr->{detail}, qr/^suspended until \d+, order $room->{id}: room closed \(ref R9\)\z/,
         'play.reject: detail names the order');

    my %end = map { ("$_->{session}" => $_) } @{$by{'session.end'}};
    is($end{$ss->{id}}{why}, 'suspended', 'session.end of the publisher: why suspended');
    is($end{$spl->{id}}{why}, 'suspended', 'session.end of its player: why suspended');
    is($end{$spl->{id}}{kind}, 'play', 'kind play');
    is($end{$sw->{id}}{why}, 'closed', 'the warned publisher closed by itself');
    cmp_ok($end{$ss->{id}}{seq}, '>', $create{$o->{id}}{seq},
           'the drop comes after the order');
}
--- no_error_log
[crit]


=== TEST 3: record.done has the recording's path, real size and SHA-256
--- rtmp_config eval: rtmp_conf('audit3', 'node=edge-a')
--- config eval
File::Path::mkpath("$ENV{TEST_NGINX_SERVROOT}/rec");
app_conf('record all', "record_path $ENV{TEST_NGINX_SERVROOT}/rec",
         'record_unique on')
--- post_check eval
sub {
    my $dir = audit_dir('audit3');

    for my $i (1, 2) {
        my $p = publisher('recroom', sub => "rh$i", pid => "rp$i",
                          duration => 1500);
        ok(wait_output($p, 'NetStream.Publish.Start'), "publisher $i live");
        my ($s) = find_sessions(host => "rh$i");
        is(wait_client($p, 15), 0, "publisher $i ends");
        ok(wait_records($dir, sub { grep({ $_->{event} eq 'record.done' } @_) == $i }),
           "record.done $i");
        my ($d) = (records($dir, 'record.done'))[$i - 1];
        layout_is($d, [qw(session app room recorder path size sha256)],
                  'record.done');
        is("$d->{session}", "$s->{id}", 'record.done: the session');
        is($d->{app}, 'live', 'app');
        is($d->{room}, 'recroom', 'room');
        like($d->{path}, qr{^\Q$ENV{TEST_NGINX_SERVROOT}\E/rec/recroom-\d+\.flv\z},
             "path ($d->{path})");
        ok(-f $d->{path}, 'the file exists');
        is($d->{size}, -s $d->{path}, "size is the file's ($d->{size})");
        cmp_ok($d->{size}, '>', 1000, 'a real recording');
        is($d->{sha256}, Digest::SHA->new(256)->addfile($d->{path}, 'b')->hexdigest,
           "sha256 is the file's");
    }

    my @d = records($dir, 'record.done');
    isnt($d[0]{path}, $d[1]{path}, 'two files');
    verified($dir, 'recordings');
}
--- no_error_log
[crit]


=== TEST 4: the chain continues from an older segment, across a reload and restarts (rotate=hourly)
--- workers: 2
--- rtmp_config eval: old_segment_conf('audit4', 'node=edge-b rotate=hourly retention=1095d fsync=off')
--- post_check eval
sub {
    my $dir = audit_dir('audit4');
    ok(started($dir, 2), 'audit.start is written');
    my @r = records($dir);
    is(scalar @r, 4, 'the three older records and one audit.start');
    is($r[3]{event}, 'audit.start', 'audit.start');
    is($r[3]{seq}, $::Old{seq} + 1, 'continues the older seq');
    like($r[3]{_line}, qr/"prev":"$::Old{hash}"/,
         'its prev is the last hash of the older segment');
    like($r[3]{_seg}, qr/^audit-\d{8}T\d\d\.jsonl\z/, "an hourly segment ($r[3]{_seg})");
    isnt($r[3]{_seg}, $::Old{segment}, 'a new segment');
    is(slurp("$dir/$::Old{segment}"), $::Old{text}, 'the older segment is untouched');

    my ($rc) = once('publish', stream('c1', sub => 'h1', pid => 'p1'));
    is($rc, 0, 'a publish');
    ok(wait_records($dir, sub { @_ == 6 }), 'accept and end');

    ok(reload_nginx(), 'reload');
    ($rc) = once('publish', stream('c2', sub => 'h2', pid => 'p2'));
    is($rc, 0, 'a publish after the reload');
    ok(wait_records($dir, sub { @_ == 8 }), 'accept and end');
    @r = records($dir);
    is(scalar(grep { $_->{event} eq 'audit.start' } @r), 2,
       'a reload writes no audit.start (the zone is kept)');

    my $m = metrics();
    is($m->{compliance_audit_records_total}, 5,
       'the metric counts what this zone wrote (audit.start and 4) across the reload');

    ok(restart_nginx(), 'restart');
    ok(wait_records($dir, sub { @_ == 9 }), 'a new audit.start');
    @r = records($dir);
    is($r[8]{event}, 'audit.start', 'audit.start after the restart');
    is($r[8]{seq}, 9, 'seq 9');
    ($rc) = once('publish', stream('c3', sub => 'h3', pid => 'p3'));
    ok(wait_records($dir, sub { @_ == 11 }), 'accept and end after the restart');

    ok(kill_nginx(), 'a crash');
    ok(start_nginx(), 'start again');
    ok(wait_records($dir, sub { @_ == 12 }), 'audit.start after the crash');

    @r = verified($dir, 'across segments, a reload, a restart and a crash');
    is_deeply([map { $_->{seq} } @r], [1 .. 12], 'seq 1 .. 12');
    is_deeply([map { $_->{event} } @r[3 .. 11]],
              [qw(audit.start publish.accept session.end publish.accept
                  session.end audit.start publish.accept session.end
                  audit.start)],
              'the events in order');
    is_deeply([sort { $a cmp $b } keys %{{ map { $_->{_seg} => 1 } @r }}],
              [segments($dir)], 'records in ' . scalar(segments($dir))
                                . ' segments');

    # tampering with what the module wrote
    my ($acc) = grep { $_->{event} eq 'publish.accept' && $_->{room} eq 'c2' } @r;
    for my $case ('edit', 'delete') {
        my $copy = "$ENV{TEST_NGINX_SERVROOT}/tamper-$case";
        File::Path::mkpath($copy);
        File::Copy::copy("$dir/$_", "$copy/$_") for segments($dir);
        my $f = "$copy/$acc->{_seg}";
        my @lines = split /(?<=\n)/, slurp($f);
        if ($case eq 'edit') {
            $lines[$acc->{_n} - 1] =~ s/"room":"c2"/"room":"c3"/;
        } else {
            splice @lines, $acc->{_n} - 1, 1;
        }
        spew($f, join '', @lines);

        my $c = chain($copy);
        like($c->{err}, $case eq 'edit' ? qr/^\Q$acc->{_seg}:$acc->{_n}\E: edited/
                                        : qr/^\Q$acc->{_seg}:$acc->{_n}\E: expected seq $acc->{seq}, found \d+/,
             "$case: the Perl verifier finds it") or Test::More::diag($c->{err});

        next unless tool();
        my ($trc, $out, $err) = run_tool('verify', $copy);
        is($trc, 1, "$case: compliance-audit verify exits 1");
        like($err, $case eq 'edit'
                   ? qr/\Q$acc->{_seg}:$acc->{_n}\E: edited: hash mismatch/
                   : qr/\Q$acc->{_seg}:$acc->{_n}\E: deleted: expected seq $acc->{seq}, found seq \d+/,
             "$case: at the right place") or Test::More::diag($err);
    }
}
--- no_error_log
[crit]


=== TEST 5: a torn last line left by a crash is cut at the next start and noted as recovered_bytes
--- rtmp_config eval: rtmp_conf('audit5', 'node=edge-c')
--- post_check eval
sub {
    my $dir = audit_dir('audit5');
    my ($rc) = once('publish', stream('t1', sub => 'h1', pid => 'p1'));
    is($rc, 0, 'a publish');
    ok(wait_records($dir, sub { @_ == 3 }), 'three records');
    ok(kill_nginx(), 'a crash');

    my @s = segments($dir);
    my $f = "$dir/$s[-1]";
    my $before = slurp($f);
    my $torn = '{"seq":4,"ts":"' . substr($before, 15, 20)
             . '","event":"publish.accept","node":"edge-c","session":';
    spew($f, $torn, 1);
    my $cut = length $torn;

    ok(start_nginx(), 'start after the crash');
    ok(wait_records($dir, sub { @_ == 4 }), 'a new audit.start');
    my @r = verified($dir, 'after the cut');
    my $st = $r[3];
    is($st->{event}, 'audit.start', 'audit.start');
    is($st->{seq}, 4, 'seq 4: the torn record never had a number');
    layout_is($st, ['pid', 'recovered_bytes'], 'audit.start after a cut');
    is($st->{recovered_bytes}, $cut, "recovered_bytes $cut");
    is(substr(slurp($f), 0, length $before), $before,
       'the whole records are kept');
    ok(index(slurp($f), $torn) < 0, 'the partial line is gone');
    like(error_log_text(), qr/\[warn\] .*compliance_audit_log: ".*\Q$s[-1]\E" ends with a partial record of $cut bytes, cut/,
         'the cut is logged');

    if (tool()) {
        my (undef, $out) = run_tool('verify', $dir);
        like($out, qr/1 restart\(s\) cut a torn last record \(recovered_bytes, $cut bytes/,
             'the tool reports the cut');
    }

    # a clean restart: no recovered_bytes
    ok(restart_nginx(), 'restart');
    ok(wait_records($dir, sub { @_ == 5 }), 'audit.start');
    @r = records($dir);
    layout_is($r[4], ['pid'], 'a clean start has no recovered_bytes');
}
--- no_error_log
[crit]


=== TEST 6: four workers write one chain: 20 clients at once, no interleaved or partial line
--- workers: 4
--- rtmp_config eval: rtmp_conf('audit6', 'node=edge-d fsync=batch')
--- post_check eval
sub {
    my $dir = audit_dir('audit6');

    my @streams = map { stream("c$_", sub => "h$_", pid => "p$_",
                               jti => "j$_") } 1 .. 10;
    my (@pubs, @plays, @bad);
    push @pubs, start_client('publish', $_, '--duration', 3000) for @streams;
    push @plays, start_client('play', "live/c$_", '--duration', 2500)
        for 1 .. 10;
    push @bad, start_client('publish', "live/x$_", '--duration', 1000)
        for 1 .. 4;

    my %workers;
    ok(wait_for(sub {
        my $s = sessions();
        $workers{$_->{worker}} = 1 for @$s;
        @$s == 20;
    }, 15), '20 live sessions');
    cmp_ok(scalar keys %workers, '>=', 2,
           'on ' . scalar(keys %workers) . ' workers');

    # a second wave of refusals while the first ends, to mix the writers
    push @bad, start_client('publish', "live/y$_", '--duration', 1000)
        for 1 .. 6;

    my @codes = map { wait_client($_, 20) } @pubs, @plays;
    is_deeply(\@codes, [(0) x 20], 'the 20 clients ran their course');
    is_deeply([map { wait_client($_, 20) } @bad], [(1) x 10],
              'the 10 refused ones were refused');

    ok(wait_records($dir, sub { grep({ $_->{event} eq 'session.end' } @_) == 20 }),
       'twenty session.end');
    ok(stop_nginx(), 'nginx stops');

    my $text = '';
    $text .= slurp("$dir/$_") for segments($dir);
    my @lines = split /\n/, $text;
    is(scalar(grep { !/^\{"seq":\d+,.*,"hash":"[0-9a-f]{64}"\}\z/ } @lines), 0,
       'every line is one whole record');
    like($text, qr/\n\z/, 'the log ends with a newline');

    my @r = verified($dir, '4 workers');
    is_deeply([map { $_->{seq} } @r], [1 .. scalar @r], 'seq 1 .. ' . scalar @r);
    my %n;
    $n{$_->{event}}++ for @r;
    is_deeply(\%n, { 'audit.start' => 1, 'publish.accept' => 10,
                     'play.accept' => 10, 'publish.reject' => 10,
                     'session.end' => 20 },
              'every event once');
    my @ts = map { $_->{ts} } @r;
    is_deeply(\@ts, [sort @ts], 'ts never goes back along the chain');
    my %sess;
    $sess{"$_->{session}"}++ for grep { $_->{event} =~ /accept|end/ } @r;
    is(scalar(grep { $_ != 2 } values %sess), 0,
       'each session has its accept and its end');
    my $all = all_text($dir);
    ok(!grep({ my ($t) = /token=(.*)/; index($all, $t) >= 0 } @streams),
       'no token appears in the audit directory');
}
--- no_error_log
[crit]


=== TEST 7: a retention under 3 years fails nginx -t
--- rtmp_config eval: rtmp_conf('audit7', 'retention=2y')
--- http_server_config
--- must_die
--- error_log
audit retention "2y" is under the 3 years


=== TEST 8: 1094 days is under 3 years too
--- rtmp_config eval: rtmp_conf('audit8', 'retention=1094d')
--- http_server_config
--- must_die
--- error_log
audit retention "1094d" is under the 3 years


=== TEST 9: on_error=refuse: a full disk refuses publishes and plays with audit_unavailable, then recovers by itself
--- workers: 2
--- rtmp_config eval: tmpfs_conf('fs9', '64k', 'node=edge-e')
--- post_check eval
sub {
    my ($mp, $dir) = tmpfs_dirs('fs9') or return;

    ok(started($dir), 'audit.start is written');
    my $live = publisher('live1', sub => 'hl', pid => 'pl', duration => 30000);
    ok(wait_output($live, 'NetStream.Publish.Start'), 'a publisher is live');
    my $n0 = line_count($dir);
    my $m0 = metrics();

    my $filler = fill($mp);

    # records still fit in the segment's last page: refusals (a record
    # each) until one cannot be written
    my ($tries, $out) = (0, '');
    for (1 .. 30) {
        $tries++;
        (undef, $out) = once('publish', 'live/fill');
        last if $out =~ /audit_unavailable/;
    }
    like($out, qr/^status: error NetStream\.Publish\.Rejected audit_unavailable: the audit log cannot be written$/m,
         "after $tries refusals the log is full: audit_unavailable");
    my $written = line_count($dir) - $n0;
    Test::More::note("$written records fitted after the filler");
    my $lost = $tries - $written;   # the records that could not be written

    my ($rc, $o2) = once('publish', stream('new1', sub => 'hn', pid => 'pn'));
    is($rc, 1, 'a publish with a valid token is refused');
    like($o2, qr/^status: error NetStream\.Publish\.Rejected audit_unavailable: the audit log cannot be written$/m,
         'with audit_unavailable');
    unlike($o2, qr/Publish\.Start/, 'never started');
    ($rc, $o2) = once('play', 'live/live1');
    is($rc, 1, 'a play is refused');
    like($o2, qr/^status: error NetStream\.Play\.Rejected audit_unavailable: the audit log cannot be written$/m,
         'with audit_unavailable');
    $lost += 2;
    like(error_log_text(), qr/\[crit\] .*compliance: publish rejected: audit_unavailable: the audit log cannot be written/,
         'the refusal is logged at crit');

    my $m = metrics();
    cmp_ok($m->{compliance_audit_write_errors_total}, '>=', 3,
           "write errors are counted ($m->{compliance_audit_write_errors_total})");
    is($m->{compliance_audit_available}, 0, 'compliance_audit_available 0');
    Time::HiRes::sleep(0.6);
    ($rc) = once('publish', stream('new1', sub => 'hn', pid => 'pn'));
    is($rc, 1, 'still refused while the disk is full (the retries fail)');
    $lost++;
    ok(!client_done($live), 'the live publisher is not dropped');
    my $rec = metrics()->{compliance_audit_records_total};

    # space again: the recheck writes audit.gap and audit.resume
    unlink $filler;
    my $t0 = Time::HiRes::time();
    ok(wait_records($dir, sub { grep { $_->{event} eq 'audit.resume' } @_ }, 5),
       'audit.resume is written once the disk has space');
    my $dt = Time::HiRes::time() - $t0;
    cmp_ok($dt, '<', 2, sprintf 'within 2 s (%.2f s; recheck 200ms)', $dt);
    ($rc, $o2) = once('publish', stream('new2', sub => 'hm', pid => 'pm'));
    is($rc, 0, 'a publish is admitted again');
    like($o2, qr/NetStream\.Publish\.Start/, 'started');
    is(metrics()->{compliance_audit_available}, 1, 'compliance_audit_available 1');
    cmp_ok(metrics()->{compliance_audit_records_total}, '>', $rec,
           'compliance_audit_records_total grows again');
    stop_client($live);
    wait_client($live, 10);
    ok(wait_records($dir, sub { grep { $_->{event} eq 'session.end'
                                       && $_->{host} eq 'hl' } @_ }),
       'the end of the publisher that was live through the outage');

    ok(stop_nginx(), 'nginx stops');
    my @r = verified($dir, 'after the outage');
    my ($gi) = grep { $r[$_]{event} eq 'audit.gap' } 0 .. $#r;
    ok(defined $gi, 'an audit.gap record');
    layout_is($r[$gi], ['lost'], 'audit.gap');
    is($r[$gi + 1]{event}, 'audit.resume', 'audit.resume right after it');
    layout_is($r[$gi + 1], [], 'audit.resume');
    cmp_ok($r[$gi]{lost}, '>=', $lost, "lost counts at least the $lost refused events");
    is($r[$gi]{lost}, $lost, "lost is the $lost events that were not recorded");
    is(scalar(grep { $_->{event} eq 'audit.gap' } @r), 1, 'one gap');
    my ($acc) = grep { $_->{event} eq 'publish.accept' && $_->{host} eq 'hm' } @r;
    cmp_ok($acc->{seq}, '>', $r[$gi]{seq}, 'the new admission after the gap');
    ok(!grep({ $_->{event} eq 'publish.accept' && $_->{host} eq 'hn' } @r),
       'no admission was recorded for the refused publishes');
    umount_all();
}
--- no_error_log
[alert]


=== TEST 10: on_error=continue: sessions are admitted while the disk is full; the loss is counted and recorded
--- workers: 2
--- rtmp_config eval: tmpfs_conf('fs10', '64k', 'node=edge-f on_error=continue')
--- post_check eval
sub {
    my ($mp, $dir) = tmpfs_dirs('fs10') or return;

    ok(started($dir), 'audit.start is written');
    my $filler = fill($mp);

    # use up the last page of the segment: refusals until one cannot be
    # written; where the audit.gap that notes it (a shorter record) still
    # fits in what is left, again after it
    my $e0 = metrics()->{compliance_audit_write_errors_total};
    my $tries = 0;
    while ($tries++ < 30) {
        my $n = line_count($dir);
        once('publish', 'live/fill');
        next if line_count($dir) > $n;
        last unless wait_for(sub { line_count($dir) > $n }, 1);
    }
    my $errs = metrics()->{compliance_audit_write_errors_total};
    cmp_ok($errs, '>', $e0, "the log is full after $tries refusals");
    my $n0 = line_count($dir);

    my ($rc, $out) = once('publish', stream('c1', sub => 'h1', pid => 'p1'));
    is($rc, 0, 'a publish is admitted while records cannot be written');
    like($out, qr/NetStream\.Publish\.Start/, 'started');
    ($rc, $out) = once('play', 'live/c1');
    is($rc, 0, 'a play is admitted too');
    unlike($out, qr/audit_unavailable/, 'no audit_unavailable');
    is(line_count($dir), $n0, 'nothing was written');
    my $m = metrics();
    cmp_ok($m->{compliance_audit_write_errors_total}, '>=', $errs + 4,
           'the failed writes are counted (accept and end of each)');
    is($m->{compliance_audit_available}, 0, 'compliance_audit_available 0');
    like(error_log_text(), qr/\[crit\] .*compliance_audit_log: writing ".*" failed/,
         'the failed write is logged at crit');

    unlink $filler;
    ok(wait_records($dir, sub { grep { $_->{event} eq 'audit.gap' } @_ }, 5),
       'audit.gap once the disk has space');
    ok(wait_for(sub { metrics()->{compliance_audit_available} == 1 }, 3),
       'compliance_audit_available 1');
    ok(stop_nginx(), 'nginx stops');

    my @r = verified($dir, 'after the outage');
    my $g = (grep { $_->{event} eq 'audit.gap' } @r)[-1];
    cmp_ok($g->{lost}, '>=', 5, "the gap counts the lost records");
    is($g->{lost}, 5, 'lost is the 5 events not recorded: the last '
                      . 'refusal, two accepts, two ends');
    ok(!grep({ $_->{event} eq 'publish.accept' && $_->{host} eq 'h1' } @r),
       'the admission during the outage is not in the log (it was lost)');
    umount_all();
}
--- no_error_log
[alert]


=== TEST 11: fsync=always: a worker killed with SIGKILL loses no acknowledged admission
--- workers: 4
--- rtmp_config eval: rtmp_conf('audit11', 'node=edge-g fsync=always')
--- post_check eval
sub {
    my $dir = audit_dir('audit11');
    my @streams = map { stream("k$_", sub => "kh$_", pid => "kp$_") } 1 .. 12;
    my @runs = map { start_client('publish', $_, '--duration', 20000) } @streams;
    ok(wait_for(sub { !grep { client_output($_) !~ /NetStream\.Publish\.Start/ } @runs }, 15),
       'the 12 publishers are admitted (NetStream.Publish.Start)');

    my @s = @{sessions()};
    my %by;
    push @{$by{$_->{worker}}}, $_ for @s;
    my ($victim) = sort { @{$by{$b}} <=> @{$by{$a}} } keys %by;
    my @gone = map { $_->{host} } @{$by{$victim}};
    Test::More::note("worker $victim holds @gone");

    # the master first, so that it does not log (or replace) the worker
    my $master = nginx_pid();
    my @others = grep { $_ != $victim } worker_pids();
    kill 'KILL', $master;
    ok(wait_for(sub { !kill 0, $master }, 5), 'the master is gone');
    kill 'KILL', $victim;
    ok(wait_for(sub { !-e "/proc/$victim" || slurp("/proc/$victim/stat") =~ /\) Z /}, 5),
       "worker $victim killed with SIGKILL");

    my @r = records($dir);
    my %acc = map { $_->{host} => 1 } grep { $_->{event} eq 'publish.accept' } @r;
    is_deeply([sort grep { !$acc{$_} } map { "kh$_" } 1 .. 12], [],
              'every acknowledged publisher has its publish.accept');

    # the other workers end their sessions on record
    stop_client($_) for @runs;
    wait_client($_, 10) for @runs;
    kill 'QUIT', @others;
    ok(wait_for(sub { !grep { -e "/proc/$_" && slurp("/proc/$_/stat") !~ /\) Z / } @others }, 15),
       'the other workers exit');

    ok(start_nginx(), 'nginx starts again');
    ok(wait_records($dir, sub { grep({ $_->{event} eq 'audit.start' } @_) == 2 }),
       'audit.start');
    @r = verified($dir, 'after SIGKILL');
    my %end = map { $_->{host} => $_ } grep { $_->{event} eq 'session.end' } @r;
    my %g = map { $_ => 1 } @gone;
    is_deeply([sort keys %end], [sort grep { !$g{$_} } map { "kh$_" } 1 .. 12],
              'a session.end for every session but those of the killed worker');
    is($r[-1]{event}, 'audit.start', 'the chain goes on with audit.start');
}
--- no_error_log
[crit]



=== TEST 12: stream names that are not UTF-8, or hold quotes and control bytes, are recorded as valid JSON
--- rtmp_config eval: rtmp_conf('audit12', 'fsync=always')
--- post_check eval
sub {
    my $dir = audit_dir('audit12');
    my $name = "r\xff\x01\"q\\\xc3\x28\xe2\x82\xac";

    my ($rc, $out) = once('publish', "live/$name");
    like($out, qr/Publish\.Rejected token_missing/, 'the publish is refused');
    ok(wait_records($dir, sub { grep({ $_->{event} eq 'publish.reject' } @_) }),
       'and recorded');
    my @r = verified($dir, 'with the odd name');
    my ($rej) = grep { $_->{event} eq 'publish.reject' } @r;
    is($rej->{room}, "r\x{fffd}\x{1}\"q\\\x{fffd}(\x{20ac}",
       'bytes that are not UTF-8 are U+FFFD, the rest is kept');
    is($rej->{reason}, 'token_missing', 'with its reason');
    unlike(error_log_text(), qr/was not audited/, 'nothing went unaudited');
}
--- no_error_log
[crit]
