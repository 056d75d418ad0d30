# The Debian package (debian/, make deb): builds
# build/deb/libnginx-mod-rtmp-compliance_*.deb unless it is newer than
# everything it is made of, installs it with dpkg -i into this machine's
# nginx, checks what it installed (the module in /usr/lib/nginx/modules,
# mod-rtmp-compliance.conf enabled as 60-... after rtmp's 50-..., the tools,
# man pages and docs), runs Debian's nginx with a test configuration that
# loads the modules through /etc/nginx/modules-enabled/*.conf (nginx -t,
# then a daemon in a temporary prefix, not the system service), publishes
# through it with a token from the installed compliance-token, checks the
# control API, the state file and the audit log (the installed
# compliance-audit), and removes the package again: dpkg -r (the
# modules-enabled link becomes *.removed, as for every Debian nginx module)
# then dpkg --purge, so that the machine is left as it was.
#
# Needs root (dpkg); skipped otherwise, and when the package is already
# installed on the machine (it would be removed).  If the machine's own
# nginx service is running, dpkg's nginx-reload trigger reloads it on
# install and on removal, as for any module package.
#
# TEST_COMPLIANCE_DEB=FILE installs FILE instead of building.

use strict;
use warnings;

use Cwd ();
use Fcntl ();
use File::Basename ();
use File::Find ();
use File::Temp ();
use HTTP::Tiny ();
use IO::Socket::INET ();
use POSIX ();
use Test::More;
use Time::HiRes ();

my $Pkg   = 'libnginx-mod-rtmp-compliance';
my $Top   = Cwd::abs_path(File::Basename::dirname(__FILE__) . '/..');
my $Nginx = '/usr/sbin/nginx';
my $Avail = '/usr/share/nginx/modules-available';
my $Enab  = '/etc/nginx/modules-enabled';
my $Mods  = '/usr/lib/nginx/modules';
my $Doc   = "/usr/share/doc/$Pkg";
my $T0    = Time::HiRes::time();

plan skip_all => 'not a Debian system (no dpkg)' unless -x '/usr/bin/dpkg';
plan skip_all => 'installs a package with dpkg -i: run as root (make test '
               . 'does)' unless $> == 0;
# one test at a time on this machine installs the package (other
# checkouts, parallel runs): wait for the others
open my $Lock, '>', '/run/lock/libnginx-mod-rtmp-compliance-test.lock'
    or plan skip_all => "cannot open the lock file: $!";
my $locked = 0;
for (1 .. 1200) {
    last if $locked = flock($Lock, Fcntl::LOCK_EX() | Fcntl::LOCK_NB());
    Time::HiRes::sleep(0.1);
}
plan skip_all => 'another t/060-deb.t held the package for 2 minutes'
    unless $locked;

plan skip_all => "$Pkg is installed on this machine: the test would remove it"
    if installed($Pkg);
plan skip_all => "libnginx-mod-rtmp (a dependency) is not installed: "
               . "make deps" unless installed('libnginx-mod-rtmp');
plan skip_all => "no $Nginx" unless -x $Nginx;

my ($NginxPrefix, $Installed, $TmpDir);

# whatever happens: stop our nginx, purge the package we installed (the
# END block holds $TmpDir, or an exit would remove the directory, pid file
# included, before nginx is stopped)
END {
    my $rc = $?;
    stop_nginx() if $NginxPrefix;
    undef $TmpDir;
    if ($Installed && installed_or_config($Pkg)) {
        diag("cleanup: dpkg --purge $Pkg");
        dpkg('--purge', $Pkg);
    }
    $? = $rc;
}

$SIG{INT} = $SIG{TERM} = sub { exit 1 };

sub installed {
    my ($p) = @_;
    my $s = `dpkg-query -W -f '\${Status}' $p 2>/dev/null`;
    return $s =~ /install ok installed/;
}

sub installed_or_config {
    my ($p) = @_;
    my $s = `dpkg-query -W -f '\${Status}' $p 2>/dev/null`;
    return $s =~ /installed|config-files|half/;
}

sub run {
    my (@cmd) = @_;
    my $out = `@{[ join ' ', map { quote($_) } @cmd ]} 2>&1`;
    return ($? >> 8, $out);
}

