# The worker runs on a hot standby, and the primary reports its standby.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($primary, $pport) = new_exporter_node('primary', init => { allows_streaming => 1 });
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
ok(defined sample($s, 'pg_replication_lag_seconds'), 'replication lag reported on the standby');
is(sample($s, 'pg_exporter_collector_success', qr/collector="replication"/), 1, 'replication collector works on a standby');
my $h = http_request($sport, 'GET', '/health');
like($h->{body}, qr/"role":"standby"/, 'health says standby');
is(http_request($sport, 'GET', '/health/standby')->{status}, 200, '/health/standby is 200 on a standby');
is(http_request($sport, 'GET', '/health/primary')->{status}, 503, '/health/primary is 503 on a standby');

ok(wait_for_listening($pport), 'the primary serves metrics');
($s) = parse_exposition(http_request($pport, 'GET', '/metrics')->{body});
ok(defined sample($s, 'pg_stat_replication_pg_wal_lsn_diff', qr/application_name="standby"/),
	'the primary reports the standby lag in bytes');
my ($code, $out) = promtool_check(http_request($sport, 'GET', '/metrics')->{body});
ok($code == 0 || $code == 3, "standby exposition parses (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'standby: lint findings only on inherited names') or diag $out;

$standby->stop;
$primary->stop;
done_testing();
