# What the worker keeps from one scrape for the next (the relation catalog,
# pg_settings) is never stale: every change shows in the very next scrape,
# because the change's invalidation reaches the worker before the committing
# session gets its answer, and the worker takes it in as its scrape begins.
# Between changes the catalog is read once (pg_exporter_catalog_reads_total);
# a change of some pg_class rows (VACUUM, ANALYZE, ALTER TABLE SET, a
# rewrite) re-reads only those rows (pg_exporter_catalog_refreshes_total).
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

# No autovacuum: it would change pg_class (and the counts) on its own.
my ($node, $port) = new_exporter_node('kept_reads', conf => "autovacuum = off\npg_exporter.lock_timeout = '500ms'\n");
my $worker = wait_for_worker($node);
my $postmaster_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');
ok(wait_for_listening($port), 'endpoint answers');

$node->safe_psql('postgres', q{
CREATE TABLE t_kept (id int PRIMARY KEY, v int);
INSERT INTO t_kept SELECT g, g FROM generate_series(1, 1000) g;
DELETE FROM t_kept WHERE id <= 100;
CREATE TABLE t_truncated (id int PRIMARY KEY, v text);
INSERT INTO t_truncated SELECT g, repeat('x', 100) FROM generate_series(1, 500) g;
CREATE SCHEMA s_old;
CREATE TABLE s_old.t_in_schema (id int);
});

sub scrape
{
	my ($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
	return $s;
}
sub rel { my ($name) = @_; return qr/relname="$name"[,}]/; }
sub q1 { my ($sql) = @_; return $node->safe_psql('postgres', $sql); }

my $s = scrape();
my $reads = sample($s, 'pg_exporter_catalog_reads_total');
my $refreshes = sample($s, 'pg_exporter_catalog_refreshes_total');
ok(defined $reads && $reads >= 1, 'the catalog was read');
$s = scrape();
is(sample($s, 'pg_exporter_catalog_reads_total'), $reads, 'nothing changed: the next scrape reads no catalog');
is(sample($s, 'pg_exporter_catalog_refreshes_total'), $refreshes, 'not even some rows');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_kept')), 'and still has every table');

# Each change, then one scrape: it must show the change, with one more
# whole read of the catalog ('whole') or of the changed rows only ('rows').
sub after_change
{
	my ($what, $sql, $read) = @_;
	ref $sql ? $sql->() : q1($sql);
	my $s = scrape();
	if (($read // 'whole') eq 'whole')
	{
		is(sample($s, 'pg_exporter_catalog_reads_total'), ++$reads, "$what: the catalog is read again");
		is(sample($s, 'pg_exporter_catalog_refreshes_total'), $refreshes, "$what: whole, not by rows");
	}
	else
	{
		is(sample($s, 'pg_exporter_catalog_refreshes_total'), ++$refreshes, "$what: its rows are read again");
		is(sample($s, 'pg_exporter_catalog_reads_total'), $reads, "$what: not the whole catalog");
	}
	return $s;
}

# Dead rows over the threshold, as the server counts them now.
sub dead { return q1("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 't_kept'"); }
sub ratio_is
{
	my ($s, $threshold, $what) = @_;
	my $want = dead() / $threshold;
	my $got = sample($s, 'pg_stat_user_tables_autovacuum_threshold_ratio', rel('t_kept'));
	ok(defined $got && abs($got - $want) < 1e-9, "$what (got " . ($got // 'none') . ", want $want)");
}
# The deleting session reports its counts as it exits.
ok($node->poll_query_until('postgres', "SELECT n_dead_tup = 100 FROM pg_stat_user_tables WHERE relname = 't_kept'"),
	'the deleted rows are counted');
$s = scrape();

# ANALYZE updates reltuples in place (never analyzed: taken as 0).
ratio_is($s, 50, 'before ANALYZE: threshold 50 + 0.2 * 0');
$s = after_change('ANALYZE', 'ANALYZE t_kept', 'rows');
my $tuples = q1("SELECT reltuples FROM pg_class WHERE relname = 't_kept'");
is($tuples, 900, 'ANALYZE counted the live rows');
ratio_is($s, 50 + 0.2 * 900, 'after ANALYZE: the new reltuples');

# Storage parameters.
$s = after_change('ALTER TABLE SET',
	'ALTER TABLE t_kept SET (autovacuum_vacuum_threshold = 10, autovacuum_vacuum_scale_factor = 0)', 'rows');
ratio_is($s, 10, 'after ALTER TABLE SET: the table parameters');

# A rewrite gives the table new files: their sizes, not the old ones'.
$s = after_change('TRUNCATE', "TRUNCATE t_truncated; INSERT INTO t_truncated SELECT g, 'y' FROM generate_series(1, 50) g",
	'rows');
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_truncated')),
	q1("SELECT pg_table_size('t_truncated')"), 'TRUNCATE: the size of the new files');
$s = after_change('VACUUM FULL', 'VACUUM FULL t_kept', 'rows');
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_kept')),
	q1("SELECT pg_table_size('t_kept')"), 'VACUUM FULL: the size of the new files');

is(sample($s, 'pg_index_size_bytes', qr/indexrelname="t_kept_pkey"/),
	q1("SELECT pg_relation_size('t_kept_pkey')"), 'VACUUM FULL: the size of the rebuilt index');
# Temporary tables: pg_class rows that are none of the exported ones. A
# session's first one creates its temporary schema (pg_namespace: whole).
my $temp = $node->background_psql('postgres');
$s = after_change('first CREATE TEMP TABLE', sub { $temp->query_safe('CREATE TEMP TABLE t_temp0 (id int)') });
$s = after_change('CREATE TEMP TABLE',
	sub { $temp->query_safe('CREATE TEMP TABLE t_temp (id int); DROP TABLE t_temp') }, 'rows');
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_temp')), 'a temporary table is not exported');
$temp->quit;
# A new table with no index and no TOAST table changes only pg_class: its
# row is not one of those kept, so the catalog is read whole.
$s = after_change('CREATE TABLE (pg_class only)', 'CREATE TABLE t_plain (id int); CREATE TABLE t_bare (id int)');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_plain')), 'the new table');
# A TOAST table added to it (ALTER TABLE ADD COLUMN text).
$s = after_change('ADD COLUMN with TOAST', 'ALTER TABLE t_plain ADD COLUMN note text');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_plain')), 'still there');

# A new index (pg_index and pg_class).
$s = after_change('CREATE INDEX', 'CREATE INDEX t_kept_v ON t_kept (v)');
is(sample($s, 'pg_index_size_bytes', qr/indexrelname="t_kept_v"/),
	q1("SELECT pg_relation_size('t_kept_v')"), 'CREATE INDEX: the new index and its size');

# Names: a table and a schema renamed.
$s = after_change('ALTER TABLE RENAME', 'ALTER TABLE t_kept RENAME TO t_kept_renamed');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_kept_renamed')), 'the new table name');
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_kept')), 'and not the old one');
$s = after_change('ALTER SCHEMA RENAME', 'ALTER SCHEMA s_old RENAME TO s_new');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', qr/schemaname="s_new",relname="t_in_schema"/),
	'the new schema name');
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', qr/schemaname="s_old"/), 'and not the old one');

$s = after_change('DROP TABLE', 'DROP TABLE t_truncated');
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_truncated')), 'a dropped table is gone');
# A table without an index dropped: only its pg_class row goes.
$s = after_change('DROP TABLE (pg_class only)', 'DROP TABLE t_bare');
ok(!defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_bare')), 'gone too');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_plain')), 'the other stays');

