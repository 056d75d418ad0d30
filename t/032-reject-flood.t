# Rejection floods (issue 20, compliance_reject_summary): per client
# address, kind and reason the first "burst" rejections of a window are
# written one by one, in the audit log and the error log; the others are
# folded and a publish.reject.summary / play.reject.summary record and an
# error log line say how many, over what span.  Every distinct token and
# every admission keeps its own record; the metrics count every
# rejection.  The summaries are written when the window ends (the timer)
# and when nginx stops; without a zone each worker folds its own.
#
#   prove -v t/032-reject-flood.t

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();
use Time::HiRes ();

our @Summary = qw(kind addr reason folded first last window_ms burst);


#-----------------------------------------------------------------------------
# configuration

# the zone, the audit log in servroot/DIR, then more rtmp{} DIRECTIVES
sub rtmp_conf {
    my ($dir, @directives) = @_;
    return zone_conf()
         . "compliance_audit_log \$TEST_NGINX_SERVROOT/$dir;\n"
         . join('', map { "$_;\n" } @directives);
}

block_defaults(
    config             => tiers('basic') . live_app(),
    http_server_config => api_location(),
);


#-----------------------------------------------------------------------------
# clients

# a token of the default claims whose signature is broken; CLAIMS change
# them (a jti makes it a token of its own)
sub bad_token {
    my (%claims) = @_;
    my ($h, $p, $s) = split /\./, token(claims => \%claims);
    substr($s, 5, 1) = substr($s, 5, 1) eq 'A' ? 'B' : 'A';
    return "$h.$p.$s";
}

# flood(N, CONC, SUB): N clients, CONC at a time, SUB->(I) giving the
# I-th's (MODE, TARGET); their exit codes by I and the seconds they took
sub flood {
    my ($n, $conc, $what) = @_;

    my (@live, %exit);
    my $t0 = Time::HiRes::time();
    my $deadline = $t0 + 300;
    my $i = 0;

    while (($i < $n || @live) && Time::HiRes::time() < $deadline) {
        while ($i < $n && @live < $conc) {
            push @live, [$i, start_client($what->($i), '--timeout', 5000)];
            $i++;
        }

        my @still = grep { !client_done($_->[1]) } @live;
        $exit{$_->[0]} = $_->[1]{exit} for grep { defined $_->[1]{exit} } @live;
        Time::HiRes::sleep(0.002) if @still == @live;
        @live = @still;
    }

    stop_client($_->[1]) for @live;

    return (\%exit, Time::HiRes::time() - $t0);
}

# the I-th of N clients was refused (exit 1)
sub all_refused {
    my ($exit, $n, $what) = @_;
    my @bad = grep { !defined $exit->{$_} || $exit->{$_} ne '1' } 0 .. $n - 1;
    is(scalar @bad, 0, "$what: every client is refused")
        or diag("not refused: @bad[0 .. ($#bad < 9 ? $#bad : 9)]");
}


#-----------------------------------------------------------------------------
# the audit log

# the records of servroot/DIR, in order; each has its line as _line
sub records {
    my ($dir) = @_;
    $dir = "$ENV{TEST_NGINX_SERVROOT}/$dir";
    my $json = JSON::PP->new->utf8;
    my @r;
    opendir my $dh, $dir or return ();
    for my $seg (sort grep { /^audit-.*\.jsonl\z/ } readdir $dh) {
        for my $line (split /\n/, slurp("$dir/$seg")) {
            my $r = eval { $json->decode($line) }
                || { event => 'unreadable', _line => $line };
            push @r, { %$r, _line => $line };
        }
    }
    closedir $dh;
    return @r;
}

sub events {
    my ($event, @r) = @_;
    return grep { $_->{event} eq $event } @r;
}

