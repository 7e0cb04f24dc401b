# Sizes on their own cadence (pg_exporter.size_ttl): relation and database
# sizes are read again once they are that old, with their age exported,
# while the counters of the same scrape stay exact; a relation created or
# rewritten since the sizes were read gets its size at once. Partitioned
# tables: their sizes are their partitions' added up. A catalog larger than
# one batch of the query cursor is read whole.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($node, $port) = new_exporter_node('sizes_ttl',
	conf => "autovacuum = off\npg_exporter.size_ttl = '1h'\npg_exporter.relations_limit = 0\n");
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

sub q1 { my ($sql, $db) = @_; return $node->safe_psql($db // 'postgres', $sql); }
sub scrape
{
	my $r = http_request($port, 'GET', '/metrics');
	is($r->{status}, 200, 'scrape: 200');
	my ($s) = parse_exposition($r->{body});
	return $s;
}
sub rel { my ($name) = @_; return qr/relname="$name"[,}]/; }
sub db { my ($name) = @_; return qr/datname="$name"[,}]/; }

q1("CREATE DATABASE other");
q1(q{
CREATE TABLE t_grow (id int PRIMARY KEY, v text);
INSERT INTO t_grow SELECT g, repeat('x', 200) FROM generate_series(1, 100) g;
});
q1("CREATE TABLE t_other (v text); INSERT INTO t_other SELECT repeat('y', 100) FROM generate_series(1, 100)",
	'other');

my $s = scrape();
my $size1 = sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_grow'));
is($size1, q1("SELECT pg_table_size('t_grow')"), 'first scrape: the size of the files');
my $db1 = sample($s, 'pg_database_size_bytes', db('postgres'));
my $other1 = sample($s, 'pg_database_size_bytes', db('other'));
is($other1, q1("SELECT pg_database_size('other')"), 'another database: pg_database_size()');
ok(defined sample($s, 'pg_exporter_relation_sizes_age_seconds'), 'the age of the relation sizes is exported');
ok(defined sample($s, 'pg_exporter_database_size_age_seconds', db('other')), 'and of the database sizes');

# The table and both databases grow; the counters must show it at once, the
# sizes not before they are an hour old.
q1("INSERT INTO t_grow SELECT g, repeat('x', 200) FROM generate_series(101, 2000) g");
q1("INSERT INTO t_other SELECT repeat('y', 100) FROM generate_series(1, 5000)", 'other');
$node->poll_query_until('postgres', "SELECT n_tup_ins = 2000 FROM pg_stat_user_tables WHERE relname = 't_grow'")
  or die 'the inserts were not counted';
cmp_ok(q1("SELECT pg_table_size('t_grow')"), '>', $size1, 'the table did grow');
sleep 0.3;
$s = scrape();
is(sample($s, 'pg_stat_user_tables_n_tup_ins', rel('t_grow')), 2000, 'the counter is exact in the same scrape');
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_grow')), $size1, 'the size is the one kept');
is(sample($s, 'pg_database_size_bytes', db('postgres')), $db1, 'so is the database size');
is(sample($s, 'pg_database_size_bytes', db('other')), $other1, 'and the other database\'s');
cmp_ok(sample($s, 'pg_exporter_relation_sizes_age_seconds'), '>=', 0.3, 'the relation sizes are older now');
cmp_ok(sample($s, 'pg_exporter_database_size_age_seconds', db('other')), '>=', 0.3,
	'and so are the database sizes');

# Created, or rewritten, since the listing: stat'ed on their own, exact.
q1(q{
CREATE TABLE t_new (id int PRIMARY KEY, v text);
INSERT INTO t_new SELECT g, repeat('z', 300) FROM generate_series(1, 500) g;
TRUNCATE t_grow;
INSERT INTO t_grow SELECT g, 'x' FROM generate_series(1, 10) g;
});
$s = scrape();
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_new')), q1("SELECT pg_table_size('t_new')"),
	'a new table has its size at once');
is(sample($s, 'pg_index_size_bytes', qr/indexrelname="t_new_pkey"/), q1("SELECT pg_relation_size('t_new_pkey')"),
	'and so has its index');
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_grow')), q1("SELECT pg_table_size('t_grow')"),
	'a rewritten table has the size of its new files');