sub quote {
    my ($s) = @_;
    return $s if $s =~ m{^[\w./:=,+@%-]+$};
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

# dpkg, waiting for another dpkg or apt to let go of the lock
sub dpkg {
    my (@args) = @_;
    my ($rc, $out);
    for (1 .. 40) {
        ($rc, $out) = run('dpkg', @args);
        last unless $rc && $out =~ /lock/i;
        Time::HiRes::sleep(0.5);
    }
    return ($rc, $out);
}

sub listing {
    my ($dir) = @_;
    opendir my $dh, $dir or return '';
    return join ' ', sort grep { !/^\.\.?$/ } readdir $dh;
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    return scalar <$fh>;
}

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub wait_for {
    my ($cond, $secs) = @_;
    my $end = Time::HiRes::time() + $secs;
    while (Time::HiRes::time() < $end) {
        return 1 if $cond->();
        Time::HiRes::sleep(0.05);
    }
    return $cond->();
}

sub nginx_pid {
    my $pid = slurp("$NginxPrefix/logs/nginx.pid");
    return undef unless defined $pid && $pid =~ /^(\d+)/;
    return $1;
}

sub stop_nginx {
    my $pid = nginx_pid();
    return unless $pid && kill 0, $pid;
    kill 'QUIT', $pid;
    wait_for(sub { !kill 0, $pid }, 10) or kill 'KILL', $pid;
}

# ---- the package ---------------------------------------------------------

sub newest_input {
    my $newest = 0;
    my @roots = map { "$Top/$_" }
                qw(config Makefile module console debian man docs README.md
                   lib scripts/build-module scripts/compliance-token.c
                   scripts/compliance-audit.c);
    File::Find::find({ no_chdir => 1, wanted => sub {
        if (-d $_ && m{/debian/(build|\.debhelper|\Q$Pkg\E)$}) {
            $File::Find::prune = 1;
            return;
        }
        return unless -f $_;
        return if m{/debian/(files|[^/]*\.substvars|debhelper-build-stamp)$};
        my $m = (stat _)[9];
        $newest = $m if $m > $newest;
    } }, grep { -e } @roots);
    return $newest;
}

sub find_deb {
    my @debs = sort { (stat $b)[9] <=> (stat $a)[9] }
               glob("$Top/build/deb/${Pkg}_*.deb");
    return $debs[0];
}

my $deb = $ENV{TEST_COMPLIANCE_DEB};

if ($deb) {
    ok(-f $deb, "TEST_COMPLIANCE_DEB=$deb");
} else {
    $deb = find_deb();
    if ($deb && (stat $deb)[9] >= newest_input()) {
        pass("$deb is newer than its sources: not rebuilt");
    } else {
        my $t = Time::HiRes::time();
        # not the variables of a "make test SAN=1" that runs this test
        local %ENV = %ENV;
        delete @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES)};
        my ($rc, $out) = run('make', '-s', '-C', $Top, 'deb');
        is($rc, 0, sprintf('make deb (%.1f s)', Time::HiRes::time() - $t))
            or diag($out);
        $deb = find_deb();
    }
}

unless ($deb && -f $deb) {
    fail('a package to test');
    done_testing();
    exit 1;
}

