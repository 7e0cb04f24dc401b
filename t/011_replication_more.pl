# WAL, archiver, replication slots and the WAL receiver on a real primary and
# streaming standby (physical slot), with archiving that first succeeds, then
# fails.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($primary, $pport) = new_exporter_node(
	'primary',
	init => { allows_streaming => 'logical', has_archiving => 1 },
	conf => "max_slot_wal_keep_size = '1GB'\n");
wait_for_worker($primary);
ok(wait_for_listening($pport), 'the primary serves metrics');

# Before anything is archived: counters, no ages.
my ($s) = parse_exposition(http_request($pport, 'GET', '/metrics')->{body});
is(sample($s, 'pg_stat_archiver_archived_count'), 0, 'nothing archived yet');
ok(!defined sample($s, 'pg_stat_archiver_last_archive_age'), 'no archive age before the first archive');
ok(!defined sample($s, 'pg_stat_archiver_last_failed_age_seconds'), 'no failure age before a failure');

$primary->safe_psql('postgres',
	"SELECT pg_create_physical_replication_slot('standby_slot', true)");
$primary->safe_psql('postgres',
	"SELECT pg_create_logical_replication_slot('regress_logical', 'test_decoding')");
$primary->backup('bkp');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
my $sport = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', qq{
pg_exporter.port = $sport
primary_slot_name = 'standby_slot'
wal_receiver_status_interval = 1
});
$standby->start;

$primary->safe_psql('postgres', 'CREATE TABLE t AS SELECT generate_series(1, 1000) AS x');
$primary->safe_psql('postgres',
	"SELECT count(*) FROM pg_logical_slot_get_changes('regress_logical', NULL, NULL)");
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
my $p_lsn = $primary->safe_psql('postgres', "SELECT pg_current_wal_lsn()");
my $p_bytes = $primary->safe_psql('postgres', "SELECT '$p_lsn'::pg_lsn - '0/0'");
$primary->wait_for_catchup($standby, 'replay', $p_lsn);
$primary->poll_query_until('postgres', 'SELECT archived_count > 0 FROM pg_stat_archiver')
  or die 'nothing archived';
$primary->poll_query_until('postgres',
	"SELECT reply_time IS NOT NULL FROM pg_stat_replication WHERE application_name = 'standby'")
  or die 'no reply from the standby';
$standby->poll_query_until('postgres',
	"SELECT status = 'streaming' AND latest_end_time IS NOT NULL AND last_msg_send_time IS NOT NULL "
	  . "FROM pg_stat_wal_receiver")
  or die 'WAL receiver not streaming';

# ---- the primary ----
($s) = parse_exposition(http_request($pport, 'GET', '/metrics')->{body});
for my $c (qw(wal archiver wal_receiver replication bgwriter))
{
	is(sample($s, 'pg_exporter_collector_success', qr/collector="$c"/), 1, "primary: collector $c succeeded");
}
ok(sample($s, 'pg_xlog_location_bytes') >= $p_bytes, 'primary: WAL position at least the catch-up target');
ok(sample($s, 'pg_wal_segments') >= 1, 'primary: WAL segments counted');
ok(sample($s, 'pg_stat_archiver_archived_count') >= 1, 'primary: archived count');
is(sample($s, 'pg_stat_archiver_archived_total'), sample($s, 'pg_stat_archiver_archived_count'),
	'primary: Rust and postgres_exporter archived counters agree');
