# Slots cannot be held hostage (bounded, loopback): 16 idle keep-alive
# clients, 300 slowloris connections, 50 slow readers and a flood of held
# connections each leave a scrape served; a TLS ClientHello and an HTTP/0.9
# request on the plain port are refused at once; a connection's lifetime is
# not renewed by its requests; max_clients is capped by the descriptor
# budget.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Time::HiRes qw(time sleep);

# A long client timeout: what is refused at once is not refused by a timeout.
my ($node, $port) = new_exporter_node('slots', conf => "pg_exporter.client_timeout = '30s'\n");
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

sub connect_one
{
	return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5);
}

sub probe
{
	my ($what) = @_;
	my $t0 = time;
	my $r = http_request($port, 'GET', '/metrics');
	is($r->{status}, 200, "$what: a scrape is served");
	like($r->{body}, qr/^pg_up 1$/m, "$what: with pg_up 1");
	return time - $t0;
}

sub counter
{
	my ($name, $re) = @_;
	my ($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
	return sample($s, $name, $re) // 0;
}

# 16 idle keep-alive clients, each having made one request.
my $evicted = counter('pg_exporter_http_connections_evicted_total');
my @idle;
for (1 .. 16)
{
	my $c = connect_one() or die "connect: $!";
	print $c "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	my $sel = IO::Select->new($c);
	$sel->can_read(10);
	sysread($c, my $buf, 65536);
	push @idle, $c;
}
probe('16 idle keep-alive clients');
cmp_ok(counter('pg_exporter_http_connections_evicted_total'), '>', $evicted, 'an idle connection gave its slot');
close $_ for @idle;

# 300 slowloris connections: half a head each, a byte now and then.
my @slow;
for (1 .. 300)
{
	my $c = connect_one() or last;
	print $c "GET / HTTP/1.1\r\nX-Slow: ";
	push @slow, $c;
}
is(scalar(@slow), 300, '300 slowloris connections opened');
print $_ "a" for @slow;
probe('300 slowloris connections');
close $_ for @slow;

# 50 slow readers: a scrape each, read one byte at a time (never, here).
my @readers;
for (1 .. 50)
{
	my $c = connect_one() or last;
	setsockopt($c, SOL_SOCKET, SO_RCVBUF, 2048);
	print $c "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	push @readers, $c;
}
sleep 1.5;    # they have been reading for over a second: the worst first in line
probe('50 slow readers');
close $_ for @readers;

# A flood of 900 held connections (this process may open 1,024 files), opened
# as fast as the kernel takes them; bench/slots.sh floods with 2,000.
my @flood;
for (1 .. 900)
{
	my $c = connect_one() or last;
	push @flood, $c;
}
is(scalar(@flood), 900, '900 flood connections held');
probe('the flood');
close $_ for @flood;
for my $l (qw(busy network))
{
	ok(defined counter('pg_exporter_http_connections_refused_total', qr/reason="$l"/), "refused{reason=\"$l\"} is exported");
}

# At once, not after the 30 s head timeout.
for my $case ([ 'a TLS ClientHello', "\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" ], [ 'HTTP/0.9', "GET /metrics\r\n" ])
{
	my $t0 = time;
	my $raw = raw_exchange($port, $case->[1], 25);
	like($raw // '', qr{^HTTP/1\.1 400 }, "$case->[0] on the plain port: 400");
	cmp_ok(time - $t0, '<', 15, "$case->[0]: refused at once, not at the head timeout");
}

# The lifetime (6 x client_timeout): requests every 0.5 s do not renew it.
$node->append_conf('postgresql.conf', "pg_exporter.client_timeout = '1s'\n");
$node->reload;
sleep 1;
my $c = connect_one() or die;
my $answered = 0;
my $t0 = time;
while (time - $t0 < 12)
{
	print $c "GET / HTTP/1.1\r\nHost: x\r\n\r\n" or last;
	my $sel = IO::Select->new($c);
	last unless $sel->can_read(5);
	my $n = sysread($c, my $buf, 65536);
	last unless $n;
	$answered++;
	sleep 0.5;
}
my $lived = time - $t0;
cmp_ok($lived, '<', 11, sprintf('the connection was closed after %.1f s', $lived));
cmp_ok($answered, '>=', 2, "after $answered requests");

# max_clients above the descriptor budget is capped, with a warning.
$node->append_conf('postgresql.conf', "max_files_per_process = 64\npg_exporter.max_clients = 1000\n");
$node->restart;
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers after the restart');
ok($node->wait_for_log(qr/pg_exporter.max_clients = 1000 is above what the server's file descriptor budget allows/),
	'the cap is logged');
my $cap = counter('pg_exporter_http_max_clients');
cmp_ok($cap, '<', 1000, "max_clients capped to $cap");
cmp_ok($cap, '>=', 1, 'and at least one');

$node->stop;
done_testing();
