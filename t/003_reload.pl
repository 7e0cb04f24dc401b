# Settings reload without a restart; a busy port is retried; a failing
# collector costs only its own metrics.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use PgExporterTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

# Scrapes until `metric` has the value `want` (a reload takes effect at the
# worker's next wake-up), for at most 10 s; returns the last samples and value.
my $port;
sub scrape_until
{
	my ($metric, $want) = @_;
	my ($samples, $value);
	for (1 .. 50)
	{
		($samples) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
		$value = sample($samples, $metric);
		last if defined $value && $value == $want;
		sleep 0.2;
	}
	return ($samples, $value);
}

# Start with the port taken by someone else.
my $busy_port = PostgreSQL::Test::Cluster::get_free_port();
my $squatter = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $busy_port, Listen => 5, ReuseAddr => 1)
  or die "cannot bind test port: $!";
(my $node, $port) = new_exporter_node('reload', no_start => 1);
$node->append_conf('postgresql.conf', "pg_exporter.port = $busy_port\n");
$node->start;
my $pid = wait_for_worker($node);
$node->wait_for_log(qr/could not bind 127\.0\.0\.1:$busy_port.*retrying/);
pass('a busy port is reported with the address and a retry');
is($node->safe_psql('postgres', 'CREATE EXTENSION pg_exporter; SELECT listening FROM pgexporter.worker_status()'),
	'f', 'worker_status says not listening');
close $squatter;
ok(wait_for_listening($busy_port, 20), 'the worker binds once the port is free');
is(worker_pid($node), $pid, 'same worker process: it retried instead of crash-looping');

# SIGHUP: a new port is bound without restarting PostgreSQL or the worker.
$node->append_conf('postgresql.conf', "pg_exporter.port = $port\n");
$node->reload;
ok(wait_for_listening($port, 20), 'new port answers after reload');
is(http_request($busy_port, 'GET', '/')->{status}, 0, 'old port closed');
is(worker_pid($node), $pid, 'worker not restarted for a port change');

# pg_settings_* are the server's settings, not those of the worker's own
# session (read-only transactions, lock_timeout = pg_exporter.lock_timeout),
# and they follow a reload.
my ($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_settings_default_transaction_read_only'), 0, 'the server is not read-only');
is(sample($s, 'pg_settings_transaction_read_only'), 0, 'nor are its transactions');
is(sample($s, 'pg_settings_lock_timeout_seconds'), 0, "the server's lock_timeout, not the worker's");
$node->safe_psql('postgres', "ALTER SYSTEM SET lock_timeout = '7s'");
$node->reload;
($s, my $lock_timeout) = scrape_until('pg_settings_lock_timeout_seconds', 7);
is($lock_timeout, 7, 'a reloaded lock_timeout is exported');
is(sample($s, 'pg_settings_default_transaction_read_only'), 0, 'still not read-only after the reload');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET lock_timeout');
$node->reload;

# An invalid value in the file is rejected at reload; the old one stays.
$node->append_conf('postgresql.conf', "pg_exporter.collectors = 'nonsense'\n");
$node->reload;
$node->wait_for_log(qr/invalid value for parameter "pg_exporter\.collectors"/);
is(http_request($port, 'GET', '/metrics')->{status}, 200, 'still serving after an invalid reload');
$node->append_conf('postgresql.conf', "pg_exporter.collectors = 'default'\n");

# A failing collector: the exporter runs as a plain role (not pg_monitor) that
# may not connect to one database, so pg_database_size fails for the database
# collector; the others are served.
$node->safe_psql('postgres', q{
	CREATE ROLE exporter LOGIN;
	CREATE DATABASE secret;
	REVOKE CONNECT ON DATABASE secret FROM PUBLIC;
});
$node->append_conf('postgresql.conf', "pg_exporter.role = 'exporter'\n");
$node->reload;
# (pg_stat_activity shows the bootstrap superuser the worker connects as;
# worker_status() the role it runs as.)
$node->poll_query_until('postgres', "SELECT role = 'exporter' FROM pgexporter.worker_status()")
  or die 'worker did not restart as the new role';
ok(wait_for_listening($port, 20), 'serving as the new role');
my $pid_as_exporter = worker_pid($node);
my $log_offset = -s $node->logfile;
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_up'), 1, 'pg_up is 1 while a collector fails');
is(sample($s, 'pg_exporter_collector_success', qr/collector="database"/), 0, 'database collector reported failed');
is(sample($s, 'pg_exporter_collector_success', qr/collector="server"/), 1, 'server collector still succeeds');
ok(!defined sample($s, 'pg_database_size_bytes'), 'the failed collector contributes no samples');
ok(defined sample($s, 'pg_postmaster_start_time_seconds'), 'other collectors contribute theirs');
# The failure counters: one more scrape error and one more failure of this
# collector per scrape, none for the others; the last scrape had an error;
# worker_status() says what the last scrape body said.
my ($s1) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
my ($s2) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s2, 'pg_exporter_scrapes_total'), sample($s1, 'pg_exporter_scrapes_total') + 1, 'scrapes_total +1');
is(sample($s2, 'pg_exporter_scrape_errors_total'), sample($s1, 'pg_exporter_scrape_errors_total') + 1,
	'a scrape with a failed collector counts as a scrape error');
is(sample($s2, 'pg_exporter_last_scrape_error'), 1, 'pg_exporter_last_scrape_error 1');
is(sample($s2, 'pg_exporter_collector_failures_total', qr/collector="database"/),
	sample($s1, 'pg_exporter_collector_failures_total', qr/collector="database"/) + 1,
	'pg_exporter_collector_failures_total{collector="database"} +1 per scrape');
