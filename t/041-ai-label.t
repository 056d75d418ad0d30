# AI-generated hosts (issue 4): a token with "ai": true is refused where
# the tier says ai_host=deny (ai_host_forbidden) and admitted where it
# says allow; the admitted session is marked (GET sessions "ai": true,
# the accepted log line "ai: true") and the stream's onMetaData carries
# "ai_generated": true and "ai_label": "AI-generated host" for every
# player (rtmp-client's metadata line, ffprobe's format tags), whatever
# the publisher put in its own metadata and whatever the application's
# "meta" setting.  Restrictions of AI sessions.

use strict;
use warnings;

use lib 't/lib';

use Test::Compliance;
use JSON::PP ();

our $Config = <<'EOF';
compliance_tier basic;
compliance_tier strict ai_host=deny;
compliance_tier robots ai_host=allow;
compliance_tier robots2 ai_host=allow max_viewers=10;
compliance_key $TEST_NGINX_KEYS/hs256.key;
compliance_recheck 200ms;
compliance on;

application live {
    live on;
}
application copy {
    live on;
    meta copy;
}
application nometa {
    live on;
    meta off;
}
EOF

block_defaults(
    rtmp_config        => zone_conf(),
    config             => $Config,
    http_server_config => api_location(),
);

our $Label = qr/"ai_generated":true,"ai_label":"AI-generated host"/;


# the metadata lines a client printed, decoded
sub metadata {
    my ($run) = @_;
    return map { JSON::PP->new->decode($_) }
           client_output($run) =~ /^metadata: (\{.*\})$/mg;
}


# ffprobe's format tags of rtmp://.../TARGET (a hash, or undef)
sub ffprobe_tags {
    my ($target) = @_;

    my $url = 'rtmp://127.0.0.1:' . rtmp_port() . "/$target";
    my $out = servroot() . '/tmp/ffprobe.out';

    system('timeout', '20', 'ffprobe', '-v', 'error', '-rw_timeout',
           '10000000', '-show_entries', 'format_tags', '-of', 'json', $url,
           '-o', $out) == 0 or return undef;

    open my $fh, '<', $out or return undef;
    local $/;
    my $json = eval { JSON::PP->new->decode(<$fh>) };

    return $json && $json->{format} ? $json->{format}{tags} || {} : undef;
}


run_tests();

__DATA__

=== TEST 1: ai_host_forbidden where the tier denies AI hosts (the default and ai_host=deny); admitted where it allows them
--- http_server_config
--- publish eval
join "\n",
    stream('live/room1', tier => 'basic', ai => JSON::PP::true),
    stream('live/room1', tier => 'strict', ai => JSON::PP::true),
    stream('live/room1', tier => 'basic', ai => JSON::PP::false),
    stream('live/room1', tier => 'strict'),
    stream('live/room1', tier => 'robots', ai => JSON::PP::true),
    stream('live/room1', tier => 'robots', ai => 'true');
--- status
status: error NetStream.Publish.Rejected ai_host_forbidden: tier "basic" does not allow AI-generated hosts
status: error NetStream.Publish.Rejected ai_host_forbidden: tier "strict" does not allow AI-generated hosts
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: status NetStream.Publish.Start
status: error NetStream.Publish.Rejected token_malformed: claim "ai" is not a boolean
--- exit_code: 1 1 0 0 0 1
--- error_log eval
[ qr/\[error\] .*compliance: publish rejected: ai_host_forbidden: tier "basic" does not allow AI-generated hosts, app: "live", room: "room1"/,
  qr/\[error\] .*compliance: publish rejected: ai_host_forbidden: tier "strict" does not allow AI-generated hosts, app: "live", room: "room1"/,
  qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", .*tier: "basic", ai: false,/,
  qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", .*tier: "strict", ai: false,/,
  qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", .*tier: "robots", ai: true,/,
  qr/\[error\] .*compliance: publish rejected: token_malformed: claim "ai" is not a boolean/ ]


