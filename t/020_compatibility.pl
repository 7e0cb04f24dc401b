# Drop-in compatibility: every metric name that postgres_exporter's collectors,
# its mixin's dashboards and alerts, and the widely used Grafana dashboards
# reference is exported by a primary and a streaming standby with the matching
# features in use, or is listed in t/compat/unavailable.txt with the reason it
# cannot exist here (on this server version, when the entry names versions).
# Also checks that README's metrics table lists every family this setup
# exports with a PostgreSQL column that includes this version, and that every
# family it lists for this version is exported (and writes the table it would
# generate to tmp_check/metrics_table.md).
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my $compat = "$FindBin::RealBin/compat";

my ($primary, $pport) = new_exporter_node('compat_primary',
	init => { allows_streaming => 'logical' },
	conf => q{
shared_preload_libraries = 'pg_exporter,pg_stat_statements'
pg_exporter.collectors = 'all'
track_functions = 'all'
track_io_timing = on
max_prepared_transactions = 5
archive_mode = on
archive_command = 'false'
max_slot_wal_keep_size = '1GB'
autovacuum_naptime = 1
pg_exporter.statements_query_length = 40
});
wait_for_worker($primary);
my $major = int($primary->safe_psql('postgres', 'SHOW server_version_num') / 10000);
note "PostgreSQL $major";
# 18+: vacuum delay times (pg_stat_progress_vacuum.delay_time).
if ($major >= 18)
{
	$primary->append_conf('postgresql.conf', "track_cost_delay_timing = on\n");
	$primary->reload;
}

# Features in use: extensions, a scanned and vacuumed table with indexes, a
# function, WAL archived, a physical slot (the standby's) and a logical one.
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_exporter;
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION pg_buffercache;
-- Sets pg_stat_database.stats_reset (NULL until a first reset).
SELECT pg_stat_reset();
CREATE TABLE app_items (id int PRIMARY KEY, v text);
CREATE INDEX app_items_v ON app_items (v);
INSERT INTO app_items SELECT g, 'v' || g FROM generate_series(1, 1000) g;
UPDATE app_items SET v = v || 'x' WHERE id <= 100;
DELETE FROM app_items WHERE id > 900;
SELECT count(*) FROM app_items;
SELECT * FROM app_items WHERE id = 5;
VACUUM ANALYZE app_items;
CREATE TABLE app_big (id int, pad text);
INSERT INTO app_big SELECT g, repeat('x', 200) FROM generate_series(1, 100000) g;
DELETE FROM app_big WHERE id % 2 = 0;
CREATE FUNCTION app_fn(int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN $1 + 1; END $$;
SELECT app_fn(1);
SELECT pg_create_physical_replication_slot('standby_slot');
SELECT pg_create_logical_replication_slot('logical_slot', 'test_decoding');
CREATE TABLE app_auto (id int PRIMARY KEY, v int)
  WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
        autovacuum_analyze_threshold = 0, autovacuum_analyze_scale_factor = 0);
INSERT INTO app_auto SELECT g, g FROM generate_series(1, 100) g;
UPDATE app_auto SET v = v + 1;
SELECT pg_switch_wal();
CHECKPOINT;
});
# A failed archive first (its age is exported only once it happened), then a
# successful one.
$primary->poll_query_until('postgres', 'SELECT failed_count > 0 FROM pg_stat_archiver')
  or die 'archiving did not fail';
$primary->append_conf('postgresql.conf', "archive_command = 'true'\n");
$primary->reload;
$primary->poll_query_until('postgres', 'SELECT archived_count > 0 FROM pg_stat_archiver')
  or die 'archiving did not succeed';
# Autovacuum has run at least once on a table.
$primary->poll_query_until('postgres', q{SELECT last_autovacuum IS NOT NULL AND last_autoanalyze IS NOT NULL
  FROM pg_stat_user_tables WHERE relname = 'app_auto'}) or die 'autovacuum did not run';

