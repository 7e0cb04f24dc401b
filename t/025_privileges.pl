# No role gains a privilege through the exporter. Each attack of the security
# review, tried as the role that would try it, asserting what it must not
# get: no superuser, no file written, no row written, no session state left
# for the next scrape, the endpoint still serving, the postmaster never
# restarted. Every hostile function also logs that it ran, and as whom, so
# that a check of "nothing happened" cannot pass because nothing was run.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

# UTF8 whatever the environment's locale (a chroot's empty environment gives
# SQL_ASCII): the LATIN1 client check below counts characters.
my ($node, $port) = new_exporter_node('privileges', init => { extra => [ '--encoding=UTF8', '--locale=C' ] }, conf => q{
shared_preload_libraries = 'pg_exporter,pg_stat_statements'
pg_exporter.statement_timeout = '2s'
});
my $worker = wait_for_worker($node);
my $pm_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
ok(wait_for_listening($port), 'endpoint answers');
my $pwned = $node->basedir . '/pwned';

sub q1 { my ($sql) = @_; return $node->safe_psql('postgres', $sql); }
sub scrape_body { return http_request($port, 'GET', '/metrics', @_)->{body}; }
sub scrape { my ($s) = parse_exposition(scrape_body(@_)); return $s; }
sub part_ok { my ($s, $name) = @_; return sample($s, 'pg_exporter_collector_success', qr/collector="custom:$name"/); }
sub last_error
{
	my ($name) = @_;
	return q1("SELECT coalesce(last_error, '') FROM pgexporter.collectors WHERE name = 'custom:$name'");
}
# The TCP ports a process listens on, from /proc.
sub listening_ports
{
	my ($pid) = @_;
	my %inodes;
	for my $fd (glob "/proc/$pid/fd/*")
	{
		my $target = readlink($fd) // next;
		$inodes{$1} = 1 if $target =~ /^socket:\[(\d+)\]$/;
	}
	my @ports;
	for my $table ('/proc/net/tcp', '/proc/net/tcp6')
	{
		open my $fh, '<', $table or next;
		<$fh>;
		while (<$fh>)
		{
			my @f = split ' ';
			push @ports, hex((split /:/, $f[1])[1]) if $f[3] eq '0A' && $inodes{ $f[9] };
		}
		close $fh;
	}
	return [ sort @ports ];
}
sub custom_worker_pid
{
	return q1("SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_exporter custom metrics'");
}
sub wait_for_custom_worker
{
	my ($not) = @_;
	$node->poll_query_until('postgres',
		"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_exporter custom metrics' AND pid <> $not")
	  or die 'the custom metrics worker did not start again';
	return custom_worker_pid();
}
sub is_super { my ($role) = @_; return q1("SELECT rolsuper FROM pg_roles WHERE rolname = '$role'"); }
sub worker_advisory_locks
{
	return q1("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	           WHERE l.locktype = 'advisory' AND a.backend_type LIKE 'pg_exporter%'");
}

# Roles: appowner owns the table a metric reads; metrics_team defines
# metrics (the grant model of the README); attacker is an ordinary login with
# CREATE on public.
q1(q{
CREATE EXTENSION pg_exporter;
CREATE EXTENSION pg_stat_statements;
CREATE ROLE appowner LOGIN;
CREATE ROLE metrics_team LOGIN;
CREATE ROLE attacker LOGIN;
GRANT CREATE ON SCHEMA public TO attacker;
CREATE SCHEMA app AUTHORIZATION appowner;
CREATE SCHEMA team AUTHORIZATION metrics_team;
GRANT USAGE ON SCHEMA pgexporter TO metrics_team;
GRANT SELECT, INSERT, UPDATE, DELETE ON pgexporter.custom_metrics TO metrics_team;
SET ROLE appowner;
CREATE TABLE app.jobs (id serial PRIMARY KEY, queue text NOT NULL);
INSERT INTO app.jobs (queue) VALUES ('mail'), ('mail'), ('sms');
CREATE TABLE app.loot (who text);
GRANT USAGE ON SCHEMA app TO metrics_team;
GRANT SELECT ON app.jobs TO metrics_team;
GRANT INSERT ON app.loot TO PUBLIC;
RESET ROLE;
-- The README's example, defined by a superuser and by the team.
INSERT INTO pgexporter.custom_metrics (name, query, labels, gauges) VALUES
  ('su_queue', 'SELECT queue, count(*) AS backlog FROM app.jobs GROUP BY queue', '{queue}', '{backlog}');
SET ROLE metrics_team;
INSERT INTO pgexporter.custom_metrics (name, query, labels, gauges) VALUES
  ('team_queue', 'SELECT queue, count(*) AS backlog FROM app.jobs GROUP BY queue', '{queue}', '{backlog}');
});