# size_ttl = 0: read on every scrape again.
$node->append_conf('postgresql.conf', "pg_exporter.size_ttl = 0\n");
$node->reload;
q1("INSERT INTO t_new SELECT g, repeat('z', 300) FROM generate_series(501, 1500) g");
my $fresh = 0;
for (1 .. 100)
{
	$s = scrape();
	if (sample($s, 'pg_exporter_relation_sizes_age_seconds') == 0
		&& sample($s, 'pg_stat_user_tables_table_size_bytes', rel('t_new')) == q1("SELECT pg_table_size('t_new')"))
	{
		$fresh = 1;
		last;
	}
	sleep 0.1;
}
ok($fresh, 'size_ttl = 0: the sizes of this scrape, age 0');
is(sample($s, 'pg_database_size_bytes', db('other')), q1("SELECT pg_database_size('other')"),
	'and the other database\'s size read again');
is(sample($s, 'pg_exporter_database_size_age_seconds', db('other')), 0, 'age 0');

# Partitioned tables, two levels: the parents' sizes are the sums of their
# partitions' (which keep their own series).
q1(q{
CREATE TABLE p_events (id int, at date, note text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE INDEX p_events_note ON p_events (note);
CREATE TABLE p_events_2025 PARTITION OF p_events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE p_events_2026 PARTITION OF p_events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')
  PARTITION BY LIST (id);
CREATE TABLE p_events_2026_a PARTITION OF p_events_2026 FOR VALUES IN (1, 2, 3);
CREATE TABLE p_events_2026_b PARTITION OF p_events_2026 DEFAULT;
INSERT INTO p_events SELECT g, '2025-06-01', repeat('n', 500) FROM generate_series(1, 300) g;
INSERT INTO p_events SELECT g, '2026-06-01', repeat('n', 500) FROM generate_series(1, 600) g;
});
$s = scrape();
my $leaves = "'p_events_2025', 'p_events_2026_a', 'p_events_2026_b'";
my ($tsum, $isum) = split /\|/,
  q1("SELECT sum(pg_table_size(c)), sum(pg_indexes_size(c)) FROM unnest(ARRAY[$leaves]::regclass[]) c");
cmp_ok($tsum, '>', 0, 'the partitions have data');
# Partitioned tables have per-table series where pg_stat_user_tables lists
# them (14+; 13 lists only the partitions, and so does the exporter).
my $parents_listed = q1("SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'p_events'") == 1;
my ($t26, $i26) = split /\|/, q1("SELECT sum(pg_table_size(c)), sum(pg_indexes_size(c)) "
	  . "FROM unnest(ARRAY['p_events_2026_a', 'p_events_2026_b']::regclass[]) c");
if ($parents_listed)
{
	is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('p_events')), $tsum,
		'partitioned table: the sum of its partitions\' table sizes');
	is(sample($s, 'pg_stat_user_tables_index_size_bytes', rel('p_events')), $isum,
		'and of their index sizes');
	is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('p_events_2026')), $t26,
		'a sub-partitioned partition: the sum of its own partitions');
	is(sample($s, 'pg_stat_user_tables_index_size_bytes', rel('p_events_2026')), $i26, 'indexes too');
}
else
{
	ok(!defined sample($s, 'pg_stat_user_tables_table_size_bytes', rel('p_events')),
		'partitioned table: no series where pg_stat_user_tables has no row for it');
	ok(!defined sample($s, 'pg_stat_user_tables_index_size_bytes', rel('p_events')), 'nor an index size');
	ok(!defined sample($s, 'pg_stat_user_tables_table_size_bytes', rel('p_events_2026')),
		'a sub-partitioned partition neither');
	ok(!defined sample($s, 'pg_stat_user_tables_index_size_bytes', rel('p_events_2026')), 'indexes too');
}
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('p_events_2025')), q1("SELECT pg_table_size('p_events_2025')"),
	'a partition keeps its own size');

# A catalog of more rows than one batch of the cursor (8,192): 3,000 tables
# with a TOAST table, its index and a primary key are 12,000 pg_class rows,
# every one of them read.
for my $from (map { 500 * $_ + 1 } 0 .. 5)   # 500 a transaction: the lock table
{
	my $to = $from + 499;
	q1(qq{DO \$\$ BEGIN FOR i IN $from..$to LOOP
  EXECUTE format('CREATE TABLE many_%s (id int PRIMARY KEY, v text)', i);
END LOOP; END \$\$;});
}
$s = scrape();
my $many = grep { /^pg_stat_user_tables_seq_scan\{.*relname="many_\d+"/ } keys %$s;
is($many, 3000, 'a catalog read of several batches: every table has its series');
my $sized = grep { /^pg_stat_user_tables_table_size_bytes\{.*relname="many_\d+"/ } keys %$s;
is($sized, 3000, 'and its size (TOAST rows from every batch)');
is(sample($s, 'pg_stat_user_tables_table_size_bytes', rel('many_3000')),
	q1("SELECT pg_table_size('many_3000')"), 'the last table read has its TOAST table counted');

done_testing();
