# The metrics endpoint over real HTTP: format, promtool, values that move,
# process metrics against /proc, keep-alive, status codes, health.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

# No spool files: the worker's descriptors are then known exactly (below).
# Every response this test receives, by status: the server's
# pg_exporter_http_responses_total must say the same at the end.
my %tally;
sub req
{
	my $r = http_request(@_);
	$tally{ $r->{status} }++ if $r->{status};
	return $r;
}
sub raw
{
	my $out = PgExporterTest::raw_exchange(@_) // '';
	$tally{$_}++ for $out =~ m{^HTTP/1\.[01] (\d{3}) }mg;
	return $out;
}

my ($node, $port) = new_exporter_node('endpoint', conf => "pg_exporter.spool_keep_free = -1\n");
my $pid = wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');
$tally{200}++;    # the GET / that found it listening

# The worker shows itself in pg_stat_activity.
is($node->safe_psql('postgres', "SELECT application_name FROM pg_stat_activity WHERE pid = $pid"),
	'pg_exporter', 'worker reports application_name');

my $r = req($port, 'GET', '/metrics');
is($r->{status}, 200, 'GET /metrics is 200');
is($r->{headers}{'content-type'}, 'text/plain; version=0.0.4; charset=utf-8', 'exposition content type');
my ($s, $types) = parse_exposition($r->{body});
is(sample($s, 'pg_up'), 1, 'pg_up 1');
ok(defined sample($s, 'pg_static', qr/short_version="\d+\.\d+\.0"/), 'pg_static with short_version');
cmp_ok(
	abs(sample($s, 'pg_postmaster_start_time_seconds')
		  - $node->safe_psql('postgres', 'SELECT extract(epoch FROM pg_postmaster_start_time())')),
	'<', 1e-3, 'postmaster start time');
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
	# (Each session flushes its statistics when it ends, which is just after
	# safe_psql returns.)
	my $now;
	for (1 .. 100)
	{
		($s) = parse_exposition(req($port, 'GET', '/metrics')->{body});
		$now = sample($s, 'pg_stat_database_xact_commit', $db_re);
		last if $now >= $before + 5;
		sleep 0.1;
	}
	cmp_ok($now, '>=', $before + 5, 'xact_commit grows');
}

# Process CPU is the real utime+stime of the worker, not an estimate.
my ($cpu_before, $tick) = proc_cpu_seconds($pid);
($s) = parse_exposition(req($port, 'GET', '/metrics')->{body});
my ($cpu_after) = proc_cpu_seconds($pid);
my $cpu = sample($s, 'pg_exporter_process_cpu_seconds_total');
cmp_ok($cpu, '>=', $cpu_before - $tick, 'process cpu not below /proc before the scrape');
cmp_ok($cpu, '<=', $cpu_after + $tick, 'process cpu not above /proc after the scrape');
my $start = sample($s, 'pg_exporter_process_start_time_seconds');
my $backend_start = $node->safe_psql('postgres',
	"SELECT extract(epoch FROM backend_start) FROM pg_stat_activity WHERE pid = $pid");
cmp_ok(abs($start - $backend_start), '<', 2, 'process start time is near the backend_start of the worker');
# Exactly: boot time (btime of /proc/stat) plus the start ticks of /proc/<pid>/stat.
my ($btime) = slurp_file('/proc/stat') =~ /^btime (\d+)$/m;
my $pstat = slurp_file("/proc/$pid/stat");
$pstat =~ s/^.*\) //s;
my $start_ticks = (split / /, $pstat)[19];
cmp_ok(abs($start - ($btime + $start_ticks * $tick)), '<', 1e-6, 'process start time: btime + start ticks / CLK_TCK');

# The rest against the worker's own /proc entries, read by this test around
# the scrape: RSS and virtual size move a little during a scrape (within a
# factor of two catches a wrong field or unit), the rest are exact.
sub proc_fields
{
	my ($pid) = @_;
	my %f;
	open my $fh, '<', "/proc/$pid/status" or die "cannot read /proc/$pid/status: $!";
	while (<$fh>) { $f{$1} = $2 if /^(\w+):\s+(.*?)(?: kB)?$/; }
	close $fh;
	open $fh, '<', "/proc/$pid/limits" or die $!;
	($f{max_fds}) = join('', <$fh>) =~ /^Max open files\s+(\d+|unlimited)/m;
	close $fh;
	opendir(my $d, "/proc/$pid/fd") or die $!;
	$f{fds} = grep { !/^\./ } readdir($d);
	closedir $d;
	return \%f;
}
# Spool files are off on this node (see above): the worker's descriptors
# during a scrape are those it has between scrapes plus the scrape's
# connection. Two scrapes first, so that PostgreSQL's file cache holds what a
# scrape opens.
req($port, 'GET', '/metrics') for 1 .. 2;
my $p_before = proc_fields($pid);
($s) = parse_exposition(req($port, 'GET', '/metrics')->{body});
my $p_after = proc_fields($pid);
my ($rss_lo, $rss_hi) = sort { $a <=> $b } ($p_before->{VmRSS}, $p_after->{VmRSS});
my $rss = sample($s, 'pg_exporter_process_resident_memory_bytes');
cmp_ok($rss, '>=', $rss_lo * 1024 / 2, 'rss: at least half of VmRSS in /proc');
cmp_ok($rss, '<=', $rss_hi * 1024 * 2, 'rss: at most twice VmRSS in /proc');
my ($vm_lo, $vm_hi) = sort { $a <=> $b } ($p_before->{VmSize}, $p_after->{VmSize});
my $vsize = sample($s, 'pg_exporter_process_virtual_memory_bytes');
cmp_ok($vsize, '>=', $vm_lo * 1024 / 2, 'virtual memory: at least half of VmSize');
cmp_ok($vsize, '<=', $vm_hi * 1024 * 2, 'virtual memory: at most twice VmSize');
is($p_after->{fds}, $p_before->{fds}, 'the worker holds as many descriptors after the scrape as before');
is(sample($s, 'pg_exporter_process_open_fds'), $p_before->{fds} + 1,
	'open fds: those in /proc/<pid>/fd, plus the scrape\'s connection');