my $age = sample($s, 'pg_stat_archiver_last_archive_age');
ok(defined $age && $age >= 0 && $age < 300, 'primary: archive age present once archived')
  or diag "age: " . ($age // 'undef');
is(sample($s, 'pg_stat_archiver_last_archived_age_seconds'), $age, 'primary: both archive age names agree');
ok(!defined sample($s, 'pg_stat_archiver_last_failed_age_seconds'), 'primary: still no failure age');
ok(!defined sample($s, 'pg_stat_wal_receiver_flushed_lsn'), 'primary: no WAL receiver series');

my $phys = qr/^\{slot_name="standby_slot",slot_type="physical"\}$/;
my $logi = qr/^\{slot_name="regress_logical",slot_type="logical"\}$/;
is(sample($s, 'pg_replication_slots_slot_is_active', $phys), 1, 'physical slot active');
is(sample($s, 'pg_replication_slots_slot_is_active', $logi), 0, 'logical slot inactive');
is(sample($s, 'pg_replication_slots_active', qr/slot_name="standby_slot",slot_type="physical",database=""/),
	1, 'the existing slot family keeps its labels');
ok(sample($s, 'pg_replication_slots_slot_current_wal_lsn', $phys) >= $p_bytes, 'slot current WAL position');
ok(!defined sample($s, 'pg_replication_slots_slot_confirmed_flush_lsn', $phys),
	'a physical slot has no confirmed flush position (absent, not 0)');
my $cf = sample($s, 'pg_replication_slots_slot_confirmed_flush_lsn', $logi);
ok(defined $cf && $cf > 0 && $cf <= sample($s, 'pg_replication_slots_slot_current_wal_lsn', $logi),
	'an inactive logical slot reports its confirmed flush position')
  or diag 'confirmed flush: ' . ($cf // 'undef');
my $safe = sample($s, 'pg_replication_slots_safe_wal_size_bytes', $phys);
ok(defined $safe && $safe > 0 && $safe <= (1024 + 32) * 1024 * 1024,
	'safe WAL size: max_slot_wal_keep_size (plus the current segment)')
  or diag 'safe: ' . ($safe // 'undef');
is(sample($s, 'pg_replication_slots_wal_status',
		qr/^\{slot_name="standby_slot",slot_type="physical",wal_status="reserved"\}$/),
	1, 'wal_status reserved');
my $reply = sample($s, 'pg_stat_replication_reply_time', qr/application_name="standby"/);
ok(defined $reply && $reply >= 0 && $reply < 60, 'seconds since the standby last replied')
  or diag 'reply: ' . ($reply // 'undef');

my ($code, $out) = promtool_check(http_request($pport, 'GET', '/metrics')->{body});
ok($code == 0 || $code == 3, "primary exposition parses (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'primary: lint findings only on inherited names') or diag $out;

# ---- the standby ----
ok(wait_for_listening($sport), 'the standby serves metrics');
my $wr_sql = "SELECT receive_start_lsn - '0/0', latest_end_lsn - '0/0', flushed_lsn - '0/0' FROM pg_stat_wal_receiver";
my @wr_before = split /\|/, $standby->safe_psql('postgres', $wr_sql);
($s) = parse_exposition(http_request($sport, 'GET', '/metrics')->{body});
my @wr_after = split /\|/, $standby->safe_psql('postgres', $wr_sql);
for my $c (qw(wal archiver wal_receiver replication))
{
	is(sample($s, 'pg_exporter_collector_success', qr/collector="$c"/), 1, "standby: collector $c succeeded");
}
ok(sample($s, 'pg_xlog_location_bytes') >= $p_bytes,
	'standby: WAL position is the replayed one (no pg_current_wal_lsn() error)');
my $host = $primary->host;
my $wr = qr/^\{upstream_host="\Q$host\E",slot_name="standby_slot",status="streaming"\}$/;
ok(sample($s, 'pg_stat_wal_receiver_flushed_lsn', $wr) >= $p_bytes, 'WAL receiver flushed position');
# pg_stat_wal_receiver read just before and just after the scrape: the
# start position is fixed, the others only move forward.
is(sample($s, 'pg_stat_wal_receiver_receive_start_lsn', $wr), $wr_before[0], 'WAL receiver start position');
is($wr_after[0], $wr_before[0], '(which did not move)');
my $latest = sample($s, 'pg_stat_wal_receiver_latest_end_lsn', $wr);
ok($latest >= $wr_before[1] && $latest <= $wr_after[1], 'WAL receiver latest end position, as pg_stat_wal_receiver says')
  or diag "$latest not in [$wr_before[1], $wr_after[1]]";
my $flushed = sample($s, 'pg_stat_wal_receiver_flushed_lsn', $wr);
ok($flushed >= $wr_before[2] && $flushed <= $wr_after[2], 'WAL receiver flushed position, as pg_stat_wal_receiver says')
  or diag "$flushed not in [$wr_before[2], $wr_after[2]]";
is(sample($s, 'pg_stat_wal_receiver_received_tli', $wr), 1, 'timeline received');
is(sample($s, 'pg_stat_wal_receiver_receive_start_tli', $wr), 1, 'timeline at start');
for my $t (qw(last_msg_send_time last_msg_receipt_time latest_end_time))
{
	my $v = sample($s, "pg_stat_wal_receiver_$t", $wr);
	ok(defined $v && abs($v - time) < 600, "WAL receiver $t is a recent Unix time")
	  or diag "$t: " . ($v // 'undef');
}
ok(!defined sample($s, 'pg_stat_wal_receiver_upstream_node'), 'no upstream node outside repmgr (absent, not 0)');
ok(!defined sample($s, 'pg_stat_replication_reply_time'), 'standby: no walsender');

($code, $out) = promtool_check(http_request($sport, 'GET', '/metrics')->{body});
ok($code == 0 || $code == 3, "standby exposition parses (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'standby: lint findings only on inherited names') or diag $out;

# ---- archiving fails: the failure counter and age appear ----
$primary->append_conf('postgresql.conf', "archive_command = 'false'\n");
$primary->reload;
$primary->safe_psql('postgres', 'INSERT INTO t SELECT generate_series(1, 100)');
$primary->safe_psql('postgres', 'SELECT pg_switch_wal()');
$primary->poll_query_until('postgres', 'SELECT failed_count > 0 FROM pg_stat_archiver')
  or die 'archiving did not fail';
($s) = parse_exposition(http_request($pport, 'GET', '/metrics')->{body});
ok(sample($s, 'pg_stat_archiver_failed_count') >= 1, 'failed count');
is(sample($s, 'pg_stat_archiver_failed_total'), sample($s, 'pg_stat_archiver_failed_count'),
	'both failure counter names agree');
my $fage = sample($s, 'pg_stat_archiver_last_failed_age_seconds');
ok(defined $fage && $fage >= 0 && $fage < 300, 'failure age present once archiving failed')
  or diag 'failed age: ' . ($fage // 'undef');

$standby->stop;
$primary->stop;
done_testing();