=== TEST 2: an admitted AI host is marked and its stream labelled for every player
--- post_check eval
sub {
    # a player there before the publisher
    my $early = player('live/room1', 6000);
    ok(wait_output($early, 'status: status NetStream.Play.Start'),
       'an early player waits for the stream');

    my $ai = publisher('live/room1', sub => 'bot1', tier => 'robots',
                       ai => JSON::PP::true);
    my $human = publisher('live/room2', sub => 'human1', tier => 'robots');
    ok(wait_for(sub { find_sessions(kind => 'publish') == 2 }),
       'both publishers live');

    my ($s) = find_sessions(host => 'bot1');
    ok($s->{ai}, 'GET sessions: "ai": true for the AI host')
        and ok(JSON::PP::is_bool($s->{ai}), 'a JSON boolean');
    is($s->{tier}, 'robots', 'its tier');
    my ($h) = find_sessions(host => 'human1');
    ok(JSON::PP::is_bool($h->{ai}) && !$h->{ai},
       'GET sessions: "ai": false for the human host');
    ok(wait_log(qr/\[info\] .*compliance: publish accepted, app: "live", room: "room1", host: "bot1", .*tier: "robots", ai: true,/),
       'the accepted line says ai: true');
    like(error_log_text(), qr/publish accepted, app: "live", room: "room2", host: "human1", .*ai: false,/,
         'and ai: false for the human');

    my $late = player('live/room1', 1500);
    my $plain = player('live/room2', 1500);
    is(wait_client($late, 10), 0, 'a player of the AI room runs');
    is(wait_client($plain, 10), 0, 'a player of the human room runs');
    is(wait_client($early, 10), 0, 'the early player runs');

    for my $c ([$late, 'a player that came after the publisher'],
               [$early, 'a player that came before the publisher'])
    {
        my @m = metadata($c->[0]);
        ok(@m >= 1, "$c->[1] gets onMetaData")
            or Test::More::diag(client_output($c->[0]));
        ok(!grep({ !(JSON::PP::is_bool($_->{ai_generated})
                     && $_->{ai_generated}
                     && ($_->{ai_label} // '') eq 'AI-generated host') } @m),
           "every onMetaData $c->[1] gets is labelled")
            or Test::More::diag(client_output($c->[0]));
        is($m[0]{width}, 320, 'the labelled metadata keeps the stream\'s '
                              . 'fields (width)');
        is($m[0]{videocodecid}, 7, 'and videocodecid');
        like(client_output($c->[0]), qr/^media: audio=[1-9]\d* video=[1-9]/m,
             'and media follows');
    }

    my @m = metadata($plain);
    ok(@m >= 1, 'the player of the human room gets onMetaData');
    ok(!grep({ exists $_->{ai_generated} || exists $_->{ai_label} } @m),
       'without the AI label');

    # ffprobe reads the label as format tags
    my $tags = ffprobe_tags('live/room1');
    ok($tags, 'ffprobe reads the AI stream');
    is($tags && $tags->{ai_generated}, 'true', 'ffprobe: ai_generated=true');
    is($tags && $tags->{ai_label}, 'AI-generated host',
       'ffprobe: ai_label="AI-generated host"');

    $tags = ffprobe_tags('live/room2');
    ok($tags && !exists $tags->{ai_generated},
       'ffprobe: no ai_generated on the human stream');

    stop_client($_) for $ai, $human;
}
--- no_error_log
[error]


=== TEST 3: the label holds whatever the publisher's own metadata says and whatever the "meta" setting
--- post_check eval
sub {
    my @md = ('--metadata', 'ai_generated=false,ai_label=none,width=640');
    my %pub = (
        live   => publisher('live/room1', tier => 'robots',
                            ai => JSON::PP::true, args => \@md),
        copy   => publisher('copy/room1', tier => 'robots',
                            ai => JSON::PP::true, args => \@md),
        nometa => publisher('nometa/room1', tier => 'robots',
                            ai => JSON::PP::true),
    );
    ok(wait_for(sub { find_sessions(kind => 'publish', ai => 1) == 3 }),
       'three AI publishers live');

    for my $app (sort keys %pub) {
        my $pl = player("$app/room1", 1500);
        is(wait_client($pl, 10), 0, "a player of \"$app\" runs");
        my @m = metadata($pl);
        ok(@m >= 1, "it gets onMetaData")
            or Test::More::diag(client_output($pl));
        ok(!grep({ !(JSON::PP::is_bool($_->{ai_generated})
                     && $_->{ai_generated}
                     && ($_->{ai_label} // '') eq 'AI-generated host') } @m),
           "labelled in \"$app\"")
            or Test::More::diag(client_output($pl));
    }

    my $tags = ffprobe_tags('live/room1');
    is($tags && $tags->{ai_generated}, 'true',
       'ffprobe: ai_generated=true though the publisher said false');
    is($tags && $tags->{ai_label}, 'AI-generated host',
       'ffprobe: the label, not the publisher\'s');

    stop_client($_) for values %pub;
}


=== TEST 4: an AI host that sends no metadata at all
--- post_check eval
sub {
    my $ai = publisher('live/room1', tier => 'robots',
                       ai => JSON::PP::true, args => ['--no-metadata']);
    ok(wait_output($ai, 'status: status NetStream.Publish.Start'),
       'an AI host without metadata is admitted');
    my ($s) = find_sessions(kind => 'publish');
    ok($s && $s->{ai}, 'and marked "ai": true');

    my $pl = player('live/room1', 1500);
    is(wait_client($pl, 10), 0, 'a player runs');
    like(client_output($pl), qr/^media: audio=[1-9]\d* video=[1-9]/m,
         'and gets media');

    {
        like(client_output($pl), qr/^metadata: .*$::Label/m,
             'the player still gets the AI label')
            or Test::More::diag(client_output($pl));
    }

    stop_client($ai);
}


=== TEST 5: restrictions of AI sessions: to a tier that allows AI the label stays; to one that denies AI
--- post_check eval
sub {
    my $a1 = publisher('live/room1', sub => 'bot1', tier => 'robots',
                       ai => JSON::PP::true);
    my $a2 = publisher('live/room2', sub => 'bot2', tier => 'robots',
                       ai => JSON::PP::true);
    ok(wait_for(sub { find_sessions(kind => 'publish', ai => 1) == 2 }),
       'two AI publishers live');

    my $o1 = order(target => 'room:room1', action => 'restrict',
                   tier => 'robots2', duration => 600, reason => 'cap');
    ok(wait_for(sub { my ($x) = find_sessions(room => 'room1');
                      $x && $x->{tier} eq 'robots2' }, 3),
       'room1 is moved to robots2');
    my ($x) = find_sessions(room => 'room1');
    ok($x->{ai}, 'still marked "ai": true');
    my $pl = player('live/room1', 1500);
    is(wait_client($pl, 10), 0, 'a player of it runs');
    like(client_output($pl), qr/^metadata: .*$::Label/m,
         'the stream is still labelled');

    # a new AI publish under a restriction into a tier that denies AI
    my $o3 = order(target => 'host:bot3', action => 'restrict',
                   tier => 'strict', duration => 600, reason => 'no robots');
    my $a3 = publisher('live/room3', sub => 'bot3', tier => 'robots',
                       ai => JSON::PP::true, duration => 3000);
    is(wait_client($a3, 15), 1,
       'a new AI publish restricted to a deny tier is refused');
    like(client_output($a3), qr/^status: error NetStream\.Publish\.Rejected ai_host_forbidden: tier "strict" does not allow AI-generated hosts$/m,
         'ai_host_forbidden, by the tier of the restriction');

    # a live AI session restricted into a tier that denies AI
    my $o2 = order(target => 'room:room2', action => 'restrict',
                   tier => 'strict', duration => 600, reason => 'no robots');
    ok(wait_log(qr/compliance: session \d+ restricted to tier "strict" by order $o2->{id}/, 3),
       'the restriction of the live AI session is logged');
    {
        ok(wait_output($a2, qr/^status: error NetStream\.Publish\.Rejected ai_host_forbidden: /m, 3),
           'the live AI host restricted to a tier that denies AI hosts is '
           . 'dropped with ai_host_forbidden')
            or Test::More::diag(client_output($a2));
        ok(wait_log(qr/session \d+ dropped: ai_host_forbidden, room: "room2"/, 1),
           'and the drop is logged');
    }

    my ($y) = find_sessions(room => 'room2');
    Test::More::note('room2 after the restriction: '
                     . ($y ? "tier $y->{tier}, ai "
                             . ($y->{ai} ? 'true' : 'false')
                             . ', client ' . (client_done($a2) ? 'gone'
                                                                : 'live')
                           : 'no session'));

    stop_client($_) for $a1, $a2;
}