my $s = scrape();
is(sample($s, 'team_queue_backlog', qr/queue="mail"/), 2, "the team's metric runs as the team");
is(part_ok($s, 'su_queue'), 0, "a superuser's definition does not run by default");
like(last_error('su_queue'), qr/owned by superuser .*not run/, 'and the collectors view says why');

# 1. The table's owner swaps its table for a view whose WHERE calls its own
# function, which tries to make its owner superuser, run a program and write.
q1(qq{
SET ROLE appowner;
CREATE FUNCTION app.evil() RETURNS boolean LANGUAGE plpgsql AS \$f\$
BEGIN
  RAISE WARNING 'evil ran as %', current_user;
  BEGIN EXECUTE 'ALTER ROLE appowner SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''id > $pwned'''; EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN INSERT INTO app.loot VALUES (current_user); EXCEPTION WHEN OTHERS THEN NULL; END;
  RETURN true;
END \$f\$;
ALTER TABLE app.jobs RENAME TO jobs_real;
CREATE VIEW app.jobs AS SELECT * FROM app.jobs_real WHERE app.evil();
GRANT SELECT ON app.jobs TO metrics_team;
});
my $log_at = -s $node->logfile;
$s = scrape();
$s = scrape();
is(sample($s, 'team_queue_backlog', qr/queue="mail"/), 2, 'the metric keeps exporting through the view');
my $log = slurp_file($node->logfile, $log_at);
like($log, qr/evil ran as metrics_team/, "the owner's function ran, as the definition's owner");
unlike($log, qr/evil ran as (?!metrics_team)/, 'and as no one else');
is(is_super('appowner'), 'f', 'view swap: the table owner did not become superuser');
ok(!-e $pwned, 'view swap: no program ran');
is(q1('SELECT count(*) FROM app.loot'), '0', 'view swap: nothing written');