# the names of a record's fields between node and prev
sub fields_of {
    my ($r) = @_;
    my @k = $r->{_line} =~ /[{,]"([a-z_]+)":/g;
    return "@k[4 .. $#k - 2]";
}

# compliance-audit verify DIR exits 0; its output
sub verify_ok {
    my ($dir, $what) = @_;
    my $tool = repo_root() . '/build/compliance-audit';
    my $out = qx{'$tool' verify '$ENV{TEST_NGINX_SERVROOT}/$dir' 2>&1};
    is($? >> 8, 0, "$what: compliance-audit verify exits 0") or diag($out);
    return $out;
}

# the summaries' records as "REASON FOLDED" each, and their sum
sub folded {
    my (@s) = @_;
    my $sum = 0;
    $sum += $_->{folded} for @s;
    return (join(', ', map { "$_->{reason} $_->{folded}" } @s), $sum);
}

# the metrics have these counts: "KIND REASON" => the rejections of KIND
# with REASON, "KIND folded" => the folded ones of KIND, "KIND admitted"
sub counts_are {
    my (%want) = @_;
    my $m = metrics();
    for my $k (sort keys %want) {
        my ($kind, $what) = split ' ', $k;
        my $name = $what eq 'folded'
                   ? "compliance_rejections_folded_total{kind=\"$kind\"}"
                   : $what eq 'admitted'
                   ? "compliance_admissions_total{kind=\"$kind\"}"
                   : "compliance_rejections_total{kind=\"$kind\","
                     . "reason=\"$what\"}";
        is($m->{$name}, $want{$k}, "metrics: $k $want{$k}");
    }
}

# the error log lines of the rejections of KIND with REASON
sub log_lines {
    my ($kind, $reason) = @_;
    return scalar(() = error_log_text()
                       =~ /^.*compliance: $kind rejected: $reason: .*$/mg);
}

run_tests();

__DATA__

=== TEST 1: 1,000 bad publishes from one address, two workers, the defaults: 20 records a reason, the rest folded and counted exactly; an admission in the middle keeps its record
--- workers: 2
--- rtmp_config eval: rtmp_conf('audit1')
--- post_check eval
sub {
    my $bad = bad_token();
    my $good;

    my ($exit, $secs) = flood(1000, 12, sub {
        my ($i) = @_;
        $good = publisher('room2', duration => 1500) if $i == 500;
        return ('publish', $i % 5 < 3 ? "live/room1?token=$bad"
                                      : 'live/room1');
    });

    diag(sprintf '1000 publishes in %.1f s', $secs);
    cmp_ok($secs, '<', 60, 'the flood fits in one window of 60 s');
    all_refused($exit, 1000, 'the flood');
    ok(wait_output($good, 'NetStream.Publish.Start'),
       'a good publish in the middle is admitted');
    wait_client($good, 15);

    counts_are('publish token_signature' => 600,
               'publish token_missing' => 400, 'publish folded' => 960,
               'play folded' => 0, 'publish admitted' => 1);

    is(log_lines('publish', 'token_signature'), 20,
       'error log: 20 token_signature lines');
    is(log_lines('publish', 'token_missing'), 20,
       'error log: 20 token_missing lines');

    my @r = records('audit1');
    is(scalar(events('publish.reject.summary', @r)), 0,
       'no summary while the window lasts');

    ok(stop_nginx(), 'nginx stops');

    @r = records('audit1');
    my @rej = events('publish.reject', @r);
    is(scalar(grep { $_->{reason} eq 'token_signature' } @rej), 20,
       '20 token_signature records');
    is(scalar(grep { $_->{reason} eq 'token_missing' } @rej), 20,
       '20 token_missing records');
    cmp_ok(scalar(@r), '<=', 48, 'at most a few dozen records in all')
        or diag(scalar(@r) . ' records');

    my @s = sort { $a->{reason} cmp $b->{reason} }
            events('publish.reject.summary', @r);
    my ($text, $sum) = folded(@s);
    is($text, 'token_missing 380, token_signature 580',
       'at stop, a summary a reason with its count');
    is($sum + @rej, 1000, 'records and folded ones: exactly 1000');

    for my $s (@s) {
        is(fields_of($s), "@::Summary", "summary $s->{reason}: its fields");
        is($s->{kind}, 'publish', 'kind publish');
        is($s->{addr}, '127.0.0.1', 'addr');
        is($s->{window_ms}, 60000, 'the default window');
        is($s->{burst}, 20, 'the default burst');
        like($s->{first}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\z/,
             'first: a time');
        ok($s->{first} le $s->{last}, 'first <= last');
        my ($last) = grep { $_->{reason} eq $s->{reason} } reverse @rej;
        ok($last->{ts} le $s->{first},
           'the folded ones come after the written ones');
    }

    my @acc = events('publish.accept', @r);
    is(scalar(@acc), 1, 'the admission has its publish.accept');
    is($acc[0] && $acc[0]{room}, 'room2', 'of room2');

    my $out = verify_ok('audit1', 'flood');
    like($out, qr/^events:.*publish\.reject\.summary 2\b/m,
         'verify counts the summaries by name');

    my $log = error_log_text();
    like($log, qr/\[error\] .*compliance: publish rejections folded: 580, reason: token_signature, addr: "127\.0\.0\.1", first: \S+, last: \S+, window: 60000ms, burst: 20/,
         'error log: the token_signature summary, at error');
    like($log, qr/\[info\] .*compliance: publish rejections folded: 380, reason: token_missing, addr: "127\.0\.0\.1"/,
         'error log: the token_missing summary, at info');
}
--- no_error_log
[crit]


=== TEST 2: every distinct token keeps its own record; a token seen again is folded
--- rtmp_config eval: rtmp_conf('audit2', 'compliance_reject_summary burst=5 window=10m')
--- post_check eval
sub {
    my @tok = map { bad_token(jti => "j$_") } 0 .. 49;

    # token 0 thirty times, then the 49 others once each, in that order
    my ($exit, $secs) = flood(79, 1, sub {
        my ($i) = @_;
        return ('publish', 'live/room1?token=' . $tok[$i < 30 ? 0 : $i - 29]);
    });
    all_refused($exit, 79, 'the bad tokens');

    # the 25 repeats after the burst of 5 are folded
    counts_are('publish token_signature' => 79, 'publish folded' => 25);
    is(log_lines('publish', 'token_signature'), 54,
       'error log: 54 lines, 5 + one a distinct token');

    ok(stop_nginx(), 'nginx stops');

    my @r = records('audit2');
    my @rej = events('publish.reject', @r);
    is(scalar(@rej), 54, '54 publish.reject records');
    my %seen = map { $_->{token} => 1 } @rej;
    is_deeply([sort keys %seen],
              [sort map { 'sha256:' . hash12($_) } @tok],
              'each of the 50 tokens has a record');

    my ($text, $sum) = folded(events('publish.reject.summary', @r));
    is($text, 'token_signature 25', 'one summary of the 25 folded');
    is($sum + @rej, 79, 'exactly 79');
    verify_ok('audit2', 'distinct tokens');
}
--- no_error_log
[crit]


=== TEST 3: a window's summary is written when it ends, and the next window has its burst again; play rejections are kept apart from publishes
--- rtmp_config eval: rtmp_conf('audit3', 'compliance_reject_summary burst=3 window=5s')
--- post_check eval
sub {
    order(target => 'room:r9', action => 'suspend', duration => 600,
          reason => 'room closed', ref => 'R9');

    my ($exit) = flood(20, 5, sub {
        my ($i) = @_;
        return $i % 2 ? ('play', 'live/r9') : ('publish', 'live/r9');
    });
    all_refused($exit, 20, 'the first window');

    is(log_lines('play', 'suspended'), 3, 'error log: 3 play lines');
    is(log_lines('publish', 'token_missing'), 3,
       'error log: 3 publish lines');

    ok(wait_log(qr/compliance: play rejections folded: 7, reason: suspended, addr: "127\.0\.0\.1", first: \S+, last: \S+, window: 5000ms, burst: 3/, 15),
       'the play summary is logged when the window ends');
    ok(wait_log(qr/\[info\] .*compliance: publish rejections folded: 7, reason: token_missing/, 5),
       'and the publish summary, at info');

    my @r = records('audit3');
    my ($text) = folded(sort { $a->{kind} cmp $b->{kind} }
                        grep { $_->{event} =~ /\.reject\.summary\z/ } @r);
    is($text, 'suspended 7, token_missing 7',
       'both summary records are written while nginx runs');
    my ($ps) = events('play.reject.summary', @r);
    is($ps && $ps->{kind}, 'play', 'play.reject.summary: kind play');
    is($ps && fields_of($ps), "@::Summary", 'play.reject.summary: its fields');

    ($exit) = flood(4, 1, sub { ('play', 'live/r9') });
    all_refused($exit, 4, 'the next window');
    is(log_lines('play', 'suspended'), 6,
       'error log: the next window has its 3 lines');

    counts_are('play suspended' => 14, 'play folded' => 8,
               'publish token_missing' => 10, 'publish folded' => 7);

    ok(stop_nginx(), 'nginx stops');

    @r = records('audit3');
    is(scalar(events('play.reject', @r)), 6, '6 play.reject records');
    is(scalar(events('publish.reject', @r)), 3, '3 publish.reject records');
    ($text) = folded(events('play.reject.summary', @r));
    is($text, 'suspended 7, suspended 1',
       'the second window is summarised at stop');
    verify_ok('audit3', 'windows');
}
--- no_error_log
[crit]


=== TEST 4: compliance_reject_summary off: every rejection is written
--- rtmp_config eval: rtmp_conf('audit4', 'compliance_reject_summary off')
--- post_check eval
sub {
    my ($exit) = flood(30, 5, sub { ('publish', 'live/room1') });
    all_refused($exit, 30, 'off');

    is(log_lines('publish', 'token_missing'), 30, 'error log: 30 lines');
    counts_are('publish token_missing' => 30, 'publish folded' => 0);

    ok(stop_nginx(), 'nginx stops');

    my @r = records('audit4');
    is(scalar(events('publish.reject', @r)), 30, '30 publish.reject records');
    is(scalar(events('publish.reject.summary', @r)), 0, 'no summary');
}
--- no_error_log
publish rejections folded


=== TEST 5: without a zone the error log is summarised too (the defaults, per worker)
--- rtmp_config
--- http_server_config
--- post_check eval
sub {
    my ($exit) = flood(30, 5, sub { ('publish', 'live/room1') });
    all_refused($exit, 30, 'no zone');

    is(log_lines('publish', 'token_missing'), 20, 'error log: 20 lines');
    unlike(error_log_text(), qr/rejections folded/, 'no summary yet');

    ok(stop_nginx(), 'nginx stops');

    like(error_log_text(), qr/\[info\] .*compliance: publish rejections folded: 10, reason: token_missing, addr: "127\.0\.0\.1", first: \S+, last: \S+, window: 60000ms, burst: 20/,
         'the summary at stop');
}


=== TEST 6: burst must be 1 or more
--- rtmp_config
compliance_reject_summary burst=0;
--- must_die
--- error_log
invalid burst "burst=0", it must be 1 to 1000000


=== TEST 7: a window under a second
--- rtmp_config
compliance_reject_summary window=500ms;
--- must_die
--- error_log
invalid window "window=500ms", it must be 1s to 1d


=== TEST 8: off takes no parameters
--- rtmp_config
compliance_reject_summary off burst=5;
--- must_die
--- error_log
invalid parameter "off"


=== TEST 9: once only
--- rtmp_config
compliance_reject_summary burst=5;
compliance_reject_summary window=1m;
--- must_die
--- error_log
"compliance_reject_summary" directive is duplicate


=== TEST 10: rtmp{} level only
--- config
compliance_reject_summary burst=5;
application live { live on; }
--- must_die
--- error_log
"compliance_reject_summary" directive is not allowed here
