# Helpers shared by the TAP tests: a cluster with pg_exporter preloaded, raw
# and parsed HTTP over loopback, exposition parsing, promtool.
package PgExporterTest;

use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
use IO::Select;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use FindBin;

our @EXPORT = qw(new_exporter_node http_request raw_exchange parse_exposition sample
  worker_pid wait_for_worker wait_for_listening promtool_check promtool_unexpected proc_cpu_seconds
  server_major remove_conf);

# A node with pg_exporter preloaded on a free port; cache off so every scrape
# runs the collectors.
sub new_exporter_node
{
	my ($name, %opts) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%{ $opts{init} // {} });
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_exporter'
pg_exporter.listen_addresses = '127.0.0.1'
pg_exporter.port = $port
pg_exporter.cache_ttl = 0
} . ($opts{conf} // ''));
	$node->start unless $opts{no_start};
	return ($node, $port);
}

# One request on a fresh connection; returns { status, headers, body }.
sub http_request
{
	my ($port, $method, $path, %headers) = @_;
	my $req = "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
	$req .= "$_: $headers{$_}\r\n" for sort keys %headers;
	$req .= "\r\n";
	my $raw = raw_exchange($port, $req, 30);
	return parse_response($raw);
}

sub parse_response
{
	my ($raw) = @_;
	return { status => 0, headers => {}, body => '' } unless defined $raw && length $raw;
	my ($head, $body) = split /\r\n\r\n/, $raw, 2;
	my @lines = split /\r\n/, $head;
	my ($status) = (shift(@lines) // '') =~ m{^HTTP/1\.[01] (\d{3})};
	my %h;
	for (@lines) { my ($k, $v) = /^([^:]+):\s*(.*)$/ or next; $h{ lc $k } = $v; }
	return { status => $status // 0, headers => \%h, body => $body // '' };
}

# Sends bytes, reads until the server closes or the timeout passes.
sub raw_exchange
{
	my ($port, $bytes, $timeout) = @_;
	$timeout //= 10;
	my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5)
	  or return undef;
	$sock->autoflush(1);
	print $sock $bytes if length $bytes;
	my $sel = IO::Select->new($sock);
	my $out = '';
	my $deadline = time + $timeout;
	while (time < $deadline)
	{
		last unless $sel->can_read($deadline - time);
		my $n = sysread($sock, my $buf, 65536);
		last unless $n;
		$out .= $buf;
	}
	close $sock;
	return $out;
}

# { "name{labels}" => value } and a list of families from exposition text.
sub parse_exposition
{
	my ($text) = @_;
	my (%samples, %types);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^# TYPE (\S+) (\S+)$/) { $types{$1} = $2; next; }
		next if $line =~ /^#/ || $line eq '';
		my ($key, $value) = $line =~ /^(\S+(?:\{.*\})?) (\S+)$/ or next;
		$samples{$key} = $value;
	}
	return (\%samples, \%types);
}

# The value of the first sample whose name (and optional label regex) match.
sub sample
{
	my ($samples, $name, $label_re) = @_;
	for my $k (sort keys %$samples)
	{
		my ($n, $labels) = $k =~ /^([^{]+)(\{.*\})?$/;
		next unless $n eq $name;
		next if defined $label_re && ($labels // '') !~ $label_re;
		return $samples->{$k};
	}
	return undef;
}

# Drops every line setting $name from the node's postgresql.conf (13's test
# framework has no adjust_conf).
sub remove_conf
{
	my ($node, $name) = @_;
	my $file = $node->data_dir . '/postgresql.conf';
	open(my $in, '<', $file) or die "$file: $!";
	my @keep = grep { !/^\s*\Q$name\E\s*=/ } <$in>;
	close($in);
	open(my $out, '>', $file) or die "$file: $!";
	print $out @keep;
	close($out);
	return;
}

# The running server's major version (13 .. 19).
sub server_major
{
	my ($node) = @_;
	return int($node->safe_psql('postgres', 'SHOW server_version_num') / 10000);
}

sub worker_pid
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_exporter'");
}

sub wait_for_worker
{
	my ($node) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_exporter'")
	  or die "pg_exporter worker did not start";
	return worker_pid($node);
}

# Waits until a GET / on the port answers 200.
sub wait_for_listening
{
	my ($port, $timeout) = @_;
	my $deadline = time + ($timeout // 30);
	while (time < $deadline)
	{
		my $r = http_request($port, 'GET', '/');
		return 1 if $r->{status} == 200;
		sleep 0.1;
	}
	return 0;
}

# Runs promtool check metrics; returns (exit code, output).
sub promtool_check
{
	my ($text) = @_;
	my ($stdout, $stderr);
	IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', \$text, '>', \$stdout, '2>', \$stderr);
	return ($? >> 8, ($stdout // '') . ($stderr // ''));
}

# promtool lint findings on names we did not inherit from postgres_exporter
# (whose counters predate the _total rule): must be none.
sub promtool_unexpected
{
	my ($out) = @_;
	open my $fh, '<', "$FindBin::RealBin/promtool_inherited_names.txt" or die $!;
	my %inherited = map { chomp; ($_ => 1) } <$fh>;
	close $fh;
	return [ grep { /\S/ && !$inherited{ (split / /)[0] } } split /\n/, $out ];
}

# utime + stime of a process, in seconds, from /proc/<pid>/stat.
sub proc_cpu_seconds
{
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or die "cannot read /proc/$pid/stat: $!";
	my $stat = <$fh>;
	close $fh;
	$stat =~ s/^.*\) //s;
	my @f = split / /, $stat;
	my $ticks = `getconf CLK_TCK`;
	chomp $ticks;
	# After the comm field, utime and stime are the 12th and 13th fields.
	return ($f[11] + $f[12]) / $ticks, 1 / $ticks;
}

1;
