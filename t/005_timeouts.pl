# Statement and lock timeouts apply to every collector query, and a scrape
# keeps to its time budget: a blocked catalog costs only the collectors that
# read it.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my ($node, $port) = new_exporter_node('timeouts',
	conf => "pg_exporter.statement_timeout = '300ms'\npg_exporter.lock_timeout = '10s'\n");
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

# Hold an exclusive lock on pg_database: collectors that read it block.
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE;');

sub scrape
{
	my (%headers) = @_;
	my $t0 = time;
	my $r = http_request($port, 'GET', '/metrics', %headers);
	my ($s) = parse_exposition($r->{body});
	return ($r, $s, time - $t0);
}

my ($r, $s, $took) = scrape();
is($r->{status}, 200, 'scrape answered while pg_database is locked');
is(sample($s, 'pg_up'), 1, 'pg_up stays 1');
is(sample($s, 'pg_exporter_collector_success', qr/collector="database"/), 0, 'database collector failed');
is(sample($s, 'pg_exporter_collector_success', qr/collector="locks"/), 0, 'locks collector failed');
is(sample($s, 'pg_exporter_collector_success', qr/collector="settings"/), 1, 'settings collector unaffected');
is(sample($s, 'pg_exporter_collector_success', qr/collector="process"/), 1, 'process collector unaffected');
ok(defined sample($s, 'pg_settings_max_connections'), 'unaffected collectors keep their samples');
cmp_ok($took, '<', 5, 'three blocked collectors cost about three statement timeouts');
$node->wait_for_log(qr/collector "database" failed: canceling statement due to statement timeout/);
pass('the statement timeout is the reported cause');

# lock_timeout below statement_timeout: the lock wait is what gets cancelled.
$node->append_conf('postgresql.conf', "pg_exporter.statement_timeout = '5s'\npg_exporter.lock_timeout = '200ms'\n");
$node->reload;
# (New connections would block on the locked pg_database: just give the reload a moment.)
sleep 2;
($r, $s) = scrape();
is(sample($s, 'pg_exporter_collector_success', qr/collector="activity"/), 0, 'activity collector failed on the lock');
$node->wait_for_log(qr/collector "activity" failed: canceling statement due to lock timeout/);
pass('the lock timeout is the reported cause');

# The scrape budget from Prometheus's header: collectors that no longer fit are skipped.
$node->append_conf('postgresql.conf', "pg_exporter.lock_timeout = '30s'\npg_exporter.statement_timeout = '30s'\n");
$node->reload;
sleep 2;
($r, $s, $took) = scrape('X-Prometheus-Scrape-Timeout-Seconds' => '2');
is($r->{status}, 200, 'answered within the scrape budget');
cmp_ok($took, '<', 4, 'the scrape kept to the 2 s budget');
my $failed = grep { /^pg_exporter_collector_success\{.*\} 0$/ } split /\n/, $r->{body};
cmp_ok($failed, '>=', 2, 'collectors beyond the budget are reported failed');

$locker->query_safe('COMMIT');
$locker->quit;
($r, $s) = scrape();
my @bad = grep { /^pg_exporter_collector_success\{.*\} 0$/ } split /\n/, $r->{body};
is_deeply(\@bad, [], 'every collector recovers once the lock is gone');

$node->stop;
done_testing();
