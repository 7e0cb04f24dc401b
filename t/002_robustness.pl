# Hostile and unlucky clients never stop other scrapes and never crash the
# worker; a terminated worker comes back without restarting the postmaster.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
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

sub scrape_ok
{
	my ($what) = @_;
	my $t0 = time;
	my $r = http_request($port, 'GET', '/metrics');
	my ($s) = parse_exposition($r->{body});
	ok($r->{status} == 200 && (sample($s, 'pg_up') // -1) == 1, "$what: a normal scrape still succeeds")
	  or diag "status $r->{status}";
	return time - $t0;
}

# Slow clients: each trickles a request head one byte at a time.
my @slow = map { connect_client() } 1 .. 3;
for my $i (1 .. 3)
{
	for my $c (@slow) { syswrite($c, substr("GET /metrics HTTP/1.1\r\n", $i - 1, 1)); }
	sleep 0.3;
}
my $took = scrape_ok('slow clients trickling');
cmp_ok($took, '<', 5, 'the scrape did not wait for the slow clients');
# They are cut off at client_timeout.
sleep 2.5;
my $slow_reply = '';
sysread($slow[0], $slow_reply, 4096);
like($slow_reply, qr{^(HTTP/1\.1 408|)}, 'slow client timed out (408 or closed)');
close $_ for @slow;

# Garbage of every kind.
srand(42);
for my $i (1 .. 50)
{
	my $junk = join '', map { chr(int(rand(256))) } 1 .. int(rand(3000));
	PgExporterTest::raw_exchange($port, $junk, 0.2);
}
PgExporterTest::raw_exchange($port, "GET /metrics HTTP/1.1\r\n" . ("X: y\r\n" x 5000), 2);
PgExporterTest::raw_exchange($port, ('A' x 100000), 2);
PgExporterTest::raw_exchange($port, "\0\0\0\0\r\n\r\n", 2);
PgExporterTest::raw_exchange($port, "GET /%00%ff HTTP/1.1\r\n\r\n", 2);
scrape_ok('after garbage');

# Clients that vanish mid-response, or never read it.
for (1 .. 10)
{
	my $c = connect_client();
	syswrite($c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	sysread($c, my $buf, 100);
	close $c;
}
my @readers_never = map { my $c = connect_client(); syswrite($c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); $c } 1 .. 3;
scrape_ok('after clients hung up mid-response');

# More connections than max_clients: the extra ones wait, nothing breaks.
my @flood = grep { defined } map { connect_client() } 1 .. 20;
my $t0 = time;
my $r = http_request($port, 'GET', '/metrics');
ok($r->{status} == 200 || time - $t0 < 10, 'over the connection cap: served once idle clients time out');
close $_ for @flood, @readers_never;
scrape_ok('after the flood');

is(worker_pid($node), $pid, 'the worker survived everything above');

# pg_cancel_backend reaches the worker between scrapes: it logs and goes on.
$node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)");
sleep 0.5;
scrape_ok('after pg_cancel_backend');

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