# 2, 3. A definition that changes session settings and takes advisory locks,
# one that tries to turn read-only off inside its own query, one that reads
# server files, and one (sorted last) that reports the session it finds.
q1(q{
SET ROLE metrics_team;
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES
  ('aa_state', $$SELECT 1 AS x FROM set_config('default_transaction_read_only', 'off', false) a,
                 set_config('lock_timeout', '0', false) b, set_config('search_path', 'public, pg_catalog', false) c,
                 set_config('statement_timeout', '0', false) d, pg_advisory_lock(4242) e, pg_advisory_xact_lock(4343) f$$,
   '{x}'),
  ('ab_readwrite', $$SELECT 1 AS x FROM set_config('transaction_read_only', 'off', true)$$, '{x}'),
  ('ac_files', $$SELECT length(pg_read_file('postgresql.conf')) AS x$$, '{x}'),
  ('ad_lo', $$SELECT lo_import('/etc/hostname')::int8 AS x$$, '{x}'),
  ('zz_state', $$SELECT (current_setting('default_transaction_read_only') = 'on')::int AS read_only,
                 extract(epoch FROM current_setting('lock_timeout')::interval) AS lock_timeout,
                 (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS locks$$,
   '{read_only,lock_timeout,locks}');
});
$s = scrape();
is(part_ok($s, 'aa_state'), 1, 'the settings-changing definition ran');
is(sample($s, 'zz_state_read_only'), 1, 'the next definition finds the session read-only');
is(sample($s, 'zz_state_lock_timeout'), 1, "and the worker's lock_timeout");
is(sample($s, 'zz_state_locks'), 0, 'and no advisory lock held');
is(worker_advisory_locks(), '0', 'no advisory lock outlives the scrape');
is(part_ok($s, 'ab_readwrite'), 0, 'read-only cannot be turned off inside a query');
like(last_error('ab_readwrite'), qr/read-write mode/, 'refused by the server');
is(part_ok($s, 'ac_files'), 0, 'pg_read_file is refused to a non-superuser owner');
is(part_ok($s, 'ad_lo'), 0, 'lo_import is refused');
like(last_error('ad_lo'), qr/permission denied|read-only/, 'with the reason');
$s = scrape();
is(sample($s, 'zz_state_read_only'), 1, 'a scrape later the session is still read-only');
is(sample($s, 'zz_state_lock_timeout'), 1, 'and its lock_timeout unchanged');

# 4. An overload on the caller's search_path: a role with CREATE on public
# defines quote_ident(name) (an exact match beats pg_catalog's text version)
# and an = operator on oid; a superuser then reads the documented
# pgexporter.metrics() with public first on its path.
q1(q{
SET ROLE attacker;
CREATE FUNCTION public.quote_ident(name) RETURNS text LANGUAGE plpgsql AS $f$
BEGIN
  RAISE WARNING 'hijacked as %', current_user;
  BEGIN EXECUTE 'ALTER ROLE attacker SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  PERFORM pg_catalog.pg_advisory_lock(9999);
  RETURN pg_catalog.quote_ident($1::text);
END $f$;
CREATE FUNCTION public.attacker_eq(oid, oid) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
  RAISE WARNING 'hijacked as %', current_user;
  BEGIN EXECUTE 'ALTER ROLE attacker SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
  RETURN $1 OPERATOR(pg_catalog.=) $2;
END $f$;
CREATE OPERATOR public.= (leftarg = oid, rightarg = oid, function = public.attacker_eq);
});
# The trap works: called the way an unpinned query would, it runs.
$log_at = -s $node->logfile;
q1(q{SET search_path = public, pg_catalog; SELECT quote_ident('pg_catalog'::name)});
like(slurp_file($node->logfile, $log_at), qr/hijacked as \S+/, 'the trap fires for an unpinned caller');
q1('ALTER ROLE attacker NOSUPERUSER');
q1('SELECT pg_advisory_unlock_all()');
$log_at = -s $node->logfile;
my $families_hostile = q1(q{SET search_path = public, pg_catalog;
	SELECT string_agg(m[1], ',' ORDER BY m[1]) FROM regexp_matches(pgexporter.metrics(), '# TYPE (\S+)', 'g') m});
my $families_plain = q1(q{SELECT string_agg(m[1], ',' ORDER BY m[1]) FROM regexp_matches(pgexporter.metrics(), '# TYPE (\S+)', 'g') m});
isnt($families_plain, '', 'pgexporter.metrics() answers');
is($families_hostile, $families_plain, 'the same families under a hostile search_path');
ok(q1(q{SELECT pgexporter.metrics(ARRAY['statements']) LIKE '%pg_stat_statements_calls_total%'}) eq 't',
	'the statements collector (which calls quote_ident) ran');
$s = scrape();
$log = slurp_file($node->logfile, $log_at);
unlike($log, qr/hijacked as/, 'no overload ran, from SQL or in the worker');
is(is_super('attacker'), 'f', 'the attacker did not become superuser');
is(worker_advisory_locks(), '0', "the worker's built-in collectors never called the attacker's function");

# 5. A definition that catches its cancel and loops for ever is stopped at
# its hard deadline (timeout + 1 s) with the custom metrics worker it runs in
# (never the main worker, which answers that scrape), and quarantined; the
# restarted worker does not run it again until it is written again.
q1(q{
SET ROLE metrics_team;
CREATE FUNCTION team.stubborn() RETURNS int LANGUAGE plpgsql AS $f$
BEGIN
  LOOP
    BEGIN PERFORM pg_sleep(0.05); EXCEPTION WHEN query_canceled THEN NULL; END;
  END LOOP;
END $f$;
INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout) VALUES
  ('hang', 'SELECT team.stubborn() AS x', '{x}', '300 ms');
});
my $custom = custom_worker_pid();
$log_at = -s $node->logfile;
my $t0 = time;
my $r = http_request($port, 'GET', '/metrics');
my $stopped_after = time - $t0;
is($r->{status}, 200, 'the scrape that ran it is answered');
($s) = parse_exposition($r->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="custom"/), 0, 'its custom metrics failed');
ok(defined sample($s, 'pg_stat_database_xact_commit'), 'its built-in collectors did not');
cmp_ok($stopped_after, '<', 20, "stopped at the hard deadline, not never ($stopped_after s)");
$node->wait_for_log(qr/custom:hang is quarantined: it ran past its hard deadline/, $log_at);
pass('the hard deadline is logged with the definition');
is(q1(q{SELECT last_error FROM pgexporter.collectors WHERE name = 'custom'}),
	'the custom metrics worker stopped while it ran a definition, now quarantined', 'the collectors view says so');
