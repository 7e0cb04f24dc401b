# Hostile and unlucky clients never stop other scrapes and never crash the
# worker; a terminated worker comes back without restarting the postmaster.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use IO::Select;
use Socket;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_exporter_node('robust', conf => "pg_exporter.client_timeout = '2s'\npg_exporter.max_clients = 8\n");
my $pid = wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');
my $pm_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

sub connect_client
{
	return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5);
}

# A client whose receive buffer is as small as the kernel allows: a large
# response then cannot be sent unless the client reads it.
sub connect_small_client
{
	socket(my $c, PF_INET, SOCK_STREAM, getprotobyname('tcp')) or die "socket: $!";
	setsockopt($c, SOL_SOCKET, SO_RCVBUF, pack('i', 1024)) or die "setsockopt: $!";
	connect($c, pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or die "connect: $!";
	return $c;
}

my $scrape_answered_at;
sub scrape_ok
{
	my ($what) = @_;
	my $r = http_request($port, 'GET', '/metrics');
	$scrape_answered_at = time;
	my ($s) = parse_exposition($r->{body});
	ok($r->{status} == 200 && (sample($s, 'pg_up') // -1) == 1, "$what: a normal scrape still succeeds")
	  or diag "status $r->{status}";
	return $s;
}

# Reads until the server closes the connection (at most 60 s): what it sent,
# and when it closed.
sub read_until_closed
{
	my ($c) = @_;
	my $sel = IO::Select->new($c);
	my ($out, $deadline) = ('', time + 60);
	while (time < $deadline)
	{
		next unless $sel->can_read($deadline - time);
		my $n = sysread($c, my $buf, 65536);
		last unless $n;
		$out .= $buf;
	}
	return ($out, time);
}

sub self_metric
{
	my ($s, $name, $label_re) = @_;
	return sample($s, $name, $label_re) // 0;
}

# Slow clients: each trickles the start of a request head, one byte at a time.
my $s0 = scrape_ok('before the slow clients');
my @slow = map { connect_client() } 1 .. 3;
my $slow_since = time;
for my $i (1 .. 3)
{
	for my $c (@slow) { syswrite($c, substr("GET /metrics HTTP/1.1\r\n", $i - 1, 1)); }
	sleep 0.3;
}
my $s1 = scrape_ok('slow clients trickling');
my $answered = $scrape_answered_at;
# At client_timeout after they connected, each gets a 408 and is closed.
for my $k (0 .. $#slow)
{
	my ($reply, $closed_at) = read_until_closed($slow[$k]);
	like($reply, qr{\AHTTP/1\.1 408 Request Timeout\r\n}, "slow client $k: 408, then closed");
	cmp_ok($closed_at - $slow_since, '>=', 1.5, "slow client $k: not cut before client_timeout (2 s)");
	cmp_ok($closed_at, '>', $answered, "slow client $k: cut after the scrape was answered (it did not wait)");
}
close $_ for @slow;
my $s2 = scrape_ok('after the slow clients');
is(self_metric($s2, 'pg_exporter_http_timeouts_total') - self_metric($s0, 'pg_exporter_http_timeouts_total'),
	3, 'pg_exporter_http_timeouts_total counts the three slow clients');
is(self_metric($s2, 'pg_exporter_http_responses_total', qr/code="408"/)
	  - self_metric($s0, 'pg_exporter_http_responses_total', qr/code="408"/),
	3, 'and pg_exporter_http_responses_total their three 408s');

# Garbage of every kind.
srand(42);
for my $i (1 .. 50)
{
	my $junk = join '', map { chr(int(rand(256))) } 1 .. int(rand(3000));
	PgExporterTest::raw_exchange($port, $junk, 0.2);
}
# Oversized heads: 431 (the server closes with bytes unread, so the client
# may see a reset instead).
for my $bytes ("GET /metrics HTTP/1.1\r\n" . ("X: y\r\n" x 5000), ('A' x 100000))
{
	my $reply = PgExporterTest::raw_exchange($port, $bytes, 10) // '';
	like($reply, qr{\A(?:HTTP/1\.1 431 |\z)}, 'an oversized head is 431 (or reset)');
}
like(PgExporterTest::raw_exchange($port, "\0\0\0\0\r\n\r\n", 10), qr{\AHTTP/1\.1 400 }, 'NUL bytes are 400');
like(PgExporterTest::raw_exchange($port, "GET /%00%ff HTTP/1.1\r\n\r\n", 10), qr{\AHTTP/1\.1 404 },
	'an escaped NUL in the path is only an unknown path (404)');
scrape_ok('after garbage');

# Clients that vanish mid-response.
for (1 .. 10)
{
	my $c = connect_client();
	syswrite($c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	sysread($c, my $buf, 100);
	close $c;
}
scrape_ok('after clients hung up mid-response');

# Clients that ask and never read (with the smallest receive buffer): a
# response that does not fit in the socket buffers is cut at the write
# deadline (3 x client_timeout) and counted as a timeout; one that fits is
# sent whole, and the connection closed at the idle deadline without being
# counted. Which of the two depends on the kernel's buffer sizing (the unit
# test server_reader_that_never_reads_times_out cuts one deterministically);
# either way the server closes each of them and counts exactly the cut ones.
my $s3 = scrape_ok('before the clients that never read');
my @readers_never = map {
	my $c = connect_small_client();
	syswrite($c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	$c
} 1 .. 3;
my $s4 = scrape_ok('while clients never read');
sleep 1;
my $cut = 0;
for my $k (0 .. $#readers_never)
{
	my ($reply) = read_until_closed($readers_never[$k]);
	my ($len) = $reply =~ /\r\nContent-Length: (\d+)\r\n/;
	my ($head, $body) = split /\r\n\r\n/, $reply, 2;
	ok(defined $len && $reply =~ m{\AHTTP/1\.1 200 OK\r\n}, "never-reading client $k: the response had begun");
	$cut++ if length($body // '') < ($len // 0);
}
close $_ for @readers_never;
my $s5 = scrape_ok('after the clients that never read');
is(self_metric($s5, 'pg_exporter_http_timeouts_total') - self_metric($s3, 'pg_exporter_http_timeouts_total'),
	$cut, "pg_exporter_http_timeouts_total counts the $cut cut off while writing");

# More connections than max_clients (8) that never send a byte: the slots
# fill, up to 8 more wait in the server for one, the oldest waiting get a
# quick 503 as newer ones come, and idle connections give way (after 0.1 s)
# to the scrape that comes right behind them all: it is served without
# waiting for the head deadline (client_timeout, 2 s) of any of them.
my @flood = grep { defined } map { connect_client() } 1 .. 20;
is(scalar @flood, 20, 'twenty idle connections opened');
my $flood_t0 = time;
my $r = http_request($port, 'GET', '/metrics');
my ($s6) = parse_exposition($r->{body});
is($r->{status}, 200, 'over the connection cap: a scrape behind twenty idle connections is served');
is(sample($s6, 'pg_up'), 1, 'and it is a full scrape');
cmp_ok(time - $flood_t0, '<', 1.9, 'before the idle connections\' head deadline');
read_until_closed($_) for @flood;
close $_ for @flood;
my $s7 = scrape_ok('after the flood');
my %delta = map {
	my ($name, $re) = @$_;
	($name . ($re // '') => self_metric($s7, $name, $re) - self_metric($s5, $name, $re))
} ([ 'pg_exporter_http_timeouts_total' ], [ 'pg_exporter_http_connections_evicted_total' ],
	[ 'pg_exporter_http_connections_refused_total', qr/reason="busy"/ ], [ 'pg_exporter_http_connections_total' ]);
my ($timeouts, $evicted, $busy, $accepted) = map { $delta{$_} } ('pg_exporter_http_timeouts_total',
	'pg_exporter_http_connections_evicted_total', 'pg_exporter_http_connections_refused_total' . qr/reason="busy"/,
	'pg_exporter_http_connections_total');
is($timeouts + $evicted + $busy, 20,
	"each idle connection was closed and counted once: $timeouts at the head deadline, $evicted gave way, $busy got a 503");
# Accepted since $s5: the 20 less those refused at once, the scrape, and the scrape reporting it.
is($accepted, 22 - $busy, 'pg_exporter_http_connections_total counts every accepted connection');
is(self_metric($s7, 'pg_exporter_http_connections_rejected_total'), 0, 'no connection was refused a descriptor');

is(worker_pid($node), $pid, 'the worker survived everything above');

# pg_cancel_backend reaches the worker between scrapes: it logs and goes on.
my $cancel_offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
$node->wait_for_log(qr/canceling statement due to user request/, $cancel_offset);
scrape_ok('after pg_cancel_backend');
is(worker_pid($node), $pid, 'the same worker after pg_cancel_backend');

# pg_terminate_backend: the worker exits, comes back, the postmaster did not restart.
my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_exporter' AND pid <> $pid")
  or die 'worker did not come back';
ok(wait_for_listening($port), 'endpoint answers after the worker restarted');
scrape_ok('after the worker restarted');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $pm_start, 'the postmaster did not restart');
ok(!$node->log_contains('terminating any other active server processes', $log_offset),
	'no crash-restart of the cluster');
ok(!$node->log_contains('was terminated by signal', $log_offset), 'no process died of a signal');

$node->stop;
done_testing();
