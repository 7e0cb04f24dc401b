# The metrics endpoint over real HTTP: format, promtool, values that move,
# process metrics against /proc, keep-alive, status codes, health.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $port) = new_exporter_node('endpoint');
my $pid = wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

# The worker shows itself in pg_stat_activity.
is($node->safe_psql('postgres', "SELECT application_name FROM pg_stat_activity WHERE pid = $pid"),
	'pg_exporter', 'worker reports application_name');

my $r = http_request($port, 'GET', '/metrics');
is($r->{status}, 200, 'GET /metrics is 200');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8', 'exposition content type');
my ($s, $types) = parse_exposition($r->{body});
is(sample($s, 'pg_up'), 1, 'pg_up 1');
ok(defined sample($s, 'pg_static', qr/short_version="\d+\.\d+\.0"/), 'pg_static with short_version');
ok(defined sample($s, 'pg_postmaster_start_time_seconds'), 'postmaster start time');
is(sample($s, 'pg_replication_is_replica'), 0, 'primary is not a replica');
is($types->{pg_exporter_process_cpu_seconds_total}, 'counter', 'process cpu is a counter');
for my $c (qw(server process))
{
	is(sample($s, 'pg_exporter_collector_success', qr/collector="$c"/), 1, "collector $c succeeded");
}

# promtool: never a format error; lint findings only for names we inherit.
my ($code, $out) = promtool_check($r->{body});
ok($code == 0 || $code == 3, "promtool parses the exposition (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'lint findings only on names inherited from postgres_exporter')
  or diag $out;

# Numbers move when the workload moves.
my $db_re = qr/datname="postgres"/;
my $before = sample($s, 'pg_stat_database_xact_commit', $db_re);
SKIP:
{
	skip 'database collector not present', 1 unless defined $before;
	$node->safe_psql('postgres', 'SELECT 1') for 1 .. 5;
	sleep 1;    # statistics are flushed by backends at most once a second
	($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
	cmp_ok(sample($s, 'pg_stat_database_xact_commit', $db_re), '>=', $before + 5, 'xact_commit grows');
}

# Process CPU is the real utime+stime of the worker, not an estimate.
my ($cpu_before, $tick) = proc_cpu_seconds($pid);
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
my ($cpu_after) = proc_cpu_seconds($pid);
my $cpu = sample($s, 'pg_exporter_process_cpu_seconds_total');
cmp_ok($cpu, '>=', $cpu_before - $tick, 'process cpu not below /proc before the scrape');
cmp_ok($cpu, '<=', $cpu_after + $tick, 'process cpu not above /proc after the scrape');
my $start = sample($s, 'pg_exporter_process_start_time_seconds');
my $backend_start = $node->safe_psql('postgres',
	"SELECT extract(epoch FROM backend_start) FROM pg_stat_activity WHERE pid = $pid");
cmp_ok(abs($start - $backend_start), '<', 2, 'process start time is the kernel start time of the worker');
cmp_ok(sample($s, 'pg_exporter_process_resident_memory_bytes'), '>', 1024 * 1024, 'rss is plausible');
cmp_ok(sample($s, 'pg_exporter_process_open_fds'), '>=', 3, 'open fds counted');
cmp_ok(sample($s, 'pg_exporter_process_max_fds'), '>=', sample($s, 'pg_exporter_process_open_fds'), 'max fds');

# Keep-alive: two requests on one connection; HTTP/1.0 closes.
my $two = PgExporterTest::raw_exchange($port,
	"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10);
my @statuses = $two =~ m{^HTTP/1\.1 (\d{3})}mg;
is_deeply(\@statuses, [ 200, 200 ], 'two pipelined requests on one keep-alive connection');
my $ten = PgExporterTest::raw_exchange($port, "GET / HTTP/1.0\r\n\r\n", 10);
like($ten, qr{^HTTP/1\.[01] 200}, 'HTTP/1.0 request served');
like($ten, qr{Connection: close}i, 'HTTP/1.0 connection closed');

# HEAD: headers only, full length.
my $head = PgExporterTest::raw_exchange($port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10);
my ($len) = $head =~ /Content-Length: (\d+)/i;
ok($len > 1000, 'HEAD announces the body length');
like($head, qr/\r\n\r\n\z/, 'HEAD has no body');

# Status codes.
is(http_request($port, 'GET', '/nope')->{status}, 404, 'unknown path is 404');
my $post = http_request($port, 'POST', '/metrics');
is($post->{status}, 405, 'POST is 405');
is($post->{headers}{allow}, 'GET, HEAD', '405 says what is allowed');
like(PgExporterTest::raw_exchange($port, "GARBAGE\r\n\r\n", 10), qr{^HTTP/1\.1 400}, 'malformed request is 400');
like(PgExporterTest::raw_exchange($port, "GET /metrics HTTP/1.1\r\nX-Big: " . ('a' x 20000) . "\r\n\r\n", 10),
	qr{^HTTP/1\.1 431}, 'oversized headers are 431');
like(PgExporterTest::raw_exchange($port, "GET /metrics HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 10),
	qr{^HTTP/1\.1 413}, 'a request body is 413');

# Landing page and health.
like(http_request($port, 'GET', '/')->{body}, qr{href="/metrics"}, 'landing page links to /metrics');
my $h = http_request($port, 'GET', '/health');
is($h->{status}, 200, 'health is 200');
like($h->{body}, qr/"role":"primary"/, 'health says primary');
is(http_request($port, 'GET', '/health/primary')->{status}, 200, '/health/primary is 200 on a primary');
is(http_request($port, 'GET', '/health/standby')->{status}, 503, '/health/standby is 503 on a primary');

# The scrape reports itself in pg_stat_activity while it runs; afterwards idle.
is($node->safe_psql('postgres', "SELECT state FROM pg_stat_activity WHERE pid = $pid"), 'idle', 'worker idle between scrapes');

# Cache: with a TTL, two scrapes in a row run the collectors once.
$node->append_conf('postgresql.conf', "pg_exporter.cache_ttl = '1h'");
$node->reload;
sleep 1;
http_request($port, 'GET', '/metrics');
my $scrapes1 = sample((parse_exposition(http_request($port, 'GET', '/metrics')->{body}))[0], 'pg_exporter_scrapes_total');
my $scrapes2 = sample((parse_exposition(http_request($port, 'GET', '/metrics')->{body}))[0], 'pg_exporter_scrapes_total');
is($scrapes2, $scrapes1, 'a scrape within cache_ttl is served from the cache');

$node->stop;
done_testing();
