# User-defined metrics through the worker: each definition keeps to its own
# timeout, a slow or broken one costs only its own metrics, its failure is
# logged once, and the worker's session cannot write.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my ($node, $port) = new_exporter_node('custom');
my $worker = wait_for_worker($node);
my $pm_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
ok(wait_for_listening($port), 'endpoint answers');

# Definitions run as their owner, a role that may define them (not a
# superuser: a superuser's definitions do not run by default).
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_exporter;
CREATE ROLE app_owner;
GRANT USAGE ON SCHEMA pgexporter TO app_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgexporter.custom_metrics TO app_owner;
GRANT CREATE ON SCHEMA public TO app_owner;
SET ROLE app_owner;
CREATE TABLE jobs (id serial PRIMARY KEY, queue text NOT NULL, done boolean NOT NULL DEFAULT false);
INSERT INTO jobs (queue) VALUES ('mail'), ('mail'), ('sms');
CREATE TABLE audit (at timestamptz);
-- A function that writes: the worker's read-only session must refuse it.
CREATE FUNCTION public.sneaky() RETURNS int LANGUAGE sql VOLATILE
  AS $$ INSERT INTO public.audit VALUES (now()) RETURNING 1 $$;
INSERT INTO pgexporter.custom_metrics (name, query, labels, gauges) VALUES
  ('app_queue', 'SELECT queue, count(*) AS backlog FROM public.jobs WHERE NOT done GROUP BY queue',
   '{queue}', '{backlog}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout) VALUES
  ('app_slow', 'SELECT 1 AS x FROM pg_sleep(30)', '{x}', '300 ms'),
  ('app_write', 'SELECT public.sneaky() AS x', '{x}', NULL);
});

my $t0 = time;
my $r = http_request($port, 'GET', '/metrics');
my $took = time - $t0;
is($r->{status}, 200, 'scrape answered');
my ($s, $types) = parse_exposition($r->{body});
is(sample($s, 'app_queue_backlog', qr/queue="mail"/), 2, 'custom gauge by label');
is(sample($s, 'app_queue_backlog', qr/queue="sms"/), 1, 'second label value');
is($types->{app_queue_backlog}, 'gauge', 'declared type');
is(sample($s, 'pg_exporter_collector_success', qr/collector="custom:app_queue"/), 1, 'good definition succeeded');
is(sample($s, 'pg_exporter_collector_success', qr/collector="custom:app_slow"/), 0, 'slow definition failed');
is(sample($s, 'pg_exporter_collector_success', qr/collector="custom:app_write"/), 0, 'writing definition failed');
ok(!defined sample($s, 'app_slow_x'), 'no samples from the slow definition');
cmp_ok($took, '<', 10, 'the slow query was cut at its own timeout, not the 30 s sleep');
ok(defined sample($s, 'pg_stat_database_xact_commit'), 'built-in collectors unaffected');
my ($rc, $out) = promtool_check($r->{body});
is_deeply(promtool_unexpected($out), [], 'promtool: no findings on our own names');
is($node->safe_psql('postgres', 'SELECT count(*) FROM audit'), '0', 'the worker wrote nothing');

$node->wait_for_log(qr/collector "custom:app_slow" failed: canceling statement due to statement timeout/);
pass('timeout reported with the definition name');
$node->wait_for_log(qr/collector "custom:app_write" failed: .*read-only transaction/);
pass('the write was refused by the read-only session');

# The collectors view shows each definition's last outcome and error.
is($node->safe_psql('postgres', q{SELECT last_success, last_error FROM pgexporter.collectors
  WHERE name = 'custom:app_slow'}), 'f|canceling statement due to statement timeout', 'collectors view names the part');

# Logged once: a second scrape with the same failure adds no WARNING.
my $log_size = -s $node->logfile;
http_request($port, 'GET', '/metrics');
my $tail = slurp_file($node->logfile, $log_size);
unlike($tail, qr/WARNING:.*custom:app_slow/, 'an unchanged failure is not logged again');

# Fixing the definition brings it back without a restart.
$node->safe_psql('postgres', q{SET ROLE app_owner; UPDATE pgexporter.custom_metrics SET query = 'SELECT 1 AS x', timeout = NULL
  WHERE name = 'app_slow'});
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'app_slow_x'), 1, 'fixed definition served');
$node->wait_for_log(qr/collector "custom:app_slow" works again/, $log_size);
pass('recovery logged');

# Plans are kept across scrapes: a table dropped and created again is
# planned afresh, not served from a stale plan.
$node->safe_psql('postgres', 'SET ROLE app_owner; DROP TABLE jobs');
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="custom:app_queue"/), 0, 'dropped table: definition fails');
$node->safe_psql('postgres', q{SET ROLE app_owner; CREATE TABLE jobs (id serial PRIMARY KEY, queue text NOT NULL, done boolean NOT NULL DEFAULT false);
  INSERT INTO jobs (queue) VALUES ('fax')});
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'app_queue_backlog', qr/queue="fax"/), 1, 'recreated table: planned again and served');
ok(!defined sample($s, 'app_queue_backlog', qr/queue="mail"/), 'no rows of the old table');

# The self-metric series of a removed definition disappear.
$node->safe_psql('postgres', q{DELETE FROM pgexporter.custom_metrics WHERE name = 'app_write'});
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
ok(!defined sample($s, 'pg_exporter_collector_success', qr/collector="custom:app_write"/),
	'no stale series for a deleted definition');

# Broken, slow and writing definitions cost their own metrics only: the same
# worker served every scrape and the cluster never restarted.
is(worker_pid($node), $worker, 'the same worker served every scrape');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $pm_start, 'the postmaster did not restart');
ok(!$node->log_contains('terminating any other active server processes'), 'no crash-restart of the cluster');

$node->stop;
done_testing();
