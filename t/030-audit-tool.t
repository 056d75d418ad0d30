# The audit tool (build/compliance-audit) against synthetic audit logs.
#
# The logs are written by a Perl implementation of the format of
# docs/audit.md (AuditWriter below), independent of the C tool, so the two
# check each other: verify must accept what this writer writes, find each
# kind of tampering at the right SEGMENT:LINE with its own message, answer
# queries, prune only what the retention allows, seal excerpts, and never
# crash on hostile files.
#
#   prove -v t/030-audit-tool.t
#   AUDIT_TOOL=path/to/binary prove t/030-audit-tool.t   (e.g. an ASan build)
#   AUDIT_SPEED_RECORDS=0 prove t/030-audit-tool.t       (skip the speed run;
#   the default runs 100,000 records, docs/audit.md used 1,000,000)

use strict;
use warnings;
use utf8;

use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Copy qw(copy);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

binmode Test::More->builder->$_, ':encoding(UTF-8)'
    for qw(output failure_output todo_output);

my $TOOL = $ENV{AUDIT_TOOL} || 'build/compliance-audit';
my $SRC = 'scripts/compliance-audit.c';
my $TMP = tempdir('audit-tool-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $JSON = JSON::PP->new->utf8->canonical;

build_tool() unless $ENV{AUDIT_TOOL};


# ----------------------------------------------------------------------
# the writer

package AuditWriter {
    use Digest::SHA qw(sha256_hex);

    # the types of the fields of docs/audit.md; everything else is a string
    my %INT = map { $_ => 1 } qw(pid recovered_bytes duration_ms bytes_in
                                  bytes_out until size lost);
    my %BOOL = map { $_ => 1 } qw(ai);
    my $STR = JSON::PP->new->utf8->allow_nonref;

    sub new {
        my ($class, %a) = @_;
        return bless {
            dir    => $a{dir},
            node   => $a{node} // 'ingest-bj-01',
            rotate => $a{rotate} // 'daily',
            seq    => $a{seq} // 1,
            prev   => $a{prev} // ('0' x 64),
            lines  => {},           # segment name => [ lines ]
            order  => [],           # segment names as first written
            recs   => [],           # { seq ts event seg line text }
        }, $class;
    }

    sub ts_text {
        my ($ms) = @_;
        my @t = gmtime(int($ms / 1000));
        return sprintf('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', $t[5] + 1900,
                       $t[4] + 1, $t[3], $t[2], $t[1], $t[0], $ms % 1000);
    }

    sub segment {
        my ($self, $ms) = @_;
        my @t = gmtime(int($ms / 1000));
        return sprintf('audit-%04d%02d%02d%s.jsonl', $t[5] + 1900, $t[4] + 1,
                       $t[3], $self->{rotate} eq 'hourly'
                              ? sprintf('T%02d', $t[2]) : '');
    }

    sub value {
        my ($k, $v) = @_;
        return 'null' unless defined $v;
        return $v ? 'true' : 'false' if $BOOL{$k};
        return sprintf('%d', $v) if $INT{$k};
        return $STR->encode("$v");
    }

    # the line of a record, given its fields in order (a list of pairs)
    sub line {
        my ($self, $ms, $event, @kv) = @_;
        my $body = '{"seq":' . $self->{seq} . ',"ts":"' . ts_text($ms)
                 . '","event":' . $STR->encode($event)
                 . ',"node":' . $STR->encode($self->{node});
        while (@kv) {
            my ($k, $v) = splice @kv, 0, 2;
            $body .= ',' . $STR->encode($k) . ':' . value($k, $v);
        }
        $body .= ',"prev":"' . $self->{prev} . '"';
        my $hash = sha256_hex($body . '}');
        return ($body . ',"hash":"' . $hash . '"}', $hash);
    }

    sub add {
        my ($self, $ms, $event, @kv) = @_;
        my ($line, $hash) = $self->line($ms, $event, @kv);
        $self->append($ms, $line, $hash, $event);
        return $line;
    }

    # a line made elsewhere (hostile tests), chained as given
    sub append {
        my ($self, $ms, $line, $hash, $event) = @_;
        my $seg = $self->segment($ms);
        push @{ $self->{order} }, $seg unless $self->{lines}{$seg};
        push @{ $self->{lines}{$seg} }, $line;
        open my $fh, '>>:raw', "$self->{dir}/$seg" or die "$seg: $!";
        print $fh $line, "\n";
        close $fh or die;
        push @{ $self->{recs} }, { seq => $self->{seq}, ts => $ms,
                                   event => $event, seg => $seg,
                                   line => scalar @{ $self->{lines}{$seg} },
                                   text => $line, hash => $hash };
        $self->{seq}++;
        $self->{prev} = $hash;
    }
}


# ----------------------------------------------------------------------
# helpers

sub build_tool {
    return if -x $TOOL && -M $TOOL <= -M $SRC;
    mkdir 'build';
    my $cmd = "cc -O2 -g -Wall -Wextra -Werror -o $TOOL $SRC "
            . "-ljansson -lcrypto";
    system($cmd) == 0 or BAIL_OUT("cannot build $TOOL: $cmd");
}

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or return undef;
    local $/;
    my $s = <$fh>;
    return $s // '';
}

sub spew {
    my ($path, $data) = @_;
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $data;
    close $fh or die;
}

sub lines_of { return split /(?<=\n)/, slurp($_[0]) }

# runs the tool: { exit, signal, out, err, secs }; never hangs
sub run {
    my (@args) = @_;
    my %o = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    my $timeout = $o{timeout} // 120;
    my ($out, $err) = ("$TMP/stdout", "$TMP/stderr");
    my $t0 = Time::HiRes::time();
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        exec($TOOL, @args) or POSIX::_exit(127);
    }
    my $status;
    while (1) {
        my $w = waitpid($pid, POSIX::WNOHANG());
        if ($w == $pid) { $status = $?; last }
        if (Time::HiRes::time() - $t0 > $timeout) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $status = -1;
            last;
        }
        Time::HiRes::sleep(0.01);
    }
    my $r = { exit => $status == -1 ? -1 : $status >> 8,
              signal => $status == -1 ? 'timeout' : $status & 127,
              out => slurp($out), err => slurp($err),
              secs => Time::HiRes::time() - $t0 };
    utf8::decode($r->{out});
    utf8::decode($r->{err});
    return $r;
}

# the tool ran to an end of its own with the exit code wanted
sub exits {
    my ($r, $code, $name) = @_;
    my $ok = ok(!$r->{signal} && $r->{exit} == $code,
                "$name: exit $code");
    diag("exit $r->{exit} signal $r->{signal}\nstdout: $r->{out}\n"
         . "stderr: $r->{err}") unless $ok;
    return $ok;
}

sub copy_dir {
    my ($from, $to) = @_;
    remove_tree($to);
    make_path($to);
    opendir my $d, $from or die;
    for my $f (grep { -f "$from/$_" } readdir $d) {
        copy("$from/$f", "$to/$f") or die;
    }
    return $to;
}