my $new_custom = wait_for_custom_worker($custom);
$s = scrape();
is(sample($s, 'pg_exporter_collector_quarantined', qr/collector="custom:hang"/), 1, 'quarantined (self-metric)');
is(part_ok($s, 'hang'), 0, 'and reported failed');
is(sample($s, 'team_queue_backlog', qr/queue="mail"/), 2, 'the other definitions run');
like(last_error('hang'), qr/^quarantined: it ran past its hard deadline/, 'the collectors view says why');
scrape() for 1 .. 2;
is(custom_worker_pid(), $new_custom, 'not run again: the custom metrics worker stays up');
is(worker_pid($node), $worker, 'the main worker never stopped');
q1(q{SET ROLE metrics_team; UPDATE pgexporter.custom_metrics SET query = 'SELECT 7 AS x' WHERE name = 'hang'});
$s = scrape();
is(sample($s, 'hang_x'), 7, 'written again, it runs again');
ok(!defined sample($s, 'pg_exporter_collector_quarantined', qr/collector="custom:hang"/), 'out of quarantine');

# A definition that times out three scrapes in a row is quarantined; a
# client's short scrape budget does not count against it.
q1(q{SET ROLE metrics_team; INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout) VALUES
  ('slowpoke', 'SELECT 1 AS x FROM pg_sleep(2)', '{x}', '200 ms')});
scrape('X-Prometheus-Scrape-Timeout-Seconds' => '0.05') for 1 .. 3;
$s = scrape();
ok(!defined sample($s, 'pg_exporter_collector_quarantined', qr/collector="custom:slowpoke"/),
	'timeouts cut by a short client budget do not quarantine');
scrape() for 1 .. 2;
$s = scrape();
is(sample($s, 'pg_exporter_collector_quarantined', qr/collector="custom:slowpoke"/), 1,
	'three timeouts in a row quarantine');
like(last_error('slowpoke'), qr/timed out in 3 scrapes in a row/, 'with the reason');
q1(q{DELETE FROM pgexporter.custom_metrics WHERE name = 'slowpoke'});

# A definition that ends its own backend: refused to a non-superuser owner
# (the worker's session is the bootstrap superuser's); a superuser's,
# allowed by pg_exporter.superuser_metrics, stops the worker once and is
# quarantined instead of putting it in a restart loop.
q1(q{SET ROLE metrics_team; INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES
  ('kill_team', 'SELECT pg_terminate_backend(pg_backend_pid())::int AS x', '{x}')});
$s = scrape();
is(part_ok($s, 'kill_team'), 0, 'a non-superuser owner may not end the worker');
like(last_error('kill_team'), qr/permission denied|must be a superuser/, 'refused by the server');
is(custom_worker_pid(), $new_custom, 'the custom metrics worker is the same');
q1(q{DELETE FROM pgexporter.custom_metrics WHERE name IN ('kill_team', 'su_queue');
     INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES
       ('kill_su', 'SELECT pg_terminate_backend(pg_backend_pid())::int AS x', '{x}')});
$node->append_conf('postgresql.conf', "pg_exporter.superuser_metrics = on\n");
$node->reload;
$log_at = -s $node->logfile;
for (1 .. 50)
{
	last if custom_worker_pid() ne $new_custom;
	scrape();
	sleep 0.2;
}
$node->wait_for_log(qr/custom:kill_su is quarantined: the worker stopped while it ran/, $log_at);
pass('the definition that stopped its worker is quarantined');
my $third_custom = wait_for_custom_worker($new_custom);
scrape() for 1 .. 3;
is(custom_worker_pid(), $third_custom, 'no restart loop');
is(worker_pid($node), $worker, 'the main worker never stopped');
q1(q{DELETE FROM pgexporter.custom_metrics WHERE name = 'kill_su'});
$node->append_conf('postgresql.conf', "pg_exporter.superuser_metrics = off\n");
$node->reload;

