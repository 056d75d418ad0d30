package Test::Players;

# What the viewers' tests share (t/100-http-flv.t, t/110-hls.t): an audit
# log a block (audit1, audit2, ...), its records, play tokens.

use strict;
use warnings;

use Exporter 'import';
use JSON::PP ();
use Test::Compliance;

our @EXPORT = qw(
    audit_dir
    audit_conf
    records
    play_token
);


sub audit_dir {
    my ($block) = @_;
    my ($n) = ($block || current_block())->name =~ /^TEST (\d+)/;
    return "audit$n";
}


# a block without an rtmp_config of its own gets the zone and its audit log

sub audit_conf {
    my ($block) = @_;

    return if defined $block->rtmp_config;

    $block->set_value(rtmp_config => zone_conf()
                      . "compliance_audit_log \$TEST_NGINX_SERVROOT/"
                      . audit_dir($block) . ";\n");
}


# the block's audit records so far, of EVENT if given

sub records {
    my ($event) = @_;
    my @r;

    for my $f (sort glob servroot() . '/' . audit_dir() . '/*.jsonl') {
        for my $line (split /\n/, slurp($f)) {
            my $r = eval { JSON::PP::decode_json($line) } or next;
            push @r, $r if !defined $event || $r->{event} eq $event;
        }
    }

    return @r;
}


# a play token for ROOM: scope, room, sub, exp and CLAIMS

sub play_token {
    my ($room, %claims) = @_;

    my %c = (scope => 'play', room => $room, sub => 'v1',
             exp => time + 3600, %claims);

    return token(raw_claims => JSON::PP->new->canonical->encode(\%c));
}


1;