sub set_line {
    my ($path, $n, $text) = @_;     # $text undef: delete line n (1-based)
    my @l = lines_of($path);
    if (defined $text) { $l[$n - 1] = $text } else { splice @l, $n - 1, 1 }
    spew($path, join '', @l);
}

sub ms { my ($s) = @_; return timegm_text($s) * 1000 }

sub timegm_text {
    my ($s) = @_;
    my ($y, $mo, $d, $h, $mi, $se) =
        $s =~ /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d):(\d\d)(?::(\d\d))?)?/
        or die "bad time $s";
    local $ENV{TZ} = 'UTC';
    POSIX::tzset();
    my $t = POSIX::mktime($se // 0, $mi // 0, $h // 0, $d, $mo - 1,
                          $y - 1900);
    return $t;
}

my $hexn = 0;
sub hex_id { my ($n) = @_; return substr(sha256_hex('id' . $hexn++), 0, $n) }


# a realistic session: the fields the module logs, realistic lengths

my %person;

sub subjects {
    my ($host) = @_;
    $person{$host} //= hex_id(32);
    return (host => $host, person => $person{$host},
            op => 'op_' . (100000 + length $host), mcn => 'mcn_20881',
            tier => 'verified', ai => 0, idv => 'face+id2',
            jti => hex_id(16), kid => '2026a',
            token => 'sha256:' . hex_id(12));
}