# A definition's own timeout above pg_exporter.statement_timeout (2 s here)
# is its limit, not capped to the server-wide one.
q1(q{SET ROLE metrics_team; INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout) VALUES
  ('longer', 'SELECT 1 AS x FROM pg_sleep(2.5)', '{x}', '5s')});
$s = scrape();
is(part_ok($s, 'longer'), 1, 'a 5 s timeout lets a 2.5 s query finish under a 2 s statement_timeout');
q1(q{DELETE FROM pgexporter.custom_metrics WHERE name = 'longer'});

# /health is answered while a scrape runs, from that scrape's probe: here
# while one custom metric takes 3 s (in its own worker).
q1(q{SET ROLE metrics_team; INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout)
     VALUES ('nap_long', 'SELECT 1 AS x FROM pg_sleep(3)', '{x}', '5s')});
my $scraper = IPC::Run::start([ 'curl', '-s', '-o', '/dev/null', '-w', '%{time_total}', "http://127.0.0.1:$port/metrics" ],
	'>', \my $scrape_time);
sleep 0.5;
my $h0 = time;
my $h = http_request($port, 'GET', '/health');
my $health_took = time - $h0;
$scraper->finish;
is($h->{status}, 200, '/health answered during a scrape');
like($h->{body}, qr/"role":"primary"/, 'with the running probe');
cmp_ok($health_took, '<', $scrape_time / 2, "long before the scrape ended ($health_took s of $scrape_time s)");
q1(q{DELETE FROM pgexporter.custom_metrics WHERE name LIKE 'nap_%'});

# 8. Error text cut at 511 bytes stays valid text (a LATIN1 client reads it),
# every one of 70 definitions shows in the collectors view, a definition
# that bypasses the trigger with two statements is refused by the worker.
q1(q{
SET ROLE metrics_team;
CREATE FUNCTION team.long_error() RETURNS int LANGUAGE plpgsql AS $f$
BEGIN RAISE EXCEPTION '%', repeat('é', 400); END $f$;
INSERT INTO pgexporter.custom_metrics (name, query, gauges) VALUES ('long_error', 'SELECT team.long_error() AS x', '{x}');
INSERT INTO pgexporter.custom_metrics (name, query, gauges)
  SELECT 'many_' || g, 'SELECT 1 AS x', '{x}' FROM generate_series(1, 70) g;
RESET ROLE;
ALTER TABLE pgexporter.custom_metrics DISABLE TRIGGER custom_metrics_validate;
INSERT INTO pgexporter.custom_metrics (name, query, gauges, owner) VALUES
  ('two_statements', 'SELECT 1 AS x; INSERT INTO app.loot VALUES (''second'')', '{x}', 'metrics_team'),
  ('writing_cte', 'WITH d AS (INSERT INTO app.loot VALUES (''cte'') RETURNING 1) SELECT count(*) AS x FROM d', '{x}',
   'metrics_team');
ALTER TABLE pgexporter.custom_metrics ENABLE TRIGGER custom_metrics_validate;
});
$s = scrape();
is(part_ok($s, 'long_error'), 0, 'the long error fails its definition');
is(q1(q{SET client_encoding = 'LATIN1'; SELECT octet_length(convert_to(last_error, 'LATIN1')) FROM pgexporter.collectors
	WHERE name = 'custom:long_error'}), 255, 'a LATIN1 client reads the cut error: 255 whole characters');
is(q1(q{SELECT count(*) FROM pgexporter.collectors WHERE name LIKE 'custom:many_%' AND last_success}), 70,
	'all 70 definitions show in the collectors view');
is(part_ok($s, 'two_statements'), 0, 'a second statement is refused in the worker too');
like(last_error('two_statements'), qr/single SELECT/, 'with the reason');
is(q1('SELECT count(*) FROM app.loot'), '0', 'the second statement did not run');
is(part_ok($s, 'writing_cte'), 0, 'a data-modifying WITH is refused in the worker');
like(last_error('writing_cte'), qr/single SELECT, VALUES or TABLE/, 'by the plan check, before anything runs');
q1(q{DELETE FROM pgexporter.custom_metrics WHERE name LIKE 'many_%' OR name IN ('long_error', 'two_statements', 'writing_cte')});

