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
    players_preprocessor
    records
    play_token
    http_refused
    token_required
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


# players_preprocessor(\&STOP, \@PLAYERS): before each block, STOP(P) for
# each P of the last block's PLAYERS (the list is emptied), and audit_conf

sub players_preprocessor {
    my ($stop, $players) = @_;

    add_block_preprocessor(sub {
        my ($block) = @_;

        $stop->($_) for @$players;
        @$players = ();

        audit_conf($block);
    });
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



# an HTTP player's refusal by the gate: its status (403), header and body
# say REASON, the body matches DETAIL (a qr//), as text/plain

sub http_refused {
    my ($what, $reason, $detail, $status, $h, $body) = @_;

    Test::More::is($status, 403, "$what: HTTP 403");
    Test::More::is($h->{'x-compliance-reason'}, $reason,
                   "$what: X-Compliance-Reason: $reason");
    Test::More::like($body // '', qr/^\Q$reason\E: $detail\n\z/,
                     "$what: the body is \"$reason: text\"");
    Test::More::like($h->{'content-type'} || '', qr{^text/plain},
                     "$what: text/plain");
}


# the refusal of a play without a token in ROOM, of tier vip
# (viewer_token=on): the answer, and the error log's line at info

sub token_required {
    my ($room, $status, $h, $body) = @_;

    http_refused('no token', 'viewer_token_required',
                 qr/tier "vip" of the room needs a play token/,
                 $status, $h, $body);
    Test::More::ok(wait_log(qr/\[info\] .*compliance: play rejected: viewer_token_required: tier "vip" of the room needs a play token, app: "live", room: "\Q$room\E"/),
                   'the refusal is logged at [info]');
}


1;
