# The libFuzzer targets of fuzz/: builds them (fuzz/build.sh build/fuzz)
# and runs each for FUZZ_SECONDS (default 10) from its seed corpus; one
# test per target: it ran and found no crash, leak, UBSan report or
# broken invariant.  A crash's input is kept in build/fuzz/fuzz-crashes/.
#
# Needs clang and its libFuzzer/sanitizer runtime (Debian: clang
# libclang-rt-14-dev); they are installed when missing and this process
# may, else the file is skipped.

use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";
my $build = $ENV{FUZZ_BUILD} // "$top/build/fuzz";
my $seconds = $ENV{FUZZ_SECONDS} // 10;
my @packages = qw(clang libclang-rt-14-dev);

chdir $top or die "chdir $top: $!";

sub build {
    my $out = `fuzz/build.sh '$build' 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = build();

if ($rc == 3) {
    # no clang or no runtime: install them if this process can
    my $why = (split /\n/, $out)[-1];

    if ($> != 0) {
        plan skip_all => "$why; not root, cannot install @packages";
    }

    my $inst = `scripts/install-deps @packages 2>&1`;

    if ($? != 0) {
        $inst =~ s/\s+$//;
        plan skip_all => "$why; installing @packages failed: "
                         . (split /\n/, $inst)[-1];
    }

    ($rc, $out) = build();
}

if ($rc != 0) {
    plan tests => 1;
    fail('fuzz/build.sh builds the fuzz targets');
    diag($out);
    exit;
}

my $run = `fuzz/run.sh '$build' '$seconds' 2>&1`;
my $run_rc = $? >> 8;

for my $t (qw(amf token jwks order state audit witness)) {
    my ($line) = $run =~ /^(fuzz_\Q$t\E: .*)$/m;

    if (!defined $line) {
        fail("fuzz_$t ran");
        next;
    }

    my ($runs) = $line =~ /runs: (\d+)/;
    my ($crashes) = $line =~ /crashes: (\d+)/;

    ok($runs && $runs > 0 && defined $crashes && $crashes == 0,
       "fuzz_$t: no crash in $seconds s") or diag($line);
    note($line);
}

# a report (inputs, sanitizer output) for any failure
if ($run_rc != 0) {
    diag($run);
}

done_testing();