# worker_status() of a worker that is gone shows no pid and no listener.
my $before = worker_pid($node);
q1("SELECT pg_terminate_backend($before)");
ok($node->poll_query_until('postgres', 'SELECT pid IS NULL AND NOT listening FROM pgexporter.worker_status()'),
	'a stopped worker has no pid and is not listening');
wait_for_worker($node);
ok($node->poll_query_until('postgres', 'SELECT pid IS NOT NULL AND listening FROM pgexporter.worker_status()'),
	'the restarted worker has both');

is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $pm_start, 'the postmaster never restarted');
ok(!$node->log_contains('terminating any other active server processes'), 'no crash-restart of the cluster');
$node->stop;

# 6. Settings that guard access fail closed: a port or role in the file
# that its checks refuse is not replaced by the default (9187, pg_monitor).
# The node is SQL_ASCII, where names can hold any bytes.
my $node2 = PostgreSQL::Test::Cluster->new('fail_closed');
$node2->init(extra => [ '--encoding=SQL_ASCII', '--locale=C' ]);
my $port2 = PostgreSQL::Test::Cluster::get_free_port();
$node2->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_exporter'
pg_exporter.listen_addresses = '127.0.0.1'
pg_exporter.port = 70000
pg_exporter.role = ''
pg_exporter.cache_ttl = 0
});
$node2->start;
wait_for_worker($node2);
my $pm2 = $node2->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
$node2->safe_psql('postgres', 'CREATE EXTENSION pg_exporter');
$node2->poll_query_until('postgres', 'SELECT listen_error IS NOT NULL FROM pgexporter.worker_status()');
is($node2->safe_psql('postgres', 'SELECT listening FROM pgexporter.worker_status()'), 'f', 'a refused port: not listening');
like($node2->safe_psql('postgres', 'SELECT listen_error FROM pgexporter.worker_status()'),
	qr/pg_exporter\.port = '70000' in the configuration files is refused/, 'and why');
like($node2->safe_psql('postgres', 'SELECT sql_error FROM pgexporter.worker_status()'),
	qr/pg_exporter\.role = '' in the configuration files is refused/, 'a refused role: no SQL, and why');
is_deeply(listening_ports(worker_pid($node2)), [], 'not listening on the default port (or any) instead');
$node2->append_conf('postgresql.conf', "pg_exporter.port = $port2\n");
$node2->reload;
ok(wait_for_listening($port2, 20), 'a valid port after a reload: listening');
($s) = parse_exposition(http_request($port2, 'GET', '/metrics')->{body});
is(sample($s, 'pg_up'), 0, 'without its role the worker runs no SQL: pg_up 0');
is(http_request($port2, 'GET', '/health')->{status}, 503, '/health is 503');
$node2->append_conf('postgresql.conf', "pg_exporter.role = 'monitor_later'\n");
$node2->reload;
$node2->poll_query_until('postgres',
	q{SELECT sql_error LIKE 'role "monitor_later" (pg_exporter.role) does not exist%' FROM pgexporter.worker_status()})
  or die 'the worker did not restart with the new role';
pass('a role that does not exist: no SQL, and why');
ok(wait_for_listening($port2, 20), 'still serving');
is(sample((parse_exposition(http_request($port2, 'GET', '/metrics')->{body}))[0], 'pg_up'), 0, 'pg_up 0');
$node2->safe_psql('postgres', 'CREATE ROLE monitor_later IN ROLE pg_monitor');
$node2->reload;
ok($node2->poll_query_until('postgres', q{SELECT role = 'monitor_later' AND sql_error IS NULL FROM pgexporter.worker_status()}),
	'once it exists, a reload takes it on');