sub publish {
    my ($w, $ms, $sess, $room, $host, %x) = @_;
    my %s = subjects($host);
    return $w->add($ms, 'publish.accept', session => $sess, app => 'live',
                   room => $room, host => $host, person => $s{person},
                   op => $s{op}, mcn => $s{mcn}, tier => $x{tier} // 'verified',
                   ai => $x{ai} // 0, idv => $s{idv}, jti => $s{jti},
                   kid => $s{kid}, token => $s{token},
                   addr => $x{addr} // '203.0.113.45:51234');
}

sub play {
    my ($w, $ms, $sess, $room, %x) = @_;
    return $w->add($ms, 'play.accept', session => $sess, app => 'live',
                   room => $room, host => $x{host}, tier => 'verified',
                   addr => $x{addr} // '198.51.100.23:60412');
}

sub end {
    my ($w, $ms, $sess, $kind, $room, $host, $dur, %x) = @_;
    my %s = $host ? subjects($host) : ();
    return $w->add($ms, 'session.end', session => $sess, kind => $kind,
                   app => 'live', room => $room, host => $host,
                   person => $s{person},
                   addr => $x{addr} // ($kind eq 'publish'
                                        ? '203.0.113.45:51234'
                                        : '198.51.100.23:60412'),
                   duration_ms => $dur,
                   bytes_in => $kind eq 'publish' ? int($dur * 312.5) : 0,
                   bytes_out => $kind eq 'play' ? int($dur * 312.5) : 0,
                   why => $x{why} // 'closed');
}

sub reject {
    my ($w, $ms, $event, $sess, $room, $host, $reason, $detail) = @_;
    my %s = $host ? subjects($host) : ();
    return $w->add($ms, $event, session => $sess, app => 'live',
                   room => $room, host => $host, person => $s{person},
                   reason => $reason, detail => $detail,
                   addr => '192.0.2.77:40000');
}


# the reference log: three days, every event, one restart, one gap

sub make_log {
    my ($dir, %a) = @_;
    make_path($dir);
    my $w = AuditWriter->new(dir => $dir, %a);
    my $d1 = ms('2026-02-01');
    my $d2 = ms('2026-02-02');
    my $d3 = ms('2026-02-03');
    my $H = 3_600_000;

    $w->add($d1 + 5_000, 'audit.start', pid => 4321);
    publish($w, $d1 + 10 * $H, 's1', 'room1', 'h1');
    play($w, $d1 + 10 * $H + 30_000, 'v1', 'room1');
    reject($w, $d1 + 10 * $H + 300_000, 'play.reject', 'v2', 'room1', undef,
           'viewer_limit', 'room1 has 100 viewers, the tier allows 100');
    end($w, $d1 + 10.5 * $H, 'v1', 'play', 'room1', undef, 1_770_000);
    end($w, $d1 + 11 * $H, 's1', 'publish', 'room1', 'h1', 3_600_000);
    reject($w, $d1 + 12 * $H, 'publish.reject', 's2', 'room2', 'h2',
           'token_expired', 'token expired 3600 s ago');
    $w->add($d1 + 13 * $H, 'order.create', order => 'o1',
            target => 'person:' . $person{h2}, action => 'ban', until => undef,
            reason => 'fraud', ref => 'case-2026-001', tier => undef);
    publish($w, $d1 + 14 * $H, 's3', '直播间88', 'h3');
    $w->add($d1 + 14 * $H + 600_000, 'warn.sent', session => 's3',
            room => '直播间88', order => 'o2');
    end($w, $d1 + 15 * $H, 's3', 'publish', '直播间88', 'h3', 3_600_000,
        why => 'suspended');
    $w->add($d1 + 15 * $H + 1_000, 'record.done', session => 's3',
            app => 'live', room => '直播间88',
            path => '/var/rec/live/直播间88-1769958000.flv',
            size => 1_125_000_000, sha256 => hex_id(64));

    publish($w, $d2 + 9 * $H, 's4', 'room1', 'h1');
    for my $v (1 .. 4) {
        play($w, $d2 + 9 * $H + $v * 60_000, "v1$v", 'room1');
    }
    for my $v (1 .. 4) {
        end($w, $d2 + 10 * $H + $v * 1_000, "v1$v", 'play', 'room1', undef,
            3_540_000);
    }
    end($w, $d2 + 10 * $H + 10_000, 's4', 'publish', 'room1', 'h1',
        3_610_000);
    $w->add($d2 + 12 * $H, 'audit.gap', lost => 3);
    $w->add($d2 + 13 * $H, 'order.create', order => 'o3',
            target => 'room:room3', action => 'restrict',
            until => int(($d3 + 12 * $H) / 1000), reason => 'bitrate',
            ref => 'case-2026-007', tier => 'low');
    publish($w, $d2 + 20 * $H, 's5', 'room3', 'h4', ai => 1,
            tier => 'low');

    $w->add($d3 + 1_000, 'audit.start', pid => 4400,
            recovered_bytes => 117);
    end($w, $d3 + 8 * $H, 's5', 'publish', 'room3', 'h4', 43_200_000,
        why => 'duration_limit');
    publish($w, $d3 + 10 * $H, 's6', 'room1', 'h5');
    end($w, $d3 + 11 * $H, 's6', 'publish', 'room1', 'h5', 3_600_000,
        why => 'operator_drop');
    $w->add($d3 + 12 * $H, 'order.expire', order => 'o3',
            target => 'room:room3', action => 'restrict', until => undef,
            reason => 'bitrate', ref => 'case-2026-007', tier => 'low');
    $w->add($d3 + 12 * $H + 1, 'order.lift', order => 'o1',
            target => 'person:' . $person{h2}, action => 'ban',
            until => undef, reason => 'appeal granted', ref => 'appeal-12',
            tier => undef);
    return $w;
}

sub recs_where {
    my ($w, $f) = @_;
    return grep { $f->($_) } @{ $w->{recs} };
}


# ======================================================================

my $clean = "$TMP/clean";
my $W = make_log($clean);
my @SEGS = @{ $W->{order} };
my $NREC = @{ $W->{recs} };
is_deeply(\@SEGS, [qw(audit-20260201.jsonl audit-20260202.jsonl
                      audit-20260203.jsonl)], 'three daily segments');
spew("$clean/notes.txt", "not a segment\n");
spew("$clean/audit-20260101.jsonl.bak", "garbage\n");


subtest 'usage' => sub {
    exits(run(), 2, 'no command');
    exits(run('frobnicate'), 2, 'unknown command');
    exits(run('verify'), 2, 'verify without DIR');
    exits(run('verify', $clean, '--bogus'), 2, 'unknown option');
    exits(run('verify', $clean, 'extra'), 2, 'extra argument');
    exits(run('query', $clean), 2, 'query without a subject');
    exits(run('query', $clean, '--room', 'a', '--room', 'b'), 2,
          'duplicate option');
    exits(run('query', $clean, '--room', 'a', '--from', '2026-13-01'), 2,
          'bad time');
    exits(run('query', $clean, '--room', 'a', '--from', '2026-02-02',
              '--to', '2026-02-01'), 2, 'from after to');
    exits(run('query', $clean, '--room', 'a', '--from', '20260201'), 2,
          'a date without dashes is no epoch');
    my $r = run('--help');
    exits($r, 0, '--help');
    like($r->{out}, qr/verify DIR.*query DIR.*prune DIR.*seal DIR/s,
         '--help lists the commands');
    exits(run('verify', "$TMP/nonexistent"), 2, 'no such directory');
};


subtest 'verify: a clean chain' => sub {
    my $r = run('verify', $clean);
    exits($r, 0, 'clean');
    like($r->{out}, qr/^segments: +3 \(audit-20260201\.jsonl \.\. audit-20260203\.jsonl\)$/m,
         'segments');
    like($r->{out}, qr/^records: +$NREC \(seq 1 \.\. $NREC\)$/m, 'records');
    like($r->{out}, qr/^first: +2026-02-01T00:00:05\.000Z$/m, 'first ts');
    like($r->{out}, qr/^last: +2026-02-03T12:00:00\.001Z$/m, 'last ts');
    like($r->{out}, qr/^final hash: $W->{prev}$/m, 'final hash');
    like($r->{out}, qr/^anchor: .*seq 1/m, 'starts at seq 1');
    like($r->{out}, qr/publish\.accept 5, /, 'event counts');
    like($r->{out}, qr/1 audit\.gap record.*3 event/, 'the gap is told');
    like($r->{out}, qr/1 restart.*117 bytes/, 'the recovery is told');
    like($r->{out}, qr/records\/s/, 'speed');
    is($r->{err}, '', 'nothing on stderr');

    $r = run('verify', "$clean/", '--quiet');
    exits($r, 0, '--quiet');
    is($r->{out} . $r->{err}, '', '--quiet prints nothing');

    # hourly rotation, and a restart of a chain (seq continues)
    my $w = make_log("$TMP/hourly", rotate => 'hourly');
    ok(@{ $w->{order} } > 10, scalar(@{ $w->{order} }) . ' hourly segments');
    exits(run('verify', "$TMP/hourly"), 0, 'hourly segments');

    # a daily segment followed by hourly ones (rotate changed at restart)
    my $m = "$TMP/mixed";
    make_path($m);
    my $wd = AuditWriter->new(dir => $m);
    $wd->add(ms('2026-03-01T01:00'), 'audit.start', pid => 1);
    $wd->add(ms('2026-03-01T02:00'), 'audit.start', pid => 2);
    $wd->{rotate} = 'hourly';
    $wd->add(ms('2026-03-01T03:00'), 'audit.start', pid => 3);
    exits(run('verify', $m), 0, 'daily then hourly');
};


subtest 'verify: tampering' => sub {
    my $seg2 = "audit-20260202.jsonl";
    my @r2 = recs_where($W, sub { $_[0]{seg} eq $seg2 });
    my $n2 = @r2;
    my $dir;

    # one byte of a field
    $dir = copy_dir($clean, "$TMP/t-edit");
    my $l = $r2[2]{text};
    (my $e = $l) =~ s/"room":"room1"/"room":"room7"/ or die;
    set_line("$dir/$seg2", 3, "$e\n");
    my $r = run('verify', $dir);
    exits($r, 1, 'edited');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:3: edited: hash mismatch/m,
         'edited: at SEGMENT:LINE');
    like($r->{err}, qr/whole up to seq $r2[1]{seq}/, 'tells the last good');

    # the hash itself
    $dir = copy_dir($clean, "$TMP/t-edit-hash");
    ($e = $l) =~ s/"hash":"(.)/'"hash":"' . ($1 eq 'a' ? 'b' : 'a')/e;
    set_line("$dir/$seg2", 3, "$e\n");
    $r = run('verify', $dir);
    exits($r, 1, 'edited hash');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:3: edited:/m, 'edited hash: where');

    # an edit that breaks the JSON is still an edit
    $dir = copy_dir($clean, "$TMP/t-edit-json");
    ($e = $l) =~ s/"app":"live"/"app":"live\x01/ or die;
    set_line("$dir/$seg2", 3, "$e\n");
    $r = run('verify', $dir);
    like($r->{err}, qr/^\Q$dir\/$seg2\E:3: edited:/m,
         'a byte that breaks the JSON: edited');

    # a line deleted
    $dir = copy_dir($clean, "$TMP/t-delete");
    set_line("$dir/$seg2", 4, undef);
    $r = run('verify', $dir);
    exits($r, 1, 'deleted');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:4: deleted: expected seq $r2[3]{seq}, found seq $r2[4]{seq}: 1 record\(s\) missing$/m,
         'deleted: message');

    # two lines swapped
    $dir = copy_dir($clean, "$TMP/t-swap");
    set_line("$dir/$seg2", 5, "$r2[5]{text}\n");
    set_line("$dir/$seg2", 6, "$r2[4]{text}\n");
    $r = run('verify', $dir);
    exits($r, 1, 'swapped');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:5: reordered: expected seq $r2[4]{seq}, found seq $r2[5]{seq}; seq $r2[4]{seq} is further on, at \Q$dir\/$seg2\E:6$/m,
         'swapped: message');

    # a line moved back (or replayed)
    $dir = copy_dir($clean, "$TMP/t-replay");
    set_line("$dir/$seg2", 6, "$r2[4]{text}\n$r2[5]{text}\n");
    $r = run('verify', $dir);
    exits($r, 1, 'replayed');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:6: reordered: expected seq $r2[5]{seq}, found seq $r2[4]{seq}, which comes earlier/m,
         'replayed: message');

    # the tail cut inside the last record
    my $seg3 = "audit-20260203.jsonl";
    my @l3 = lines_of("$clean/$seg3");
    $dir = copy_dir($clean, "$TMP/t-trunc");
    spew("$dir/$seg3", join('', @l3[0 .. $#l3 - 1])
                       . substr($l3[-1], 0, 100));
    $r = run('verify', $dir);
    exits($r, 1, 'truncated');
    like($r->{err}, qr/^\Q$dir\/$seg3\E:${\ scalar @l3}: truncated: the last line has no newline \(100 bytes; a partial record\)/m,
         'truncated: message');

    # only the final newline missing
    $dir = copy_dir($clean, "$TMP/t-trunc-nl");
    spew("$dir/$seg3", substr(slurp("$clean/$seg3"), 0, -1));
    $r = run('verify', $dir);
    like($r->{err}, qr/:${\ scalar @l3}: truncated: .*a whole record, not terminated/,
         'no final newline: truncated');

    # a record cut short, then a newline
    $dir = copy_dir($clean, "$TMP/t-cut");
    set_line("$dir/$seg2", 2, substr($r2[1]{text}, 0, 60) . "\n");
    $r = run('verify', $dir);
    exits($r, 1, 'cut JSON');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:2: truncated: the JSON is cut short/m,
         'cut JSON: message');

    # a whole middle segment deleted
    $dir = copy_dir($clean, "$TMP/t-segment");
    unlink "$dir/$seg2" or die;
    my @r1 = recs_where($W, sub { $_[0]{seg} eq 'audit-20260201.jsonl' });
    $r = run('verify', $dir);
    exits($r, 1, 'segment deleted');
    like($r->{err}, qr/^\Q$dir\/$seg3\E:1: deleted: expected seq ${\ ($r1[-1]{seq} + 1)}, found seq ${\ ($r2[-1]{seq} + 1)} at the start of the segment; audit-20260201\.jsonl ends at seq $r1[-1]{seq}: $n2 record\(s\) missing between the segments/m,
         'segment deleted: message');

    # one record replaced by a rehashed forgery: the next one's prev breaks
    $dir = copy_dir($clean, "$TMP/t-forge");
    my $f = AuditWriter->new(dir => "$TMP/scratch", seq => $r2[2]{seq},
                             prev => $r2[1]{hash});
    make_path("$TMP/scratch");
    my ($forged) = $f->line($r2[2]{ts}, 'play.accept', session => 'vX',
                            app => 'live', room => 'room9');
    set_line("$dir/$seg2", 3, "$forged\n");
    $r = run('verify', $dir);
    exits($r, 1, 'forged record');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:4: chain broken: seq $r2[3]{seq} has prev/m,
         'forged record: the chain breaks at the next one');

    # a garbage line in the middle
    $dir = copy_dir($clean, "$TMP/t-garbage");
    set_line("$dir/$seg2", 2, "hello world\n");
    $r = run('verify', $dir);
    exits($r, 1, 'garbage line');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:2: not JSON: /m, 'not JSON');

    # a well-hashed record without ts
    $dir = copy_dir($clean, "$TMP/t-missing");
    my $body = '{"seq":' . $r2[1]{seq} . ',"event":"play.accept","node":"x",'
             . '"prev":"' . $r2[0]{hash} . '"';
    set_line("$dir/$seg2", 2,
             $body . ',"hash":"' . sha256_hex("$body}") . "\"}\n");
    $r = run('verify', $dir);
    exits($r, 1, 'missing field');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:2: missing fields: "ts"$/m,
         'missing fields');

    # fields out of order (well hashed)
    $body = '{"ts":"2026-02-02T09:00:00.000Z","seq":' . $r2[1]{seq}
          . ',"event":"a","node":"x","prev":"' . $r2[0]{hash} . '"';
    set_line("$dir/$seg2", 2,
             $body . ',"hash":"' . sha256_hex("$body}") . "\"}\n");
    $r = run('verify', $dir);
    like($r->{err}, qr/:2: missing fields: not in the writer's layout/,
         'out of order: layout');

    # a bad ts
    $body = '{"seq":' . $r2[1]{seq} . ',"ts":"2026-02-30T09:00:00.000Z",'
          . '"event":"a","node":"x","prev":"' . $r2[0]{hash} . '"';
    set_line("$dir/$seg2", 2,
             $body . ',"hash":"' . sha256_hex("$body}") . "\"}\n");
    $r = run('verify', $dir);
    like($r->{err}, qr/:2: bad field: "ts"/, 'bad ts');

    # CRLF line ends
    $dir = copy_dir($clean, "$TMP/t-crlf");
    (my $crlf = slurp("$clean/$seg2")) =~ s/\n/\r\n/g;
    spew("$dir/$seg2", $crlf);
    $r = run('verify', $dir);
    exits($r, 1, 'CRLF');
    like($r->{err}, qr/^\Q$dir\/$seg2\E:1: missing fields: not in the writer's layout/m,
         'CRLF: layout');

    # the first record of all removed, with no prune.log: a warning
    $dir = copy_dir($clean, "$TMP/t-head");
    set_line("$dir/audit-20260201.jsonl", 1, undef);
    $r = run('verify', $dir);
    exits($r, 0, 'head cut: the chain alone cannot tell');
    like($r->{out}, qr/chain starts at seq 2 after pruned segments, prev $W->{recs}[0]{hash}/,
         'the anchor is reported');
    like($r->{out}, qr/^warning: +there is no prune\.log.*records 1 \.\. 1 are missing/m,
         'and warned about: no prune.log');
};


