#!/usr/bin/perl
# Merges the metrics tables t/020_compatibility.pl writes on each server
# version (tmp_check/metrics_table.md) into README's table, with the
# PostgreSQL column saying which versions export each family:
#   perl scripts/metrics-table.pl 13=path/metrics_table.md 14=... > table.md
# Each row's other cells come from the newest version that has the family.
use strict;
use warnings;

my (%versions, %row, %seen_in, $header, $last_row);
for my $arg (@ARGV)
{
	my ($v, $file) = $arg =~ /^(\d+)=(.+)$/ or die "usage: $0 VERSION=FILE ...\n";
	$versions{$v} = 1;
	open my $fh, '<', $file or die "$file: $!";
	while (my $line = <$fh>)
	{
		chomp $line;
		my @cells = split /(?<!\\)\|/, $line, -1;
		if ($line =~ /^\| Family /) { $header //= $line; next; }
		next if $line =~ /^\|---/;
		my ($name) = ($cells[1] // '') =~ /^\s*`([^`]+)`\s*$/ or next;
		if ($name =~ /</) { $last_row = $line; next; }    # the pg_settings_<name> pattern row
		$seen_in{$name}{$v} = 1;
		$row{$name} = [ @cells ] if !$row{$name} || $v >= ($row{$name}[-1] // 0);
		$row{$name}[-1] = $v;
	}
	close $fh;
}
my @all = sort { $a <=> $b } keys %versions;
print "$header\n", "|---" x 8, "|\n";
for my $name (sort keys %row)
{
	my @cells = @{ $row{$name} };
	$cells[6] = ' ' . range([ sort { $a <=> $b } keys %{ $seen_in{$name} } ], \@all) . ' ';
	$cells[-1] = '';
	print join('|', @cells), "\n";
}
print "$last_row\n" if $last_row;

# "all", "16+" (to the newest), "13-16", or a list "13,15".
sub range
{
	my ($have, $all) = @_;
	return 'all' if @$have == @$all;
	my %h = map { $_ => 1 } @$have;
	my ($lo, $hi) = ($have->[0], $have->[-1]);
	my $contiguous = !grep { !$h{$_} } grep { $_ >= $lo && $_ <= $hi } @$all;
	return join(',', @$have) unless $contiguous;
	return "$lo+" if $hi == $all->[-1];
	return $lo == $hi ? "$lo" : "$lo-$hi";
}