# Names that differ only in bytes that are not UTF-8 stay two series.
$node2->safe_psql('postgres', "CREATE TABLE \"t\xe9\" (id int); CREATE TABLE \"t\xe8\" (id int)");
my $body = http_request($port2, 'GET', '/metrics')->{body};
($s) = parse_exposition($body);
is(sample($s, 'pg_up'), 1, 'pg_up 1');
my %relnames = map { $_ => 1 } ($body =~ /^pg_stat_user_tables_seq_scan\{[^}]*relname="(t[^"]*)"/mg);
is(scalar(keys %relnames), 2, 'two tables, two series');
my ($rc, $out) = promtool_check($body);
unlike($out, qr/duplicate|error/i, 'promtool finds no duplicate series');
is($node2->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $pm2, 'the postmaster never restarted');
$node2->stop;

# 7. A client's short X-Prometheus-Scrape-Timeout-Seconds shortens its own
# scrape only: with a cache, no client with a longer budget is served it.
my ($node3, $port3) = new_exporter_node('short_budget', conf => "pg_exporter.cache_ttl = '30s'\n");
wait_for_worker($node3);
ok(wait_for_listening($port3), 'endpoint answers');
$node3->safe_psql('postgres', q{
CREATE EXTENSION pg_exporter;
CREATE ROLE team;
GRANT USAGE ON SCHEMA pgexporter TO team;
GRANT INSERT ON pgexporter.custom_metrics TO team;
SET ROLE team;
INSERT INTO pgexporter.custom_metrics (name, query, gauges, timeout) VALUES
  ('slow_ok', 'SELECT 1 AS x FROM pg_sleep(0.4)', '{x}', '3s');
});
# (The custom metrics worker must be up, or the longer budget's scrape below
# fails its custom metrics for want of it: slow to start under a sanitizer.)
$node3->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'pg_exporter custom metrics'")
  or die 'the custom metrics worker did not start';
my $short = (parse_exposition(http_request($port3, 'GET', '/metrics', 'X-Prometheus-Scrape-Timeout-Seconds' => '0.15')->{body}))[0];
# (Its custom metric failed for time, or, on a slow machine, the budget ran
# out before the custom metrics were asked: either way it did not succeed.)
ok(!sample($short, 'pg_exporter_collector_success', qr/collector="custom:slow_ok"/),
	'the short-budget client gets its short scrape');
my $full = (parse_exposition(http_request($port3, 'GET', '/metrics')->{body}))[0];
is(sample($full, 'pg_exporter_collector_success', qr/collector="custom:slow_ok"/), 1,
	'the next client (a longer budget) is not served it, though it is cached')
  or diag($node3->safe_psql('postgres', q{SELECT name, last_error FROM pgexporter.collector_status() WHERE name LIKE 'custom%'}));
my $again = (parse_exposition(http_request($port3, 'GET', '/metrics', 'X-Prometheus-Scrape-Timeout-Seconds' => '0.15')->{body}))[0];
is(sample($again, 'pg_exporter_collector_success', qr/collector="custom:slow_ok"/), 1,
	'a short-budget client may be served the cached full scrape');
is(sample($again, 'pg_exporter_scrapes_total'), sample($full, 'pg_exporter_scrapes_total'), 'from the cache');

# The budget runs out while the scrape asks whether there are custom metrics
# (their table is locked): the custom metrics worker must then be skipped, not
# asked with a budget of 0, which it would take for none at all.
$node3->append_conf('postgresql.conf', "pg_exporter.cache_ttl = 0\n");
$node3->reload;
$node3->poll_query_until('postgres', q{SELECT setting = '0' FROM pg_settings WHERE name = 'pg_exporter.cache_ttl'});
my $locker = IPC::Run::start([ 'psql', '-X', '-At', '-d', $node3->connstr('postgres'), '-c',
	'BEGIN; LOCK TABLE pgexporter.custom_metrics IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(1); COMMIT' ]);
$node3->poll_query_until('postgres', q{SELECT EXISTS (SELECT FROM pg_locks
	WHERE relation = 'pgexporter.custom_metrics'::regclass AND mode = 'AccessExclusiveLock' AND granted)});
my $spent = (parse_exposition(http_request($port3, 'GET', '/metrics', 'X-Prometheus-Scrape-Timeout-Seconds' => '0.15')->{body}))[0];
$locker->finish;
ok(!sample($spent, 'pg_exporter_collector_success', qr/collector="custom:slow_ok"/),
	'a budget spent while planning the custom metrics is not taken for no budget');
$node3->stop;

done_testing();
