# Exercises the test harness and the RTMP client against plain nginx-rtmp
# (no compliance directives), so that both can be trusted before the
# module's own tests use them.

use lib 't/lib';

BEGIN {
    # this file needs only nginx-rtmp: do not require the compliance module
    # before it is built
    if (!defined $ENV{TEST_NGINX_LOAD_MODULES}
        && !-e 'build/ngx_rtmp_compliance_module.so')
    {
        $ENV{TEST_NGINX_LOAD_MODULES} =
            '/usr/lib/nginx/modules/ngx_rtmp_module.so';
    }
}

use Test::Compliance;

# TEST 11 to 13: every block gets a "probe" section (the harness ignores
# it) unless it has one; a preprocessor that sees it gives a block with
# probe "location" a location of its own
block_defaults(probe => 'default');

add_block_preprocessor(sub {
    my ($block) = @_;
    return unless $block->probe eq 'location';
    $block->set_value(http_server_config => <<'EOF');
location = /preprocessed {
    return 200 "by the preprocessor";
}
EOF
});

run_tests();

__DATA__

=== TEST 1: a publish gets NetStream.Publish.Start
--- config
application live {
    live on;
}
--- publish
live/room1
--- status
connect: NetConnection.Connect.Success
status: status NetStream.Publish.Start
media: audio=6 video=4
closed: by=client
--- no_status
status: error
--- exit_code: 0
--- error_log
publish: name='room1' args='' type=live
--- no_error_log
[error]



=== TEST 2: a background publisher is seen by a player
--- config
application live {
    live on;
}
--- clients
background publish live/show --duration 3000
wait_output status: status NetStream.Publish.Start
play live/show --duration 1500
wait
--- status
status: status NetStream.Publish.Start
status: status NetStream.Play.Start
metadata: {"Server":
--- status_like eval
qr/^metadata: .*"width":320,"height":240/m,
qr/^media: audio=[1-9]\d* video=[1-9]\d* bytes=[1-9]\d*$/m,
--- post_check eval
sub {
    my $runs = client_results();
    is(scalar @$runs, 2, 'two client runs');
    my ($video) = $runs->[1]{stdout} =~ /^media: audio=\d+ video=(\d+)/m;
    # 1.5 s of a 25 fps stream with a keyframe each second; nginx-rtmp
    # makes a new player wait for the next keyframe
    cmp_ok($video, '>=', 10, 'the player got video');
    is(scalar(worker_pids()), 1, 'one worker');
    ok(nginx_pid(), 'nginx pid');
}
--- exit_code: 0 0
--- no_error_log
[error]



=== TEST 3: an unknown directive is refused
--- config
application live {
    live on;
    no_such_directive on;
}
--- must_die
--- error_log
unknown directive "no_such_directive"



=== TEST 4: a 2,000 character stream name with args is published
--- config
application live {
    live on;
}
--- publish eval
"live/" . ("n" x 1960) . "?a=1&b=" . ("x" x 30)
--- client_args: --tags 20
--- status
status: status NetStream.Publish.Start
media: audio=12 video=8
closed: by=client
--- exit_code: 0
--- error_log eval
qr/publish: name='n{100,}/
--- no_error_log
[error]



=== TEST 5: a second publisher of the same stream is rejected
--- config
application live {
    live on;
}
--- clients
background publish live/dup --duration 2000
wait_output NetStream.Publish.Start
publish live/dup
--- status
status: status NetStream.Publish.Start
status: error NetStream.Publish.BadName
--- exit_code: 0 1



=== TEST 6: app args, a large chunk size and the http server
--- config
application live {
    live on;
}
--- http_server_config
location = /hello {
    return 200 "hello $arg_x\n";
}
--- publish
live?app_arg=1/room2 --chunk-size 4096 --tags 30 --bitrate 400
--- status
status: status NetStream.Publish.Start
media: audio=19 video=11
--- error_log
app='live' args='app_arg=1'
--- post_check eval
sub {
    my ($status, $headers, $body) = http_request('GET', '/hello?x=42');
    is($status, 200, 'http status');
    is($body, "hello 42\n", 'http body');
    like($headers->{'content-type'}, qr{text/plain|application/octet},
         'http content type');
}



=== TEST 7: two workers, reload and a direct client run
--- workers: 2
--- config
application live {
    live on;
}
--- post_check eval
sub {
    my @old = worker_pids();
    is(scalar @old, 2, 'two workers');
    ok(reload_nginx(), 'reload');
    my @new = worker_pids();
    my %old = map { $_ => 1 } @old;
    ok(!grep({ $old{$_} } @new), 'new workers after the reload');
    my ($rc, $out) = run_client('-a', 'live', '-n', 'direct', '--tags', 3);
    is($rc, 0, 'run_client exit code');
    like($out, qr/^status: status NetStream\.Publish\.Start/m,
         'run_client output');
    ok(wait_for(sub { error_log_text() =~ /name='direct'/ }, 5),
       'wait_for the error log');
}
--- clients
background publish live/bg --duration 1000
--- wait_log
publish: name='bg'



=== TEST 8: a play of a stream nobody publishes times out on media
--- config
application live {
    live on;
}
--- play
live/nobody --tags 1 --timeout 500
--- status
status: status NetStream.Play.Start
media: audio=0 video=0 bytes=0
--- exit_code: 3



=== TEST 9: a publish to an unknown application is refused
--- config
application live {
    live on;
}
--- publish
nosuchapp/x
--- status_like
^closed: by=server
--- no_status
NetStream.Publish.Start
--- exit_code: 2
--- error_log
application not found



=== TEST 10: main, rtmp and http sections; metadata as JSON
--- main_config
worker_shutdown_timeout 30s;
--- rtmp_config
chunk_size 8192;
--- config
application live {
    live on;
    meta copy;
}
--- http_config
map $arg_x $double_x {
    default "none";
    "2"     "4";
}
--- http_server_config
location = /double {
    return 200 "$double_x";
}
--- clients
background publish live/m --duration 1500 --metadata 't=a\, "b",l=true,n=1.5'
wait_output NetStream.Publish.Start
play live/m --tags 3
--- status
status: status NetStream.Play.Start
metadata: {"t":"a, \"b\"","l":true,"n":1.5}
--- exit_code: 0 0
--- post_check eval
sub {
    my ($status, undef, $body) = http_request('GET', '/double?x=2');
    is($body, '4', 'http_config is in http{}');
}
--- error_log eval
qr/worker process \d+ exited with code 0/



=== TEST 11: a preprocessor sees a block's evaluated sections; what it sets reaches nginx.conf
--- config
application live {
    live on;
}
--- probe eval: 'loc' . 'ation'
--- post_check eval
sub {
    my ($block) = @_;
    is($block->probe, 'location', 'the probe section, evaluated');
    my ($status, undef, $body) = http_request('GET', '/preprocessed');
    is($status, 200, 'the location set by the preprocessor answers');
    is($body, 'by the preprocessor', 'with its body');
}



=== TEST 12: block_defaults() gives a block the section it does not have
--- config
application live {
    live on;
}
--- post_check eval
sub {
    my ($block) = @_;
    is($block->probe, 'default', 'the default probe section');
    my ($status) = http_request('GET', '/preprocessed');
    is($status, 404, 'no location from the preprocessor');
}



=== TEST 13: an empty section keeps the default out
--- config
application live {
    live on;
}
--- probe
--- post_check eval
sub {
    my ($block) = @_;
    is($block->probe, '', 'the probe section stays empty');
}
