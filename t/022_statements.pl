# The statements and buffercache collectors in the worker (its own database,
# over HTTP), with pg_stat_statements preloaded: families and labels, the top-N
# limit after a reload, promtool, and success with no samples once the
# extensions are dropped.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $port) = new_exporter_node('statements', no_start => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_exporter,pg_stat_statements'
pg_exporter.collectors = 'all'
});
$node->start;
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

# Not installed: both succeed with no samples.
my ($s, $types) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="$_"/), 1, "$_ succeeds without its extension")
  for qw(statements buffercache);
is(scalar(grep { /^pg_(stat_statements|buffercache)_/ } keys %$s), 0, 'no samples without the extensions');

$node->safe_psql('postgres', 'CREATE EXTENSION pg_stat_statements');
$node->safe_psql('postgres', 'CREATE EXTENSION pg_buffercache');
$node->safe_psql('postgres', 'CREATE TABLE t (id int)');
$node->safe_psql('postgres', "SELECT count(*) FROM t WHERE id > $_") for 1 .. 7;
my $queryid = $node->safe_psql('postgres',
	"SELECT queryid FROM pg_stat_statements WHERE query = 'SELECT count(*) FROM t WHERE id > \$1'");
like($queryid, qr/^-?\d+$/, 'our statement is tracked');

my $r = http_request($port, 'GET', '/metrics');
($s, $types) = parse_exposition($r->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="$_"/), 1, "$_ succeeds") for qw(statements buffercache);
is(sample($s, 'pg_stat_statements_calls_total', qr/queryid="$queryid"/), 7, 'calls of our statement');
is(sample($s, 'pg_stat_statements_rows_total', qr/queryid="$queryid"/), 7, 'rows of our statement');
ok(defined sample($s, 'pg_stat_statements_seconds_total', qr/^\{user="\w+",datname="postgres",queryid="$queryid"\}$/),
	'postgres_exporter label set {user, datname, queryid}');
is($types->{pg_stat_statements_calls_total}, 'counter', 'calls is a counter');
is($types->{pg_stat_statements_mean_exec_time_seconds}, 'gauge', 'mean is a gauge');
is(scalar(grep { /^pg_stat_statements_query_id/ } keys %$s), 0, 'no query text by default');
unlike($r->{body}, qr/FROM t WHERE/, 'the query text appears nowhere');
cmp_ok(sample($s, 'pg_buffercache_summary_buffers_used'), '>', 0, 'buffers used');

my ($code, $out) = promtool_check($r->{body});
ok($code == 0 || $code == 3, "promtool parses the exposition (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'lint findings only on inherited names') or diag $out;

# Top 2 after a reload; query texts opted in.
$node->append_conf('postgresql.conf', "pg_exporter.statements_limit = 2\npg_exporter.statements_query_length = 24\n");
$node->reload;
my $ok = 0;
for (1 .. 50)
{
	($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
	my $n = grep { /^pg_stat_statements_calls_total\{/ } keys %$s;
	my $q = grep { /^pg_stat_statements_query_id\{/ } keys %$s;
	if ($n == 2 && $q >= 1) { $ok = 1; last; }
	sleep 0.2;
}
ok($ok, 'two statements exported after the reload, with their texts');
ok(!grep({ /^pg_stat_statements_query_id\{/ && !/query="[^"]{1,24}"/ } keys %$s), 'texts cut at 24 characters');

$node->safe_psql('postgres', 'DROP EXTENSION pg_stat_statements');
$node->safe_psql('postgres', 'DROP EXTENSION pg_buffercache');
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="$_"/), 1, "$_ succeeds after DROP EXTENSION")
  for qw(statements buffercache);
is(scalar(grep { /^pg_(stat_statements|buffercache)_/ } keys %$s), 0, 'no samples after DROP EXTENSION');

$node->stop;
done_testing();