$primary->backup('bkp');
my $standby = PostgreSQL::Test::Cluster->new('compat_standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
my $sport = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', "pg_exporter.port = $sport\nprimary_slot_name = 'standby_slot'\n"
	  . "archive_mode = off\nhot_standby_feedback = on\n");
$standby->start;
$primary->safe_psql('postgres', 'INSERT INTO app_items VALUES (5000, 5000)');
$primary->wait_for_catchup($standby);

# Sessions the activity, lock and vacuum families describe: an open
# transaction, a prepared one, a blocked session, a slowed vacuum.
my $holder = $primary->background_psql('postgres');
$holder->query_safe('BEGIN; SELECT txid_current(); LOCK TABLE app_items IN SHARE MODE;');
$primary->safe_psql('postgres', "BEGIN; INSERT INTO app_big VALUES (-1, 'p'); PREPARE TRANSACTION 'compat_p1';");
my $waiter = $primary->background_psql('postgres', on_error_stop => 0);
$waiter->query_until(qr/waiting/, "\\echo waiting\nUPDATE app_items SET v = 'w' WHERE id = 1;\n");
my $idle = $primary->background_psql('postgres');
$idle->query_safe("SET application_name = 'compat_idle'");
my $vacuum = $primary->background_psql('postgres', on_error_stop => 0);
$vacuum->query_until(qr/vacuuming/,
	"SET vacuum_cost_delay = 100;\nSET vacuum_cost_limit = 1;\n\\echo vacuuming\nVACUUM app_big;\n");
$primary->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_stat_progress_vacuum})
  or die 'the vacuum did not show in pg_stat_progress_vacuum';
# An autovacuum worker at work (slowed by the table's own cost settings).
$primary->safe_psql('postgres', q{
CREATE TABLE app_slow_auto (id int, pad text)
  WITH (autovacuum_vacuum_threshold = 0, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1);
INSERT INTO app_slow_auto SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g;
DELETE FROM app_slow_auto WHERE id % 2 = 0;
});
$primary->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_stat_activity
  WHERE backend_type = 'autovacuum worker' AND query LIKE '%app_slow_auto%'}) or die 'no autovacuum worker';
$primary->wait_for_catchup($standby);
$primary->poll_query_until('postgres', q{SELECT count(*) > 0 FROM pg_locks WHERE NOT granted})
  or die 'the waiter is not waiting';

ok(wait_for_listening($pport), 'primary serves metrics');
ok(wait_for_listening($sport), 'standby serves metrics');
my %present;     # family name => 1
my %families;    # family name => { type, help, labels => {}, collectors => {} }
# pg_stat_replication's lag columns turn NULL a moment after the standby has
# caught up with no WAL since: then the lag families have no sample (as with
# postgres_exporter), which only this check, before and after the scrape, tells.
my $lag_sql = q{SELECT coalesce(bool_or(write_lag IS NULL OR flush_lag IS NULL OR replay_lag IS NULL), true)
  FROM pg_stat_replication};
my $lags_null = $primary->safe_psql('postgres', $lag_sql) eq 't';
for my $port ($pport, $sport)
{
	my $body = http_request($port, 'GET', '/metrics')->{body};
	my $nfam = () = $body =~ /^# TYPE /mg;
	my $nsamples = () = $body =~ /^[a-zA-Z_]/mg;
	note sprintf('scrape of port %d: %d families, %d samples, %d bytes', $port, $nfam, $nsamples, length $body);
	my ($code, $out) = promtool_check($body);
	ok($code == 0 || $code == 3, "exposition parses (port $port, exit $code)") or diag $out;
	is_deeply(promtool_unexpected($out), [], 'lint findings only on inherited names') or diag $out;
	collect_families($body, \%families, undef);
}
# Which collector emits what: each collector alone, through the SQL function.
my @collectors = split /\n/, $primary->safe_psql('postgres',
	q{SELECT name || '|' || default_enabled FROM pgexporter.collectors WHERE name NOT LIKE '%:%' ORDER BY name});