is(sample($s, 'pg_exporter_process_max_fds'), $p_before->{max_fds}, 'max fds: the soft limit of /proc/<pid>/limits');
is(sample($s, 'pg_exporter_process_threads'), $p_before->{Threads}, 'threads: as in /proc/<pid>/status');
my $allowed = 0;
for my $range (split /,/, $p_before->{Cpus_allowed_list})
{
	my ($lo, $hi) = split /-/, $range;
	$allowed += ($hi // $lo) - $lo + 1;
}
is(sample($s, 'pg_exporter_process_cpu_cores'), $allowed, 'cpu cores: the Cpus_allowed_list of the worker');
for my $m (qw(resident_memory_bytes virtual_memory_bytes open_fds max_fds start_time_seconds))
{
	is(sample($s, "process_$m"), sample($s, "pg_exporter_process_$m"), "process_$m equals pg_exporter_process_$m");
}

# Keep-alive: two requests on one connection; HTTP/1.0 closes.
my $two = raw($port,
	"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10);
my @statuses = $two =~ m{^HTTP/1\.1 (\d{3})}mg;
is_deeply(\@statuses, [ 200, 200 ], 'two pipelined requests on one keep-alive connection');
my $ten = raw($port, "GET / HTTP/1.0\r\n\r\n", 10);
like($ten, qr{^HTTP/1\.[01] 200}, 'HTTP/1.0 request served');
like($ten, qr{Connection: close}i, 'HTTP/1.0 connection closed');

# HEAD: headers only, full length.
my $head = raw($port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10);
my ($len) = $head =~ /Content-Length: (\d+)/i;
ok($len > 1000, 'HEAD announces the body length');
like($head, qr/\r\n\r\n\z/, 'HEAD has no body');

# Status codes.
is(req($port, 'GET', '/nope')->{status}, 404, 'unknown path is 404');
my $post = req($port, 'POST', '/metrics');
is($post->{status}, 405, 'POST is 405');
is($post->{headers}{allow}, 'GET, HEAD', '405 says what is allowed');
like(raw($port, "GARBAGE\r\n\r\n", 10), qr{^HTTP/1\.1 400}, 'malformed request is 400');
like(raw($port, "GET /metrics HTTP/1.1\r\nX-Big: " . ('a' x 20000) . "\r\n\r\n", 10),
	qr{^HTTP/1\.1 431}, 'oversized headers are 431');
like(raw($port, "GET /metrics HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 10),
	qr{^HTTP/1\.1 413}, 'a request body is 413');

# Landing page and health.
like(req($port, 'GET', '/')->{body}, qr{href="/metrics"}, 'landing page links to /metrics');
my $h = req($port, 'GET', '/health');
is($h->{status}, 200, 'health is 200');
is($h->{body}, qq({"status":"ok","database":"up","role":"primary"}\n), 'health says ok, up, primary');
is($h->{headers}{'content-type'}, 'application/json', 'health is JSON');
is(req($port, 'GET', '/health/primary')->{status}, 200, '/health/primary is 200 on a primary');
my $standby = req($port, 'GET', '/health/standby');
is($standby->{status}, 503, '/health/standby is 503 on a primary');
is($standby->{body}, qq({"status":"unavailable","database":"up","role":"primary"}\n), '/health/standby says why');
my $replica = req($port, 'GET', '/health/replica');
is($replica->{status}, 503, '/health/replica (alias of /health/standby) is 503 on a primary');
is($replica->{body}, $standby->{body}, '/health/replica answers as /health/standby');

# The scrape reports itself in pg_stat_activity while it runs; afterwards idle.
is($node->safe_psql('postgres', "SELECT state FROM pg_stat_activity WHERE pid = $pid"), 'idle', 'worker idle between scrapes');

# Self-metrics of HTTP: every response this test received, by status, and
# every connection (this scrape's own included: it is accepted before it is
# answered, but its response is counted after).
($s) = parse_exposition(req($port, 'GET', '/metrics')->{body});
my %server;
for my $k (keys %$s)
{
	$server{$1} = $s->{$k} if $k =~ /^pg_exporter_http_responses_total\{code="(\d+)"\}$/;
}
my %client = %tally;
$client{200}--;    # this scrape's own response is not in its body
is_deeply(\%server, \%client, 'pg_exporter_http_responses_total: every response by status code')
  or diag explain { server => \%server, client => \%client };
is(sample($s, 'pg_exporter_http_connections_rejected_total'), 0, 'no connection refused');
is(sample($s, 'pg_exporter_http_timeouts_total'), 0, 'no timeout');

# scrapes_total counts the scrapes that ran the collectors: with cache_ttl =
# 0 (set by the test harness) every one of them.
my $scrapes = sample($s, 'pg_exporter_scrapes_total');
my ($s2) = parse_exposition(req($port, 'GET', '/metrics')->{body});
is(sample($s2, 'pg_exporter_scrapes_total'), $scrapes + 1, 'cache_ttl = 0: every scrape runs the collectors');
is(sample($s2, 'pg_exporter_scrape_errors_total'), 0, 'no scrape error');
is(sample($s2, 'pg_exporter_last_scrape_error'), 0, 'the last scrape had no error');

# The cache. Timed from the client side: a scrape answered before
# cache_ttl has passed since the cached one was requested must come from the
# cache; one that ran the collectors must have been answered after that.
# A body is known by its pg_exporter_scrapes_total; it was made after the
# first request that got it was sent. Returns (samples, when the request
# that made this body was sent, when this one was answered).
my %made_after;
sub timed_scrape
{
	my $sent = time;
	my ($samples) = parse_exposition(req($port, 'GET', '/metrics')->{body});
	my $n = sample($samples, 'pg_exporter_scrapes_total');
	$made_after{$n} //= $sent;
	return ($samples, $made_after{$n}, time);
}

# The default cache_ttl (1 s), back in force after a reload.
remove_conf($node, 'pg_exporter.cache_ttl');
$node->reload;
my ($cached_pair, $a, $a_sent);
for (1 .. 100)
{
	($a, $a_sent) = timed_scrape();
	my ($b, undef, $b_recv) = timed_scrape();
	next unless $b_recv < $a_sent + 1.0;    # too slow to tell
	if (sample($b, 'pg_exporter_scrapes_total') == sample($a, 'pg_exporter_scrapes_total'))
	{
		$cached_pair = 1;
		last;
	}
	sleep 0.1;    # the reload has not reached the worker yet
}
ok($cached_pair, 'default cache_ttl: a scrape within 1 s of another is served from its cache');
my ($fresh, $fresh_recv);
for (1 .. 100)
{
	my ($c, undef, $c_recv) = timed_scrape();
	if (sample($c, 'pg_exporter_scrapes_total') > sample($a, 'pg_exporter_scrapes_total'))
	{
		($fresh, $fresh_recv) = ($c, $c_recv);
		last;
	}
	sleep 0.1;
}
ok($fresh, 'default cache_ttl: the cache expires');
cmp_ok($fresh_recv, '>', $a_sent + 1.0, 'default cache_ttl: not before 1 s');
is(sample($fresh, 'pg_exporter_scrapes_total'), sample($a, 'pg_exporter_scrapes_total') + 1,
	'the expired cache was replaced by one scrape');

# A long cache_ttl, and a change of the collector list: the next scrape
# follows the new list at once instead of serving the cache.
$node->append_conf('postgresql.conf', "pg_exporter.cache_ttl = '1h'");
$node->reload;
my ($before_change, $cached_too);
for (1 .. 100)
{
	($before_change) = timed_scrape();
	my ($again) = timed_scrape();
	$cached_too = sample($again, 'pg_exporter_scrapes_total') == sample($before_change, 'pg_exporter_scrapes_total');
	last if $cached_too;
	sleep 0.1;
}
ok($cached_too, "cache_ttl = '1h': a scrape is served from the cache");
ok(defined sample($before_change, 'pg_locks_count', qr/mode="accesssharelock"/), 'locks collected before the change');
$node->append_conf('postgresql.conf', "pg_exporter.collectors = 'default, -locks'");
$node->reload;
my $after_change;
for (1 .. 100)
{
	($after_change) = timed_scrape();
	last unless defined sample($after_change, 'pg_locks_count', qr/mode="accesssharelock"/);
	sleep 0.1;
}
ok(!defined sample($after_change, 'pg_locks_count', qr/mode="accesssharelock"/),
	'a changed collector list takes effect within the cache TTL');
is(sample($after_change, 'pg_exporter_scrapes_total'), sample($before_change, 'pg_exporter_scrapes_total') + 1,
	'the change invalidated the cache: one new scrape');

$node->stop;
done_testing();