subtest 'query' => sub {
    my $r = run('query', $clean, '--room', 'room1');
    exits($r, 0, 'room1');
    my @want = recs_where($W, sub {
        $_[0]{text} =~ /"room":"room1"/
        && $_[0]{event} =~ /^(publish|play)\.(accept|reject)$|^session\.end$/
    });
    like($r->{out}, qr/^TS +EVENT +APP\/ROOM +HOST +PERSON +ADDR +SESSION +EXTRA$/m,
         'table header');
    like($r->{out}, qr/^${\ scalar @want} record\(s\); 3 of 3 segment\(s\) opened$/m,
         scalar(@want) . ' records');
    like($r->{out}, qr/^2026-02-01T10:00:00\.000Z +publish\.accept +live\/room1 +h1 +[0-9a-f]{32} +203\.0\.113\.45:51234 +s1 +tier=verified$/m,
         'an accept row');
    like($r->{out}, qr/^2026-02-01T10:05:00\.000Z +play\.reject +live\/room1 +- +- +192\.0\.2\.77:40000 +v2 +viewer_limit: room1 has 100 viewers/m,
         'a reject row with its reason');
    like($r->{out}, qr/^2026-02-01T11:00:00\.000Z +session\.end +live\/room1 +h1 .* s1 +publish 3600\.000s closed in=1125000000 out=0$/m,
         'an end row with its duration');

    # --json: the log's own bytes
    $r = run('query', $clean, '--room', 'room1', '--json');
    exits($r, 0, '--json');
    my $out = $r->{out};
    utf8::encode($out);
    is($out, join('', map { "$_->{text}\n" } @want),
       '--json lines are byte-identical to the log');

    # a time range inside one segment: only that segment is opened
    $r = run('query', $clean, '--room', 'room1', '--from',
             '2026-02-02T09:00', '--to', '2026-02-02T09:02Z');
    exits($r, 0, 'range');
    like($r->{out}, qr/^3 record\(s\); 1 of 3 segment\(s\) opened$/m,
         'range: 3 records, one segment opened');

    my $dir = copy_dir($clean, "$TMP/q-garbage");
    spew("$dir/audit-20260201.jsonl", "\x00\xff garbage\n" x 3);
    $r = run('query', $dir, '--room', 'room1', '--from', '2026-02-02',
             '--to', '2026-02-03');
    exits($r, 0, 'a damaged segment outside the range is not opened');
    is($r->{err}, '', 'no warning');
    $r = run('query', $dir, '--room', 'room1');
    exits($r, 1, 'a damaged segment inside the range');
    like($r->{err}, qr/audit-20260201\.jsonl:1: skipped: not JSON/,
         'is reported');

    # across segments, epoch seconds
    my $from = ms('2026-02-01T14:00') / 1000;
    my $to = ms('2026-02-02T09:01') / 1000;
    $r = run('query', $clean, '--room', 'room1', '--from', $from, '--to', $to,
             '--json');
    my @got = map { $JSON->decode($_)->{seq} } split /\n/, $r->{out};
    my @exp = map { $_->{seq} } grep {
        $_->{ts} >= $from * 1000 && $_->{ts} < ($to + 1) * 1000
    } @want;
    is_deeply(\@got, \@exp, 'across segments, epoch seconds: seq '
                            . join(',', @exp));

    # whole days: --to covers the day it names
    $r = run('query', $clean, '--room', 'room1', '--from', '2026-02-02',
             '--to', '2026-02-02', '--json');
    is(scalar(split /\n/, $r->{out}),
       scalar(grep { $_->{seg} eq 'audit-20260202.jsonl' } @want),
       '--to DAY covers that day');

    # --event
    $r = run('query', $clean, '--room', 'room1', '--event',
             'publish.accept,session.end', '--json');
    my @ev = map { $JSON->decode($_)->{event} } split /\n/, $r->{out};
    ok(@ev && !grep({ !/^(publish\.accept|session\.end)$/ } @ev),
       '--event filters: ' . scalar(@ev));
    exits(run('query', $clean, '--room', 'room1', '--event', 'publish'), 2,
          'unknown event');

    # orders targeting a room come with --event
    $r = run('query', $clean, '--room', 'room3', '--event', 'all', '--json');
    @ev = map { $JSON->decode($_)->{event} } split /\n/, $r->{out};
    is_deeply(\@ev, [qw(order.create publish.accept session.end
                        order.expire)],
              'room3, all events: orders by target too');

    # a person across accounts
    $r = run('query', $clean, '--person', $person{h1}, '--json');
    @got = map { $JSON->decode($_)->{session} } split /\n/, $r->{out};
    is_deeply(\@got, [qw(s1 s1 s4 s4)], '--person without --room');

    # --host, --app
    $r = run('query', $clean, '--room', 'room1', '--host', 'h5', '--app',
             'live', '--json');
    is(scalar(split /\n/, $r->{out}), 2, '--host and --app');

    # UTF-8 room names
    $r = run('query', $clean, '--room', '直播间88');
    like($r->{out}, qr/^2026-02-01T14:00:00\.000Z +publish\.accept +live\/直播间88 +h3 /m,
         'a Chinese room name');

    # nothing found is not an error
    $r = run('query', $clean, '--room', 'nobody');
    exits($r, 0, 'no match');
    like($r->{out}, qr/^0 record\(s\)/m, 'no match: 0 records');

    # hourly segments: only the hours of the range are opened
    $r = run('query', "$TMP/hourly", '--room', 'room1', '--from',
             '2026-02-02T09:00', '--to', '2026-02-02T10:59');
    like($r->{out}, qr/^10 record\(s\); 2 of \d+ segment\(s\) opened$/m,
         'hourly: two segments opened');

    # hostile text is escaped on a terminal, kept as is by --json
    $dir = "$TMP/q-escape";
    make_path($dir);
    my $w = AuditWriter->new(dir => $dir);
    publish($w, ms('2026-02-01T10:00'), "s\e[31mred\x{202e}", 'room1', 'h1');
    $r = run('query', $dir, '--room', 'room1');
    unlike($r->{out}, qr/\e/, 'no raw escape reaches the terminal');
    like($r->{out}, qr/s\\x1b\[31mred\\u202e/, 'control characters shown');
    $r = run('query', $dir, '--room', 'room1', '--json');
    like($r->{out}, qr/s\\u001b\[31mred\x{202e}/, '--json keeps the bytes');
    exits(run('verify', $dir), 0, 'escaped strings verify (jansson path)');

    # an edited record is still shown, with a warning
    $dir = copy_dir($clean, "$TMP/q-edited");
    (my $e = $W->{recs}[1]{text}) =~ s/"h1"/"h9"/;
    set_line("$dir/audit-20260201.jsonl", 2, "$e\n");
    $r = run('query', $dir, '--room', 'room1', '--to', '2026-02-01');
    exits($r, 1, 'edited record in a query');
    like($r->{err}, qr/audit-20260201\.jsonl:2: warning: edited/,
         'warned');
    like($r->{out}, qr/publish\.accept +live\/room1 +h9/, 'and shown');
};


subtest 'prune' => sub {
    # 2026-02-01 .. 03, then 2029
    my $dir = "$TMP/prune";
    my $w = make_log($dir);
    $w->add(ms('2029-02-01T10:00'), 'audit.start', pid => 9);
    $w->add(ms('2029-02-05T10:00'), 'audit.start', pid => 10);
    spew("$dir/notes.txt", "keep me\n");
    spew("$dir/audit-20200101.jsonl.gz", "keep me\n");
    spew("$dir/audit-2020010.jsonl", "keep me\n");
    my @all = sort grep { -f } glob("$dir/*");

    my $r = run('prune', $dir, '--retention', '2y');
    exits($r, 2, '--retention 2y');
    like($r->{err}, qr/at least 3 years/, 'refused: at least 3 years');
    exits(run('prune', $dir, '--retention', '1094d'), 2, '1094d refused');
    exits(run('prune', $dir, '--retention', '3x'), 2, 'bad unit');
    exits(run('prune', $dir), 2, 'no retention');
    is_deeply([sort grep { -f } glob("$dir/*")], \@all, 'nothing deleted');

    # exactly 3 years after the end of 2026-02-02: kept ("more than")
    $r = run('prune', $dir, '--retention', '3y', '--now',
             '2029-02-02T00:00:00Z', '--dry-run');
    exits($r, 0, 'dry run at the boundary');
    like($r->{out}, qr/^would prune audit-20260201\.jsonl: seq 1 \.\. 12, 12 record\(s\), last hash $w->{recs}[11]{hash}, period ended 2026-02-02T00:00:00\.000Z$/m,
         'dry run names the segment, seq and last hash');
    unlike($r->{out}, qr/20260202/, 'the boundary segment is kept');
    is_deeply([sort grep { -f } glob("$dir/*")], \@all,
              '--dry-run deletes nothing');
    ok(!-e "$dir/prune.log", '--dry-run writes no prune.log');

    $r = run('prune', $dir, '--retention', '1095d', '--now',
             '2029-02-02T12:00:00Z');
    exits($r, 0, 'prune');
    like($r->{out}, qr/^pruned audit-20260201\.jsonl: seq 1 \.\. 12, .*\npruned audit-20260202\.jsonl: /m,
         'two segments pruned');
    like($r->{out}, qr/^pruned 2 segment\(s\), \d+ bytes; 3 kept/m, 'summary');
    ok(!-e "$dir/audit-20260201.jsonl" && !-e "$dir/audit-20260202.jsonl",
       'old segments deleted');
    ok(-e "$dir/audit-20260203.jsonl", 'a younger segment is kept');
    ok(-e "$dir/notes.txt" && -e "$dir/audit-20200101.jsonl.gz"
       && -e "$dir/audit-2020010.jsonl", 'other files are not touched');

    my @log = map { $JSON->decode($_) } lines_of("$dir/prune.log");
    is(scalar @log, 2, 'prune.log: one line per segment');
    my @r2 = grep { $_->{seg} eq 'audit-20260202.jsonl' } @{ $w->{recs} };
    is_deeply([@{ $log[1] }{qw(segment first_seq last_seq records last_hash)}],
              ['audit-20260202.jsonl', $r2[0]{seq}, $r2[-1]{seq},
               scalar @r2, $r2[-1]{hash}],
              'prune.log: name, first/last seq, records, last hash');

    $r = run('verify', $dir);
    exits($r, 0, 'verify after prune');
    like($r->{out}, qr/^anchor: +chain starts at seq ${\ ($r2[-1]{seq} + 1)} after pruned segments, prev $r2[-1]{hash}$/m,
         'verify reports the anchor');
    like($r->{out}, qr/matches the last pruned record in prune\.log/,
         'and finds it in prune.log');

    # the newest segment is never pruned, however old
    $r = run('prune', $dir, '--retention', '3y', '--now', '2040-01-01');
    exits($r, 0, 'prune far in the future');
    my @left = sort map { s{.*/}{}r } glob("$dir/audit-*.jsonl");
    is_deeply(\@left, ['audit-2020010.jsonl', 'audit-20290205.jsonl'],
              'the newest segment stays');
    is(scalar(lines_of("$dir/prune.log")), 4, 'prune.log has 4 lines');
    exits(run('verify', $dir), 0, 'verify: still whole');

    # nothing to prune
    $r = run('prune', $clean, '--retention', '3y', '--now', '2027-01-01');
    exits($r, 0, 'nothing to prune');
    like($r->{out}, qr/^pruned 0 segment/m, 'says so');
};


subtest 'seal and verify-excerpt' => sub {
    my $out = "$TMP/excerpt-day2.jsonl";
    my $r = run('seal', $clean, '--from', '2026-02-02', '--to', '2026-02-02',
                '--out', $out);
    exits($r, 0, 'seal day 2');
    my @l = lines_of($out);
    my $h = $JSON->decode($l[0]);
    my @r2 = grep { $_->{seg} eq 'audit-20260202.jsonl' } @{ $W->{recs} };
    is_deeply([@$h{qw(sealed_from sealed_to first_seq last_seq prev
                      last_hash records)}],
              ['2026-02-02T00:00:00.000Z', '2026-02-02T23:59:59.999Z',
               $r2[0]{seq}, $r2[-1]{seq}, $W->{recs}[$r2[0]{seq} - 2]{hash},
               $r2[-1]{hash}, scalar @r2], 'the header');
    is(join('', @l[1 .. $#l]), slurp("$clean/audit-20260202.jsonl"),
       'the records, byte for byte');

    $r = run('verify-excerpt', $out);
    exits($r, 0, 'verify-excerpt');
    like($r->{out}, qr/^records: +${\ scalar @r2} \(seq $r2[0]{seq} \.\. $r2[-1]{seq}\)$/m,
         'verify-excerpt summary');

    exits(run('seal', $clean, '--from', '2026-02-02', '--to', '2026-02-02',
              '--out', $out), 2, 'the output exists: refused');

    # across segments
    my $x = "$TMP/excerpt-x.jsonl";
    $r = run('seal', $clean, '--from', '2026-02-01T14:00', '--to',
             '2026-02-02T09:01:00', '--out', $x);
    exits($r, 0, 'seal across segments');
    $h = $JSON->decode((lines_of($x))[0]);
    is($h->{records}, 6, '6 records across two segments');
    exits(run('verify-excerpt', $x), 0, 'verify-excerpt across segments');

    # tampered excerpts
    my $t = "$TMP/excerpt-t.jsonl";
    my @e = @l;
    $e[3] =~ s/"live"/"livf"/;
    spew($t, join '', @e);
    $r = run('verify-excerpt', $t);
    exits($r, 1, 'edited excerpt');
    like($r->{err}, qr/^\Q$t\E:4: edited: /m, 'edited excerpt: where');

    spew($t, join '', @l[0 .. $#l - 1]);
    $r = run('verify-excerpt', $t);
    exits($r, 1, 'excerpt cut at a line');
    like($r->{err}, qr/ends early or does not match its header/,
         'cut excerpt: message');

    spew($t, join '', @l[0, 1, 3 .. $#l]);
    $r = run('verify-excerpt', $t);
    like($r->{err}, qr/^\Q$t\E:3: deleted or reordered: /m,
         'a line deleted from the excerpt');

    (my $hh = $l[0]) =~ s/"prev":"(.)/'"prev":"' . ($1 eq 'a' ? 'b' : 'a')/e;
    spew($t, join '', $hh, @l[1 .. $#l]);
    $r = run('verify-excerpt', $t);
    like($r->{err}, qr/^\Q$t\E:2: chain broken: /m,
         'a header whose prev does not match');

    spew($t, "");
    exits(run('verify-excerpt', $t), 1, 'empty excerpt');
    spew($t, "garbage\n");
    exits(run('verify-excerpt', $t), 1, 'garbage excerpt');

    # nothing in the range; a damaged range
    exits(run('seal', $clean, '--from', '2027-01-01', '--to', '2027-01-02',
              '--out', "$TMP/none"), 1, 'empty range');
    ok(!-e "$TMP/none", 'no file written');

    my $dir = copy_dir($clean, "$TMP/s-damaged");
    set_line("$dir/audit-20260202.jsonl", 4, undef);
    $r = run('seal', $dir, '--from', '2026-02-02', '--to', '2026-02-02',
             '--out', "$TMP/damaged");
    exits($r, 1, 'damaged range refused');
    like($r->{err}, qr/the range is damaged, not sealed: .*audit-20260202\.jsonl:4: deleted or reordered/,
         'and says where');
    ok(!-e "$TMP/damaged", 'no file written');

    # damage after the range: sealed, with a warning
    $dir = copy_dir($clean, "$TMP/s-after");
    my @l2 = lines_of("$dir/audit-20260202.jsonl");
    (my $ed = $l2[9]) =~ s/"live"/"livf"/ or die;
    set_line("$dir/audit-20260202.jsonl", 10, $ed);
    $r = run('seal', $dir, '--from', '2026-02-02T09:00', '--to',
             '2026-02-02T09:02', '--out', "$TMP/after");
    exits($r, 0, 'damage after the range');
    like($r->{err}, qr/warning: damage after the sealed range: .*audit-20260202\.jsonl:10: edited/,
         'is reported');
    exits(run('verify-excerpt', "$TMP/after"), 0, 'the excerpt verifies');

    # damage whose time cannot be read: refused
    set_line("$dir/audit-20260202.jsonl", 10, "garbage\n");
    $r = run('seal', $dir, '--from', '2026-02-02T09:00', '--to',
             '2026-02-02T09:02', '--out', "$TMP/after2");
    exits($r, 1, 'unreadable damage after the range');
    like($r->{err}, qr/the range is damaged, not sealed: .*:10: not JSON/,
         'refused: its time cannot be told');

    # stdout
    $r = run('seal', $clean, '--from', '2026-02-03', '--to', '2026-02-03',
             '--out', '-');
    exits($r, 0, 'seal to stdout');
    like($r->{out}, qr/^\{"sealed_from":"2026-02-03T00:00:00\.000Z"/,
         'header first');
};


subtest 'hostile input' => sub {
    my $dir;
    my $r;

    $dir = "$TMP/h-none";
    make_path($dir);
    spew("$dir/readme", "x\n");
    $r = run('verify', $dir);
    exits($r, 1, 'no segments');
    like($r->{err}, qr/no audit segments/, 'no segments: message');
    exits(run('query', $dir, '--room', 'r'), 1, 'query: no segments');

    $dir = "$TMP/h-empty";
    make_path($dir);
    spew("$dir/audit-20260201.jsonl", '');
    $r = run('verify', $dir);
    exits($r, 1, 'an empty segment alone');
    like($r->{err}, qr/no records in 1 segment/, 'empty: message');

    $dir = copy_dir($clean, "$TMP/h-empty2");
    spew("$dir/audit-20260204.jsonl", '');
    $r = run('verify', $dir);
    exits($r, 0, 'an empty segment after whole ones');
    like($r->{out}, qr/1 empty segment\(s\), the first audit-20260204/,
         'is noted');

    # a 10 MB line, with and without a newline, after a good record
    for my $nl ("\n", '') {
        $dir = "$TMP/h-long";
        remove_tree($dir);
        make_path($dir);
        my $w = AuditWriter->new(dir => $dir);
        $w->add(ms('2026-02-01T01:00'), 'audit.start', pid => 1);
        open my $fh, '>>', "$dir/audit-20260201.jsonl" or die;
        print $fh '{"seq":2,"x":"', 'A' x (10 * 1024 * 1024), '"}', $nl;
        close $fh;
        $r = run('verify', $dir);
        exits($r, 1, '10 MB line' . ($nl ? '' : ' without newline'));
        like($r->{err}, qr/audit-20260201\.jsonl:2: not JSON: a line longer than 1048576 bytes/,
             '10 MB line: message');
        ok($r->{secs} < 10, sprintf('10 MB line: %.2f s', $r->{secs}));
        $r = run('query', $dir, '--room', 'x');
        exits($r, 1, 'query: 10 MB line');
        like($r->{err}, qr/:2: skipped: a line longer/, 'query skips it');
        $r = run('seal', $dir, '--from', '2026-02-01', '--to', '2026-02-01',
                 '--out', "$TMP/h-long-seal");
        ok(!$r->{signal}, 'seal: 10 MB line, no crash');
        unlink "$TMP/h-long-seal";
    }

    # a 2 MB line whose end is in the read buffer, then a good record:
    # only the long line is skipped
    $dir = "$TMP/h-long2";
    make_path($dir);
    my $w2 = AuditWriter->new(dir => $dir);
    publish($w2, ms('2026-02-01T01:00'), 'sA', 'roomL', 'h1');
    open my $fh2, '>>', "$dir/audit-20260201.jsonl" or die;
    print $fh2 '{"seq":2,"x":"', 'B' x (2 * 1024 * 1024), "\"}\n";
    close $fh2;
    $w2->{seq} = 3;
    publish($w2, ms('2026-02-01T02:00'), 'sB', 'roomL', 'h1');
    $r = run('query', $dir, '--room', 'roomL', '--json');
    exits($r, 1, '2 MB line: query');
    like($r->{err}, qr/:2: skipped: a line longer/, '2 MB line: skipped');
    is(scalar(split /\n/, $r->{out}), 2, 'the records around it are read');
    $r = run('verify', $dir);
    like($r->{err}, qr/:2: not JSON: a line longer/, '2 MB line: verify');

    # binary garbage
    $dir = "$TMP/h-binary";
    make_path($dir);
    srand(42);
    spew("$dir/audit-20260201.jsonl",
         join('', map { chr(int rand 256) } 1 .. 200_000));
    $r = run('verify', $dir);
    exits($r, 1, 'binary garbage');
    like($r->{err}, qr/audit-20260201\.jsonl:1: (not JSON|truncated)/,
         'binary garbage: message');
    for my $cmd (['query', $dir, '--room', 'x'],
                 ['prune', $dir, '--retention', '3y'],
                 ['seal', $dir, '--from', '2026-02-01', '--to', '2026-02-02',
                  '--out', "$TMP/h-bin-seal"],
                 ['verify-excerpt', "$dir/audit-20260201.jsonl"])
    {
        $r = run(@$cmd);
        ok(!$r->{signal} && $r->{exit} <= 2, "$cmd->[0]: binary garbage, "
                                             . "exit $r->{exit}");
    }

    # deeply nested JSON: beyond and within jansson's depth limit
    for my $depth (100_000, 1_000) {
        $dir = "$TMP/h-deep";
        remove_tree($dir);
        make_path($dir);
        spew("$dir/audit-20260201.jsonl",
             '{"seq":1,"ts":"2026-02-01T00:00:00.000Z","a":'
             . ('[' x $depth) . (']' x $depth) . "}\n");
        $r = run('verify', $dir);
        exits($r, 1, "nested $depth deep");
        like($r->{err}, $depth > 2048
                        ? qr/:1: not JSON: .*depth/
                        : qr/:1: bad field: "a" holds an array/,
             "nested $depth deep: message");
    }

    # invalid UTF-8, NUL, a huge seq, a duplicate key, not an object
    my %bad = (
        'invalid UTF-8' => [qq({"seq":1,"x":"\xff\xfe"}), qr/not JSON/],
        'NUL byte' => [qq({"seq":1,"x":"a\x00b"}), qr/not JSON/],
        'huge seq' => ['{"seq":99999999999999999999999,"ts":"x"}',
                       qr/not JSON: too big integer/],
        'duplicate key' => ['{"seq":1,"seq":2}', qr/not JSON: duplicate/],
        'an array' => ['[1,2,3]', qr/not JSON: a JSON array/],
        'empty line' => ['', qr/not JSON: empty line/],
        'negative seq' => ['{"seq":-1,"ts":"2026-02-01T00:00:00.000Z",'
                           . '"event":"a","node":"n","prev":"' . ('0' x 64)
                           . '","hash":"' . ('0' x 64) . '"}',
                           qr/edited|bad field: "seq"/],
    );
    for my $name (sort keys %bad) {
        $dir = "$TMP/h-bad";
        remove_tree($dir);
        make_path($dir);
        spew("$dir/audit-20260201.jsonl", "$bad{$name}[0]\n");
        $r = run('verify', $dir);
        exits($r, 1, $name);
        like($r->{err}, qr/:1: /, "$name: located");
        like($r->{err}, $bad{$name}[1], "$name: message");
    }

    # something named like a segment that is not a file
    $dir = "$TMP/h-fifo";
    make_path($dir);
    POSIX::mkfifo("$dir/audit-20260201.jsonl", 0600) or die "mkfifo: $!";
    $r = run({ timeout => 10 }, 'verify', $dir);
    exits($r, 2, 'a FIFO named like a segment');
    like($r->{err}, qr/not a regular file/, 'FIFO: message, no hang');

    $dir = "$TMP/h-subdir";
    make_path("$dir/audit-20260201.jsonl");
    exits(run('verify', $dir), 2, 'a directory named like a segment');

    # names that only look like segments are ignored
    $dir = "$TMP/h-names";
    make_path($dir);
    spew("$dir/$_", "garbage\n")
        for qw(audit-20260230.jsonl audit-20260201T24.jsonl
               audit-2026020.jsonl Audit-20260201.jsonl
               audit-20260201.json audit-20260201.jsonl~);
    exits(run('verify', $dir), 1, 'only invalid names: no segments');
};


subtest 'speed' => sub {
    my $n = $ENV{AUDIT_SPEED_RECORDS} // 100_000;
    plan skip_all => 'AUDIT_SPEED_RECORDS=0' unless $n;

    my $dir = "$TMP/speed";
    make_path($dir);
    my $t0 = Time::HiRes::time();
    my $prev = '0' x 64;
    my $per_day = 200_000;
    my $fh;
    my $start = ms('2026-02-01');
    my $bytes = 0;

    # a fixed template per event, a realistic mix: a publish session is an
    # accept and an end; each has 8 viewers (accept and end each)
    my $pa = ',"event":"publish.accept","node":"ingest-bj-01","session":'
           . '"%016x","app":"live","room":"r%08d","host":"h_%010d",'
           . '"person":"%032x","op":"op_100042","mcn":"mcn_20881",'
           . '"tier":"verified","ai":false,"idv":"face+id2",'
           . '"jti":"%016x","kid":"2026a","token":"sha256:%012x",'
           . '"addr":"203.0.113.45:51234"';
    my $va = ',"event":"play.accept","node":"ingest-bj-01","session":'
           . '"%016x","app":"live","room":"r%08d","host":null,'
           . '"tier":"verified","addr":"198.51.100.23:60412"';
    my $se = ',"event":"session.end","node":"ingest-bj-01","session":'
           . '"%016x","kind":"%s","app":"live","room":"r%08d",'
           . '"host":"h_%010d","person":"%032x",'
           . '"addr":"203.0.113.45:51234","duration_ms":%d,'
           . '"bytes_in":%d,"bytes_out":%d,"why":"closed"';

    for my $seq (1 .. $n) {
        my $ms = $start + int(($seq - 1) * 86_400_000 / $per_day);
        if ($seq % $per_day == 1) {
            close $fh if $fh;
            open $fh, '>:raw', "$dir/" . AuditWriter->new->segment($ms)
                or die;
        }
        my $k = $seq % 18;
        my $fields = $k == 0 ? sprintf($pa, $seq, $seq % 1000, $seq % 997,
                                       $seq, $seq, $seq)
                   : $k == 17 ? sprintf($se, $seq, 'publish', $seq % 1000,
                                        $seq % 997, $seq, 3_600_000,
                                        1_125_000_000, 0)
                   : $k <= 8 ? sprintf($va, $seq, $seq % 1000)
                   : sprintf($se, $seq, 'play', $seq % 1000, 0, 0,
                             1_800_000, 0, 562_500_000);
        my $body = '{"seq":' . $seq . ',"ts":"' . AuditWriter::ts_text($ms)
                 . '"' . $fields . ',"prev":"' . $prev . '"';
        $prev = sha256_hex($body . '}');
        my $line = $body . ',"hash":"' . $prev . "\"}\n";
        $bytes += length $line;
        print $fh $line;
    }
    close $fh;
    diag(sprintf('generated %d records (%.1f MB, %.0f bytes/record) in '
                 . '%.1f s', $n, $bytes / 1e6, $bytes / $n,
                 Time::HiRes::time() - $t0));

    my $r = run({ timeout => 600 }, 'verify', $dir);
    exits($r, 0, "verify $n records");
    my ($speed) = $r->{out} =~ /^speed: +(.*)$/m;
    diag("verify: $speed; wall clock "
         . sprintf('%.2f s, %.0f records/s', $r->{secs}, $n / $r->{secs}));
    like($r->{out}, qr/^final hash: $prev$/m, 'final hash');

    $r = run({ timeout => 600 }, 'query', $dir, '--room', 'r00000042',
             '--json');
    diag(sprintf('query over all %d records: %.2f s', $n, $r->{secs}));
    exits($r, 0, 'query');

    remove_tree($dir);
};


subtest 'sizes (docs/audit.md)' => sub {
    my %size;
    for my $rec (@{ $W->{recs} }) {
        my $k = $rec->{event};
        $k .= $rec->{text} =~ /"kind":"(\w+)"/ ? ".$1" : '';
        push @{ $size{$k} }, length($rec->{text}) + 1;
    }
    for my $k (sort keys %size) {
        my $sum = 0;
        $sum += $_ for @{ $size{$k} };
        diag(sprintf('%-22s %4.0f bytes (%d records)', $k,
                     $sum / @{ $size{$k} }, scalar @{ $size{$k} }));
    }
    pass('record sizes');
};


done_testing();
