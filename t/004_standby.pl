# The worker runs on a hot standby, and the primary reports its standby.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($primary, $pport) = new_exporter_node('primary', init => { allows_streaming => 1 }, conf => "autovacuum = off\n");
wait_for_worker($primary);
$primary->backup('bkp');

my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'bkp', has_streaming => 1);
my $sport = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', "pg_exporter.port = $sport\n");
$standby->start;
$primary->safe_psql('postgres', 'CREATE TABLE t AS SELECT generate_series(1, 1000) AS x');
$primary->wait_for_catchup($standby);

ok(wait_for_listening($sport), 'the standby serves metrics');
my ($s) = parse_exposition(http_request($sport, 'GET', '/metrics')->{body});
is(sample($s, 'pg_up'), 1, 'pg_up 1 on the standby');
is(sample($s, 'pg_replication_is_replica'), 1, 'the standby knows it is a replica');
# Caught up, and the primary idle (no autovacuum): every received byte is
# replayed, the lag is 0.
my $lag;
for (1 .. 100)
{
	($s) = parse_exposition(http_request($sport, 'GET', '/metrics')->{body});
	$lag = sample($s, 'pg_replication_lag_seconds');
	last if defined $lag && $lag == 0;
	sleep 0.1;
}
is($lag, 0, 'replication lag 0 on a caught-up standby');
is(sample($s, 'pg_exporter_collector_success', qr/collector="replication"/), 1, 'replication collector works on a standby');
my $h = http_request($sport, 'GET', '/health');
like($h->{body}, qr/"role":"standby"/, 'health says standby');
is(http_request($sport, 'GET', '/health/standby')->{status}, 200, '/health/standby is 200 on a standby');
is(http_request($sport, 'GET', '/health/replica')->{status}, 200, '/health/replica (its alias) is 200 on a standby');
is($h->{body}, qq({"status":"ok","database":"up","role":"standby"}\n), 'health body on a standby');
is(http_request($sport, 'GET', '/health/primary')->{status}, 503, '/health/primary is 503 on a standby');

ok(wait_for_listening($pport), 'the primary serves metrics');
($s) = parse_exposition(http_request($pport, 'GET', '/metrics')->{body});
# Replay paused on the standby while the primary writes: the standby lags by
# the age of its last replayed transaction, and the primary sees the bytes
# not yet replayed; each between what SQL says just before and just after.
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_pause()');
# (13 has no pause state: its replay loop checks the request before each record.)
$standby->poll_query_until('postgres',
	server_major($standby) >= 14 ? "SELECT pg_get_wal_replay_pause_state() = 'paused'" : 'SELECT pg_is_wal_replay_paused()')
  or die 'replay did not pause';
$primary->safe_psql('postgres', 'INSERT INTO t SELECT generate_series(1, 1000)');
my $sent = $primary->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
$standby->poll_query_until('postgres', "SELECT pg_last_wal_receive_lsn() >= '$sent'")
  or die 'the standby did not receive the new WAL';
sleep 1.1;    # so that the lag is well above 0
my $age_sql = "SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())";
my $age_before = $standby->safe_psql('postgres', $age_sql);
($s) = parse_exposition(http_request($sport, 'GET', '/metrics')->{body});
my $age_after = $standby->safe_psql('postgres', $age_sql);
$lag = sample($s, 'pg_replication_lag_seconds');
cmp_ok($lag, '>=', $age_before, 'paused replay: the lag is the age of the last replayed transaction (not below)');
cmp_ok($lag, '<=', $age_after, 'paused replay: ... (not above)');
cmp_ok($lag, '>=', 1, 'paused replay: at least the second waited');
my $bytes_sql = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) FROM pg_stat_replication WHERE application_name = 'standby'";
my $bytes_before = $primary->safe_psql('postgres', $bytes_sql);
($s) = parse_exposition(http_request($pport, 'GET', '/metrics')->{body});
my $bytes_after = $primary->safe_psql('postgres', $bytes_sql);
my $bytes = sample($s, 'pg_stat_replication_pg_wal_lsn_diff', qr/application_name="standby"/);
cmp_ok($bytes, '>', 0, 'the primary reports the bytes the standby has not replayed');
cmp_ok($bytes, '>=', $bytes_before, '... not fewer than pg_stat_replication said before the scrape');
cmp_ok($bytes, '<=', $bytes_after, '... not more than it said after');
$standby->safe_psql('postgres', 'SELECT pg_wal_replay_resume()');
$primary->wait_for_catchup($standby);
my ($code, $out) = promtool_check(http_request($sport, 'GET', '/metrics')->{body});
ok($code == 0 || $code == 3, "standby exposition parses (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'standby: lint findings only on inherited names') or diag $out;

$standby->stop;
$primary->stop;
done_testing();
