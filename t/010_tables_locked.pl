# A relation locked ACCESS EXCLUSIVE (ALTER TABLE, REINDEX in an open
# transaction, or a queued LOCK) costs nothing: no collector waits on it, and
# relation_sizes, which reads the relations' files instead of opening them,
# still measures it (the size of the committed files, as before the lock).
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

# A lock wait would show as a 5 s scrape and failed collectors.
my ($node, $port) = new_exporter_node('tables_locked',
	conf => "pg_exporter.lock_timeout = '5s'\npg_exporter.statement_timeout = '20s'\n");
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

$node->safe_psql('postgres', q{
CREATE TABLE t_altered (id int PRIMARY KEY, v text);
CREATE TABLE t_reindexed (id int PRIMARY KEY, v text);
CREATE TABLE t_toast_reindexed (id int PRIMARY KEY, v text);
CREATE TABLE t_queued (id int PRIMARY KEY, v text);
CREATE TABLE t_free (id int PRIMARY KEY, v text);
INSERT INTO t_altered SELECT g, 'a' FROM generate_series(1, 100) g;
INSERT INTO t_free SELECT g, 'f' FROM generate_series(1, 100) g;
});
my $toast_index = $node->safe_psql('postgres',
	"SELECT i.indexrelid::regclass FROM pg_class c JOIN pg_index i ON i.indrelid = c.reltoastrelid "
	  . "WHERE c.oid = 't_toast_reindexed'::regclass");

sub scrape
{
	my $t0 = time;
	my $r = http_request($port, 'GET', '/metrics');
	my ($s) = parse_exposition($r->{body});
	return ($r, $s, time - $t0);
}

sub rel { my ($name) = @_; return qr/relname="$name"[,}]/; }

my ($r, $s, $took) = scrape();
my %before;
for my $t (qw(t_altered t_reindexed t_toast_reindexed t_queued t_free))
{
	$before{$t} = sample($s, 'pg_stat_user_tables_table_size_bytes', rel($t));
	is($before{$t}, $node->safe_psql('postgres', "SELECT pg_table_size('$t')"), "$t: size before the locks equals pg_table_size");
	is(sample($s, 'pg_stat_user_tables_index_size_bytes', rel($t)),
		$node->safe_psql('postgres', "SELECT pg_indexes_size('$t')"), "$t: index size equals pg_indexes_size");
}
my $reindexed_index_before = sample($s, 'pg_index_size_bytes', qr/indexrelname="t_reindexed_pkey"/);

# ALTER TABLE holds ACCESS EXCLUSIVE on the table until commit.
my $alter = $node->background_psql('postgres');
$alter->query_safe('BEGIN; ALTER TABLE t_altered ADD COLUMN x int;');
# REINDEX INDEX in a transaction: ACCESS EXCLUSIVE on the index only.
my $reindex = $node->background_psql('postgres');
$reindex->query_safe('BEGIN; REINDEX INDEX t_reindexed_pkey;');
# REINDEX of the TOAST index: pg_table_size(t_toast_reindexed) would wait on it.
my $toast = $node->background_psql('postgres');
$toast->query_safe("BEGIN; REINDEX INDEX $toast_index;");
# A queued ACCESS EXCLUSIVE request (behind a reader) blocks new readers too.
my $reader = $node->background_psql('postgres');
$reader->query_safe('BEGIN; LOCK TABLE t_queued IN ACCESS SHARE MODE;');
my $queued = $node->background_psql('postgres');
$queued->query_safe('BEGIN;');
$queued->query_until(qr/queued/, "\\echo queued\nLOCK TABLE t_queued IN ACCESS EXCLUSIVE MODE;\n");
$node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_locks WHERE relation = 't_queued'::regclass AND NOT granted")
  or die 'the ACCESS EXCLUSIVE request did not queue';

# The setup is real: measuring these relations the usual way waits.
for my $t (qw(t_altered t_reindexed t_toast_reindexed t_queued))
{
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET lock_timeout = '100ms'; SELECT pg_table_size('$t') + pg_indexes_size('$t');");
	like($err, qr/lock timeout/, "$t: pg_table_size + pg_indexes_size would wait");
}

($r, $s, $took) = scrape();
is($r->{status}, 200, 'scrape answered');
# A collector that waited for one of the locks would fail at lock_timeout
# (5 s, below the 20 s statement timeout): none failed.
my @failed = grep { /^pg_exporter_collector_success\{/ && $s->{$_} == 0 } keys %$s;
is_deeply(\@failed, [], 'no collector waited for a lock (none failed)');
for my $c (qw(tables indexes relation_sizes))
{
	is(sample($s, 'pg_exporter_collector_success', qr/collector="$c"/), 1, "collector $c succeeded");
}
# Statistics of every table, locked or not.
for my $t (qw(t_altered t_reindexed t_toast_reindexed t_queued t_free))
{
	ok(defined sample($s, 'pg_stat_user_tables_n_live_tup', rel($t)), "$t: statistics exported");
}
ok(defined sample($s, 'pg_index_scans_total', qr/indexrelname="t_reindexed_pkey"/), 'locked index: statistics exported');
ok(defined sample($s, 'pg_statio_user_tables_heap_blocks_hit', rel('t_altered')), 'locked table: statio exported');

# Sizes: measured while locked, from the committed files.
for my $t (qw(t_altered t_reindexed t_toast_reindexed t_queued t_free))
{
	is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel($t)), $before{$t}, "$t: size measured while locked");
}
is(sample($s, 'pg_index_size_bytes', qr/indexrelname="t_reindexed_pkey"/), $reindexed_index_before,
	'reindexed index: the committed index measured');
is(sample($s, 'pg_stat_user_tables_index_size_bytes', rel('t_reindexed')), $reindexed_index_before,
	'reindexed table: its index total is the committed index');

$alter->query_safe('COMMIT;');
$reindex->query_safe('COMMIT;');
$toast->query_safe('COMMIT;');
$reader->query_safe('COMMIT;');
$queued->query_safe('COMMIT;');
$_->quit for ($alter, $reindex, $toast, $reader, $queued);

# After the commits: the new files (ALTER TABLE added a column, REINDEX made
# new index files), measured as pg_table_size and pg_relation_size do now.
($r, $s) = scrape();
for my $t (qw(t_altered t_reindexed t_toast_reindexed t_queued t_free))
{
	is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel($t)),
		$node->safe_psql('postgres', "SELECT pg_table_size('$t')"), "$t: size after commit equals pg_table_size");
	is(sample($s, 'pg_stat_user_tables_index_size_bytes', rel($t)),
		$node->safe_psql('postgres', "SELECT pg_indexes_size('$t')"), "$t: index size after commit equals pg_indexes_size");
}
is(sample($s, 'pg_index_size_bytes', qr/indexrelname="t_reindexed_pkey"/),
	$node->safe_psql('postgres', "SELECT pg_relation_size('t_reindexed_pkey')"),
	'reindexed index after commit: the new index file, as pg_relation_size measures it');

$node->stop;
done_testing();