is(sample($s2, 'pg_exporter_collector_failures_total', qr/collector="server"/), 0, 'no failure of the server collector');
is($node->safe_psql('postgres', 'SELECT scrapes_total, scrape_errors_total FROM pgexporter.worker_status()'),
	sample($s2, 'pg_exporter_scrapes_total') . '|' . sample($s2, 'pg_exporter_scrape_errors_total'),
	'worker_status() counters equal those of the last scrape');
http_request($port, 'GET', '/metrics') for 1 .. 2;
my $log = slurp_file($node->logfile, $log_offset);
my @lines = $log =~ /(collector "database" failed)/g;
is(scalar @lines, 1, 'the failure is logged once, not on every scrape');
like($log, qr/collector "database" failed: permission denied/, 'the log names the collector and the error');
is($node->safe_psql('postgres', "SELECT last_success, last_error LIKE 'permission denied%' FROM pgexporter.collectors WHERE name = 'database'"),
	"f|t", 'pgexporter.collectors shows the last error');

# Fixed (with pg_monitor, which the other collectors want from a plain
# role): the next scrape has no error; the counters keep their totals.
$node->safe_psql('postgres', 'GRANT CONNECT ON DATABASE secret TO exporter; GRANT pg_monitor TO exporter');
my ($s3) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s3, 'pg_exporter_collector_success', qr/collector="database"/), 1, 'database collector works again');
is(sample($s3, 'pg_exporter_last_scrape_error'), 0, 'pg_exporter_last_scrape_error back to 0')
  or diag join "\n", grep { /^pg_exporter_collector_success\{.*\} 0$/ } map { "$_ $s3->{$_}" } keys %$s3;
is(sample($s3, 'pg_exporter_scrape_errors_total'), sample($s2, 'pg_exporter_scrape_errors_total') + 2,
	'scrape_errors_total keeps its count (the two scrapes in between failed too)');
is(sample($s3, 'pg_exporter_collector_failures_total', qr/collector="database"/),
	sample($s2, 'pg_exporter_collector_failures_total', qr/collector="database"/) + 2,
	'collector_failures_total keeps its count');

# A statement timeout far below what a query needs fails collectors, not the
# worker (the same process serves), and the reload is seen: the failures say
# statement timeout. (The database collector waits for a lock on pg_database:
# on an idle cluster every query may well take less than 1 ms.)
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE;');
$node->append_conf('postgresql.conf', "pg_exporter.statement_timeout = 1\n");
$node->reload;
my $timed_out;
for (1 .. 100)
{
	my $r = http_request($port, 'GET', '/metrics');
	last if $r->{status} != 200;
	# (From the locking session: a new connection would wait on pg_database.)
	$timed_out = $locker->query_safe(
		"SELECT count(*) FROM pgexporter.collector_status() WHERE last_error LIKE '%statement timeout%'");
	last if $timed_out > 0;
	sleep 0.1;
}
cmp_ok($timed_out, '>', 0, 'a 1 ms statement timeout, once reloaded, fails collectors with a statement timeout');
$locker->query_safe('COMMIT');
$locker->quit;
my ($s4) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s4, 'pg_up'), 1, 'pg_up 1 with a 1 ms statement timeout');
is(worker_pid($node), $pid_as_exporter, 'the same worker serves through it');

# The relations_* settings reload too: the worker's next scrape follows them,
# and a pattern that does not compile is refused at reload (the old one stays).
$node->append_conf('postgresql.conf', "pg_exporter.statement_timeout = '5s'\n");
$node->safe_psql('postgres', 'CREATE TABLE reload_a (id int); CREATE TABLE reload_b (id int)');
$node->append_conf('postgresql.conf', "pg_exporter.relations_include = '^public\\.reload_a\$'\n");
$node->reload;
($s, my $exported) = scrape_until('pg_exporter_relations_exported', 1);
is($exported, 1, 'after reload only the included table has per-table series');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', qr/relname="reload_a"/), 'reload_a exported');
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', qr/relname="reload_b"/), 'reload_b left out');
ok(sample($s, 'pg_exporter_relations_dropped', qr/reason="pattern"/) >= 1, 'left-out tables counted as pattern');
$node->append_conf('postgresql.conf', "pg_exporter.relations_include = '(unclosed'\n");
$node->reload;
$node->wait_for_log(qr/invalid value for parameter "pg_exporter\.relations_include"/);
my $after_bad = http_request($port, 'GET', '/metrics');
is($after_bad->{status}, 200, 'still serving after an invalid pattern in the file');
($s) = parse_exposition($after_bad->{body});
is(sample($s, 'pg_exporter_relations_exported'), 1, 'the previous pattern stays in force');

# pg_exporter.database: the worker restarts connected to that database, and
# the per-table collectors read its tables instead of those of postgres.
$node->safe_psql('postgres', 'CREATE DATABASE appdb');
$node->safe_psql('appdb', 'CREATE TABLE app_only (id int); INSERT INTO app_only VALUES (1)');
$node->append_conf('postgresql.conf', "pg_exporter.database = 'appdb'\npg_exporter.relations_include = ''\n");
$node->reload;
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_exporter' AND datname = 'appdb'")
  or die 'the worker did not move to appdb';
ok(wait_for_listening($port, 20), 'serving from appdb');
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', qr/datname="appdb".*relname="app_only"|relname="app_only".*datname="appdb"/),
	"appdb's table exported, labelled with appdb");
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', qr/relname="reload_a"/), "postgres's tables no longer");
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_exporter' AND datname = 'postgres'"),
	0, 'the worker left postgres');

$node->stop;
done_testing();