# A catalog read that fails (pg_index locked, lock_timeout) costs only the
# per-table collectors of that scrape, and keeps nothing: the next scrape
# reads again and has the change.
q1('CREATE TABLE t_during (id int)');
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE pg_index IN ACCESS EXCLUSIVE MODE;');
my $r = http_request($port, 'GET', '/metrics');
($s) = parse_exposition($r->{body});
is($r->{status}, 200, 'catalog locked: the scrape is answered');
is(sample($s, 'pg_up'), 1, 'pg_up stays 1');
is(sample($s, 'pg_exporter_collector_success', qr/collector="tables"/), 0, 'the tables collector failed');
is(sample($s, 'pg_exporter_catalog_reads_total'), $reads, 'no catalog read counted');
$locker->query_safe('ROLLBACK;');
$locker->quit;
$s = scrape();
is(sample($s, 'pg_exporter_collector_success', qr/collector="tables"/), 1, 'lock gone: tables works again');
ok(defined sample($s, 'pg_stat_user_tables_seq_scan', rel('t_during')), 'with the change made before the failure');
is(sample($s, 'pg_exporter_catalog_reads_total'), ++$reads, 'read once');
is(worker_pid($node), $worker, 'the same worker process throughout');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $postmaster_start, 'and no server restart');

# Settings: read once per reload.
is(sample($s, 'pg_settings_work_mem_bytes'), 4 * 1024 * 1024, 'work_mem as configured');
q1("ALTER SYSTEM SET work_mem = '7MB'");
is(sample(scrape(), 'pg_settings_work_mem_bytes'), 4 * 1024 * 1024, 'not yet in effect before a reload');
$node->reload;
my $work_mem;
for (1 .. 50)
{
	$work_mem = sample(scrape(), 'pg_settings_work_mem_bytes');
	last if $work_mem == 7 * 1024 * 1024;
	sleep 0.2;
}
is($work_mem, 7 * 1024 * 1024, 'the reloaded value');

# A role that may now read every setting sees the pending restart of a
# superuser-only one, without a reload of its own.
q1('CREATE ROLE watcher; CREATE EXTENSION pg_exporter');
$node->append_conf('postgresql.conf', "pg_exporter.role = 'watcher'\nshared_preload_libraries = 'pg_exporter,pg_stat_statements'\n");
$node->reload;
ok($node->poll_query_until('postgres', "SELECT role = 'watcher' FROM pgexporter.worker_status()"),
	'the worker restarted as watcher (a role that cannot log in)');
ok(wait_for_listening($port), 'and serves');
$s = scrape();
ok(defined sample($s, 'pg_settings_work_mem_bytes'), 'its scrape has the settings');
my $restart = sample($s, 'pg_settings_pending_restart', qr/name="shared_preload_libraries"/);
is($restart, undef, 'a plain role does not see shared_preload_libraries');
q1('GRANT pg_read_all_settings TO watcher');
is(sample(scrape(), 'pg_settings_pending_restart', qr/name="shared_preload_libraries"/), 1,
	'granted pg_read_all_settings: it does at the next scrape');

$node->stop;
done_testing();
