# Allocation stress for perl: hashes, arrays, strings, sort, regex.
# Prints deterministic digests (hash order is never printed unsorted).
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my %h;
for my $i (1 .. 200000) {
    $h{"k$i" . ("z" x ($i % 23))} = [$i, "v" x ($i % 11)];
}
delete $h{"k$_" . ("z" x ($_ % 23))} for grep { $_ % 3 == 0 } 1 .. 200000;
my @keys = sort keys %h;
print "hash ", scalar(@keys), " ", md5_hex(join ",", @keys[0 .. 999]), "\n";

my %count;
my $text = "";
for my $i (1 .. 100000) {
    $text .= sprintf("word%d %s ", $i % 997, ($i % 3) ? "alpha" : "beta");
}
$count{$_}++ for split /\s+/, $text;
print "words ", scalar(keys %count), " ",
    md5_hex(join ";", map { "$_=$count{$_}" } sort keys %count), "\n";

(my $t2 = $text) =~ s/word(\d+)/W<$1>/g;
print "subst ", length($t2), " ", md5_hex($t2), "\n";

my @arr = map { [$_, ($_ * 7919) % 10007] } 1 .. 150000;
my @sorted = sort { $a->[1] <=> $b->[1] or $a->[0] <=> $b->[0] } @arr;
print "sort ", md5_hex(join ",", map { $_->[0] } @sorted[0 .. 4999]), "\n";

my @stack;
for my $i (1 .. 300000) {
    push @stack, "s" x ($i % 50);
    splice(@stack, 0, 100) if @stack > 1000;
}
print "stack ", scalar(@stack), " ", md5_hex(join "", @stack), "\n";