my %default_on;
for my $row (@collectors)
{
	my ($c, $on) = split /\|/, $row;
	$default_on{$c} = $on =~ /^t/;
	for my $node ($primary, $standby)
	{
		my $text = $node->safe_psql('postgres', "SELECT pgexporter.metrics(ARRAY['$c'])");
		collect_families($text, \%families, $c);
	}
}
$present{$_} = 1 for grep { $families{$_}{samples} } keys %families;

# Every referenced name is present or explained.
my %unavailable = read_reasons("$compat/unavailable.txt");
for my $list (sort glob("$compat/*.txt"))
{
	next if $list =~ /unavailable\.txt$/;
	my @names = read_names($list);
	my (@missing, @stale);
	for my $n (@names)
	{
		my $have = $present{$n} || grep({ $present{$_} } histogram_parts($n));
		push @missing, $n if !$have && !exists $unavailable{$n};
		push @stale, $n if $have && exists $unavailable{$n};
	}
	my $file = $list =~ s{.*/}{}r;
	is(scalar(@missing), 0, "$file: every name present or explained (" . scalar(@names) . ' names)')
	  or diag "missing: @missing";
	is(scalar(@stale), 0, "$file: no name both present and listed unavailable") or diag "stale: @stale";
}

# README's table lists every family exported here, for this version, and
# every family it lists for this version is exported here.
my $readme = slurp_file("$FindBin::RealBin/../README.md");
my ($section) = $readme =~ /<!-- metrics-table:begin -->(.*)<!-- metrics-table:end -->/s;
my %documented;    # family => PostgreSQL versions
for my $line (split /\n/, $section // '')
{
	my @cells = map { s/^\s+|\s+$//gr } split /(?<!\\)\|/, $line;
	next unless @cells >= 8 && $cells[1] =~ /^`([a-zA-Z_:][a-zA-Z0-9_:]*)`$/;
	$documented{$1} = $cells[6];
}
my $table = metrics_table(\%families, \%default_on, \%documented);
PostgreSQL::Test::Utils::append_to_file("$PostgreSQL::Test::Utils::tmp_check/metrics_table.md", $table);
my @undocumented = grep { !in_versions($documented{$_} // 'none', $major) && !/^app_/ && !/^pg_settings_(?!pending_restart$)/ }
  sort keys %present;
is(scalar(@undocumented), 0, "README metrics table lists every exported family for PostgreSQL $major")
  or diag "undocumented: @undocumented"
  or diag "generated table: $PostgreSQL::Test::Utils::tmp_check/metrics_table.md";
$lags_null ||= $primary->safe_psql('postgres', $lag_sql) eq 't';
my %may_lack = $lags_null ? map { ("pg_stat_replication_${_}_lag_seconds" => 1) } qw(write flush replay) : ();
note 'the standby had no lag to report: its lag families may be absent' if $lags_null;
my @unexported = grep { in_versions($documented{$_}, $major) && !$present{$_} && !$may_lack{$_} } sort keys %documented;
is(scalar(@unexported), 0, "every family README lists for PostgreSQL $major is exported")
  or diag "not exported: @unexported";

# Release in dependency order: the lock holder first (the waiter proceeds),
# the slowed vacuum by cancellation.
$holder->quit;
$primary->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
  WHERE query = 'VACUUM app_big;' AND pid <> pg_backend_pid()});
$vacuum->quit;
$waiter->quit;
$idle->quit;
$primary->safe_psql('postgres', "ROLLBACK PREPARED 'compat_p1'");
$standby->stop;
$primary->stop;
done_testing();

# ---- helpers ----

sub collect_families
{
	my ($text, $fams, $collector) = @_;
	my %type_of;
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^# TYPE (\S+) (\S+)$/) { $fams->{$1}{type} = $2; $type_of{$1} = $2; next; }
		if ($line =~ /^# HELP (\S+) (.*)$/) { $fams->{$1}{help} = $2; next; }
		next if $line =~ /^#/ || $line eq '';
		my ($name, $labels) = $line =~ /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? \S+$/ or next;
		my $fam = $name;
		if (!exists $type_of{$name} && $name =~ /^(.*)_(bucket|sum|count)$/ && ($type_of{$1} // '') eq 'histogram')
		{
			$fam = $1;
		}
		$fams->{$fam}{samples}++;
		$fams->{$fam}{collectors}{$collector} = 1 if defined $collector;
		for my $l (($labels // '') =~ /([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)
		{
			$fams->{$fam}{labels}{$l} = 1 unless $l eq 'le';
		}
	}
}

sub histogram_parts { my ($n) = @_; return $n =~ /^(.*)_(bucket|sum|count)$/ ? ($1) : (); }

sub read_names
{
	my ($file) = @_;
	open my $fh, '<', $file or die "$file: $!";
	my @n = grep { /\S/ && !/^#/ } map { s/\s+$//r } <$fh>;
	close $fh;
	return @n;
}

# name<TAB>why, or name<TAB>versions<TAB>why for a name unavailable only on
# those server versions; returns the names unavailable on this one.
sub read_reasons
{
	my ($file) = @_;
	my %r;
	for (read_names($file))
	{
		my ($name, $versions, $why) = split /\t+/, $_, 3;
		($versions, $why) = ('all', $versions) unless defined $why;
		die "$file: no reason for $name" unless defined $why && $why =~ /\S/;
		$r{$name} = $why if in_versions($versions, $major);
	}
	return %r;
}

# Whether server major version $v is in "all", "14+", "-16", "14-17", "17"
# or a list of those ("13,15").
sub in_versions
{
	my ($range, $v) = @_;
	return 1 if $range eq 'all';
	return 0 if $range eq 'none';
	return scalar grep { in_versions($_, $v) } split /,/, $range if $range =~ /,/;
	return $v == $range if $range =~ /^\d+$/;
	return $v >= $1 if $range =~ /^(\d+)\+$/;
	return $v <= $1 if $range =~ /^-(\d+)$/;
	return $v >= $1 && $v <= $2 if $range =~ /^(\d+)-(\d+)$/;
	die "unknown version range '$range'";
}

sub metrics_table
{
	my ($fams, $default_on, $documented) = @_;
	my %pe = map { $_ => 1 } read_names("$compat/postgres_exporter_collectors.txt"),
	  (-e "$compat/postgres_mixin.txt" ? read_names("$compat/postgres_mixin.txt") : ()),
	  (-e "$compat/grafana_9628.txt" ? read_names("$compat/grafana_9628.txt") : ());
	my %rust = map { $_ => 1 } read_names("$compat/rust_pg_exporter.txt");
	my $out = "| Family | Type | Labels | Collector | Default | PostgreSQL | Same name in | Meaning |\n|---|---|---|---|---|---|---|---|\n";
	for my $f (sort keys %$fams)
	{
		my $d = $fams->{$f};
		next unless $d->{samples} && $d->{type};
		next if $f =~ /^app_/;
		next if $f =~ /^pg_settings_/ && $f ne 'pg_settings_pending_restart';
		my @c = sort keys %{ $d->{collectors} // {} };
		# Families in every collector's output are the scrape's own.
		my $collector = @c == 1 ? $c[0] : @c ? 'every scrape' : 'worker';
		my $default = @c == 1 ? ($default_on->{ $c[0] } ? 'on' : 'off') : 'on';
		my $same = join(', ', ($pe{$f} ? 'postgres_exporter' : ()), ($rust{$f} ? 'Rust pg_exporter' : ())) || 'new';
		$same = 'postgres_exporter' if $f =~ /^pg_settings_/ && $same eq 'new';
		my $labels = join(', ', sort keys %{ $d->{labels} // {} });
		my $help = ($d->{help} // '') =~ s/\|/\\|/gr;
		my $versions = $documented->{$f} // "$major (new)";
		$out .= "| `$f` | $d->{type} | $labels | $collector | $default | $versions | $same | $help |\n";
	}
	$out .= "| `pg_settings_<name>[_bytes\\|_seconds]` | gauge |  | settings | on | all | postgres_exporter | "
	  . "Every boolean, integer and real setting, units converted to bytes and seconds like postgres_exporter; the configured value (reset_val), not the scraping session's own. |\n";
	return $out;
}