my ($rc, $out) = run('dpkg-deb', '-f', $deb, 'Depends');
my ($abi) = (slurp('/usr/share/nginx/src/debian/libnginx-mod.abisubstvars')
             // '') =~ /^nginx:abi=(\S+)/m;
like($out, qr/\Q$abi\E/, "Depends: $abi (dh_nginx), as nginx-dev says")
    if $abi;
like($out, qr/libnginx-mod-rtmp \(>= [^)]+\), libnginx-mod-rtmp \(<< /,
     'Depends: libnginx-mod-rtmp of the upstream version built against');

# ---- install ------------------------------------------------------------

my %before = (enabled => listing($Enab), modules => listing($Mods),
              available => listing($Avail));

$Installed = 1;
($rc, $out) = dpkg('-i', $deb);
is($rc, 0, 'dpkg -i ' . File::Basename::basename($deb)) or diag($out);
ok(installed($Pkg), "$Pkg is installed");

ok(-f "$Mods/ngx_rtmp_compliance_module.so",
   "$Mods/ngx_rtmp_compliance_module.so");
is(slurp("$Avail/mod-rtmp-compliance.conf"),
   "load_module modules/ngx_rtmp_compliance_module.so;\n",
   "$Avail/mod-rtmp-compliance.conf loads it");
is(readlink("$Enab/60-mod-rtmp-compliance.conf"),
   "$Avail/mod-rtmp-compliance.conf",
   "$Enab/60-mod-rtmp-compliance.conf links to it");

my @enabled = sort glob("$Enab/*.conf");
my ($rtmp_at) = grep { $enabled[$_] =~ m{/\d+-mod-rtmp\.conf$} } 0 .. $#enabled;
my ($ours_at) = grep { $enabled[$_] =~ m{/60-mod-rtmp-compliance\.conf$} }
                0 .. $#enabled;
ok(defined $rtmp_at && defined $ours_at && $rtmp_at < $ours_at,
   'modules-enabled/*.conf loads rtmp before rtmp-compliance');

for my $tool (qw(compliance-token compliance-audit)) {
    ($rc, $out) = run("/usr/bin/$tool", '--help');
    ok($rc == 0 && $out =~ /^usage:/, "/usr/bin/$tool --help");
}

for my $man (qw(man1/compliance-token.1.gz man1/compliance-audit.1.gz
                man5/ngx_rtmp_compliance_module.5.gz)) {
    ok(-f "/usr/share/man/$man", "/usr/share/man/$man");
}

ok(-f "$Doc/README.md" && -f "$Doc/docs/directives.md"
   && -f "$Doc/docs/audit.md", "$Doc: README.md and docs/*.md");

# ---- nginx -t and a running nginx with the installed module -------------

$TmpDir = File::Temp->newdir('compliance-deb-XXXXXX', TMPDIR => 1);
$NginxPrefix = "$TmpDir";
my $p = $NginxPrefix;
mkdir "$p/$_" for qw(conf logs keys state tmp);
# modules-enabled/*.conf say "load_module modules/X.so": relative to the
# prefix, which for Debian's nginx is /usr/share/nginx (its modules/ is a
# link to /usr/lib/nginx/modules); with -p DIR it is DIR/modules
symlink($Mods, "$p/modules") or die "symlink $p/modules: $!\n";

($rc, $out) = run('openssl', 'genpkey', '-algorithm', 'RSA', '-pkeyopt',
                  'rsa_keygen_bits:2048', '-out', "$p/keys/2026a.pem");
($rc, $out) = run('openssl', 'pkey', '-in', "$p/keys/2026a.pem", '-pubout',
                  '-out', "$p/keys/2026a.pub") unless $rc;
is($rc, 0, 'an RSA key pair') or diag($out);

my $rtmp_port = free_port();
my $http_port = free_port();

sub write_conf {
    my ($file, $head) = @_;
    open my $fh, '>', $file or die "$file: $!\n";
    print {$fh} <<"CONF";
# t/060-deb.t: the modules come from $Enab, as in /etc/nginx/nginx.conf
$head
user root;
worker_processes 2;
daemon on;
master_process on;
pid logs/nginx.pid;
error_log logs/error.log info;

events {
    worker_connections 64;
}

rtmp {
    compliance_zone compliance 1m;
    compliance_state $p/state/orders.jsonl;
    compliance_audit_log $p/audit node=deb-test;

    server {
        listen 127.0.0.1:$rtmp_port;

        compliance_tier basic;

        application live {
            live on;
            compliance on;
            compliance_key $p/keys/2026a.pub kid=2026a;
            compliance_issuer deb-test;
        }
    }
}

http {
    access_log off;
    client_body_temp_path $p/tmp/body;
    proxy_temp_path $p/tmp/proxy;
    fastcgi_temp_path $p/tmp/fastcgi;
    uwsgi_temp_path $p/tmp/uwsgi;
    scgi_temp_path $p/tmp/scgi;

    server {
        listen 127.0.0.1:$http_port;

        location /compliance/ {
            compliance_api;
            allow 127.0.0.1;
            deny all;
        }
    }
}
CONF
    close $fh;
}

my @nginx = ($Nginx, '-p', "$p/", '-e', "$p/logs/error.log");

write_conf("$p/conf/nginx.conf", "include $Enab/*.conf;");
($rc, $out) = run(@nginx, '-c', 'conf/nginx.conf', '-t');
ok($rc == 0 && $out =~ /test is successful/,
   "nginx -t: the compliance directives work with the module from $Mods")
    or diag($out);

# the mistake an operator makes with the package: load_module it again
write_conf("$p/conf/twice.conf", "include $Enab/*.conf;\n"
           . "load_module $Mods/ngx_rtmp_compliance_module.so;");
($rc, $out) = run($Nginx, '-p', "$p/", '-e', "$p/logs/twice.log",
                  '-c', 'conf/twice.conf', '-t');
ok($rc != 0 && $out =~ /module "ngx_rtmp_compliance_module" is already loaded/,
   'nginx -t: loading it again next to modules-enabled is refused')
    or diag($out);

($rc, $out) = run(@nginx, '-c', 'conf/nginx.conf');
is($rc, 0, 'nginx starts') or diag($out);
ok(wait_for(sub {
       my $pid = nginx_pid();
       $pid && kill(0, $pid)
           && IO::Socket::INET->new(PeerAddr => "127.0.0.1:$rtmp_port")
   }, 10), "nginx listens on 127.0.0.1:$rtmp_port")
    or diag(slurp("$p/logs/error.log"));

sub token {
    my (@extra) = @_;
    my ($rc, $out) = run('/usr/bin/compliance-token', 'publish',
        '--alg', 'RS256', '--key', "$p/keys/2026a.pem", '--kid', '2026a',
        '--iss', 'deb-test', '--room', 'room1', '--sub', 'host-1',
        '--pid', 'person-1', '--op', 'op-1', '--tier', 'basic',
        '--idv', 'face', '--jti', 'deb-test-1', @extra);
    die "compliance-token failed: $out\n" if $rc;
    $out =~ s/\s+\z//;
    return $out;
}

my $client = $ENV{TEST_RTMP_CLIENT} || "$Top/build/rtmp-client";
run('make', '-s', '-C', $Top, 'tools') unless -x $client;

sub publish {
    my ($name) = @_;
    return run($client, '-p', $rtmp_port, '-a', 'live', '-n', $name,
               '--tags', 5, '--timeout', 5000);
}

($rc, $out) = publish('room1?token=' . token());
ok($rc == 0 && $out =~ /NetStream\.Publish\.Start/,
   'a publish with a token from /usr/bin/compliance-token is admitted')
    or diag($out);

($rc, $out) = publish('room1?token=' . token('--ttl', -3600));
ok($rc == 1 && $out =~ /NetStream\.Publish\.Rejected token_expired:/,
   'an expired token is refused: token_expired') or diag($out);

($rc, $out) = publish('room1');
ok($rc == 1 && $out =~ /NetStream\.Publish\.Rejected token_missing:/,
   'no token: token_missing') or diag($out);

my $http = HTTP::Tiny->new(timeout => 5);
my $api = "http://127.0.0.1:$http_port/compliance";

my $r = $http->post("$api/orders", {
    headers => { 'Content-Type' => 'application/json' },
    content => '{"target":"person:person-1","action":"suspend",'
             . '"duration":600,"reason":"deb test","ref":"t/060"}' });
is($r->{status}, 201, 'POST orders: 201') or diag($r->{content});

($rc, $out) = publish('room1?token=' . token());
ok($rc == 1 && $out =~ /NetStream\.Publish\.Rejected suspended:/,
   'the suspended person is refused: suspended') or diag($out);

$r = $http->get("$api/metrics");
like($r->{content}, qr/^compliance_admissions_total\{kind="publish"\} 1$/m,
     'metrics: 1 admission');
like($r->{content},
     qr/^compliance_rejections_total\{kind="publish",reason="token_expired"\} 1$/m,
     'metrics: 1 token_expired');
like($r->{content}, qr/^compliance_audit_available 1$/m,
     'metrics: the audit log is available');

like(slurp("$p/state/orders.jsonl") // '', qr/"person:person-1"/,
     'the order is in the state file');

my $log = slurp("$p/logs/error.log") // '';
unlike($log, qr/\[(alert|emerg)\]|exited on signal/,
       'no [alert], [emerg] or crashed worker in the error log');
unlike($log, qr/token=ey/, 'no token in the error log');

my $master = nginx_pid();
stop_nginx();
ok($master && !kill(0, $master), 'nginx stopped');

($rc, $out) = run('/usr/bin/compliance-audit', 'verify', "$p/audit");
ok($rc == 0 && $out =~ /^node:\s+deb-test$/m,
   '/usr/bin/compliance-audit verify: the chain is whole') or diag($out);

($rc, $out) = run('/usr/bin/compliance-audit', 'query', "$p/audit",
                  '--person', 'person-1', '--event', 'all');
ok($rc == 0 && $out =~ /publish\.accept/ && $out =~ /order\.create/
   && $out =~ /publish\.reject/, 'compliance-audit query: the person\'s '
   . 'admission, order and refusal') or diag($out);

# ---- remove ---------------------------------------------------------------

($rc, $out) = dpkg('-r', $Pkg);
is($rc, 0, "dpkg -r $Pkg") or diag($out);
ok(!-e "$Mods/ngx_rtmp_compliance_module.so" && !-e '/usr/bin/compliance-audit'
   && !-e '/usr/bin/compliance-token', 'the module and the tools are gone');
ok(!-e "$Enab/60-mod-rtmp-compliance.conf"
   && -l "$Enab/60-mod-rtmp-compliance.conf.removed",
   'the modules-enabled link is parked as .removed (dh_nginx)');

($rc, $out) = dpkg('--purge', $Pkg);
is($rc, 0, "dpkg --purge $Pkg") or diag($out);
$Installed = 0;

is(listing($Enab), $before{enabled}, "$Enab is as it was");
is(listing($Mods), $before{modules}, "$Mods is as it was");
is(listing($Avail), $before{available}, "$Avail is as it was");
ok(!installed_or_config($Pkg), "$Pkg is not known to dpkg any more");

diag(sprintf('t/060-deb.t: %.1f s', Time::HiRes::time() - $T0))
    if $ENV{TEST_VERBOSE};

done_testing();
