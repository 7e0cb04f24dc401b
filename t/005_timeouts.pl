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
use Time::HiRes qw(time sleep);

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
# Each blocked collector waited its statement timeout (300 ms), not the lock
# timeout (10 s).
for my $c (qw(database locks))
{
	my $d = sample($s, 'pg_exporter_collector_duration_seconds', qr/collector="$c"/);
	cmp_ok($d, '>=', 0.29, "$c: waited the statement timeout");
	cmp_ok($d, '<', 9, "$c: ... and not the lock timeout (10 s)");
}
$node->wait_for_log(qr/collector "database" failed: canceling statement due to statement timeout/);
pass('the statement timeout is the reported cause');

# Scrapes until the log (read without a connection: new ones would wait on
# the locked pg_database) matches, at most 30 s; returns the last scrape.
sub scrape_until_log
{
	my ($re, $offset, %headers) = @_;
	my @last;
	for (1 .. 60)
	{
		@last = scrape(%headers);
		return @last if slurp_file($node->logfile, $offset) =~ $re;
		sleep 0.5;
	}
	return @last;
}

# lock_timeout below statement_timeout: the lock wait is what gets cancelled.
my $offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "pg_exporter.statement_timeout = '5s'\npg_exporter.lock_timeout = '200ms'\n");
$node->reload;
($r, $s) = scrape_until_log(qr/collector "activity" failed: canceling statement due to lock timeout/, $offset);
is(sample($s, 'pg_exporter_collector_success', qr/collector="activity"/), 0, 'activity collector failed on the lock');
like(slurp_file($node->logfile, $offset), qr/collector "activity" failed: canceling statement due to lock timeout/,
	'the lock timeout (reloaded) is the reported cause');

# Collectors skipped for the scrape budget: reported failed, and never run
# (duration 0; the log only names collectors that ran).
sub skipped
{
	my ($s) = @_;
	return grep {
		/^pg_exporter_collector_success\{collector="([^"]+)"\}$/ && $s->{$_} == 0
		  && (sample($s, 'pg_exporter_collector_duration_seconds', qr/collector="\Q$1\E"/) // -1) == 0
	} keys %$s;
}

# Scrapes until skipped() finds some in a scrape that took less than
# $max_duration s, for at most 60 s (a reload reaches the worker at its next
# wake-up: a scrape still under the old budget does not count).
sub scrape_until_skipped
{
	my ($max_duration, %headers) = @_;
	my @last;
	my $deadline = time + 60;
	while (time < $deadline)
	{
		@last = scrape(%headers);
		return @last
		  if skipped($last[1]) && sample($last[1], 'pg_exporter_last_scrape_duration_seconds') < $max_duration;
		sleep 0.5;
	}
	return @last;
}

# The scrape budget from Prometheus's header (2 s, of which 90 %): once
# the timeouts are 30 s, the first blocked collector uses up the budget and
# the rest are skipped. The scrape then takes the 1.8 s budget: less than 6 s
# (some slack), not scrape_timeout's 10 s or the 30 s timeouts.
$node->append_conf('postgresql.conf', "pg_exporter.lock_timeout = '30s'\npg_exporter.statement_timeout = '30s'\n");
$node->reload;
($r, $s) = scrape_until_skipped(6, 'X-Prometheus-Scrape-Timeout-Seconds' => '2');
is($r->{status}, 200, 'answered within the scrape budget');
cmp_ok(scalar(skipped($s)), '>=', 1, 'collectors beyond the budget are skipped (reported failed, never run)');
cmp_ok(sample($s, 'pg_exporter_last_scrape_duration_seconds'), '<', 6,
	'the scrape ended at its 1.8 s budget, not at scrape_timeout (10 s) or the 30 s timeouts');

# pg_exporter.scrape_timeout bounds it without the header, and a larger
# header does not raise it.
$node->append_conf('postgresql.conf', "pg_exporter.scrape_timeout = '1s'\n");
$node->reload;
for my $hdr ([], [ 'X-Prometheus-Scrape-Timeout-Seconds' => '60' ])
{
	my $what = @$hdr ? 'with a 60 s header' : 'without the header';
	($r, $s) = scrape_until_skipped(6, @$hdr);
	cmp_ok(scalar(skipped($s)), '>=', 1, "scrape_timeout = 1s, $what: collectors beyond it are skipped");
	cmp_ok(sample($s, 'pg_exporter_last_scrape_duration_seconds'), '<', 6,
		"$what: the scrape ended at 1 s, not at the header's 54 s or the 30 s timeouts");
}
$node->append_conf('postgresql.conf', "pg_exporter.scrape_timeout = '10s'\n");
$node->reload;

$locker->query_safe('COMMIT');
$locker->quit;
($r, $s) = scrape();
my @bad = grep { /^pg_exporter_collector_success\{.*\} 0$/ } split /\n/, $r->{body};
is_deeply(\@bad, [], 'every collector recovers once the lock is gone');

# The database does not answer: the scrape's first query waits on a locked
# pg_proc past lock_timeout. (A committed CREATE SCHEMA makes every backend
# drop its cached plans, a committed CREATE FUNCTION its cached function
# lists: the worker must then read pg_proc to plan its first query again.)
# /health and /health/primary say 503, database down; /metrics says pg_up 0,
# skips every collector that needs SQL, and counts the scrape as an error.
$node->append_conf('postgresql.conf', "pg_exporter.lock_timeout = '300ms'\npg_exporter.statement_timeout = '5s'\n");
$node->reload;
my (undef, $s_up) = scrape();
my $h = http_request($port, 'GET', '/health');
is($h->{status}, 200, '/health is 200 before');
my $proc = $node->background_psql('postgres');
$proc->query_safe('SET client_min_messages = warning');
my $invalidate_and_lock = 'DROP SCHEMA IF EXISTS regress_inval; CREATE SCHEMA regress_inval; '
  . 'DROP FUNCTION IF EXISTS regress_inval(); CREATE FUNCTION regress_inval() RETURNS int LANGUAGE sql AS $$SELECT 1$$; '
  . 'BEGIN; LOCK TABLE pg_proc IN ACCESS EXCLUSIVE MODE;';
$proc->query_safe($invalidate_and_lock);
for (1 .. 60)
{
	$h = http_request($port, 'GET', '/health');
	last if $h->{status} == 503;
	# (the reload had not reached the worker yet, and it planned again:
	# once more)
	$proc->query_safe("COMMIT; $invalidate_and_lock");
	sleep 0.5;
}
is($h->{status}, 503, '/health is 503 while the database does not answer');
is($h->{body}, qq({"status":"unavailable","database":"down"}\n), '/health says the database is down');
is(http_request($port, 'GET', '/health/primary')->{status}, 503, '/health/primary is 503 too');
($r, $s) = scrape();
is($r->{status}, 200, '/metrics still answers');
is(sample($s, 'pg_up'), 0, 'pg_up 0');
is(sample($s, 'pg_exporter_collector_success', qr/collector="database"/), 0, 'collectors that need SQL are skipped');
is(sample($s, 'pg_exporter_collector_success', qr/collector="process"/), 1, 'the process collector needs no SQL');
is(sample($s, 'pg_exporter_last_scrape_error'), 1, 'the scrape counts as an error');
is(sample($s, 'pg_exporter_scrape_errors_total'), sample($s_up, 'pg_exporter_scrape_errors_total') + 1,
	'scrape_errors_total +1 (the /health requests are no scrapes)');
$proc->query_safe('COMMIT; DROP SCHEMA regress_inval; DROP FUNCTION regress_inval()');
$proc->quit;
$h = http_request($port, 'GET', '/health');
is($h->{status}, 200, '/health is 200 again once the lock is gone');
is($h->{body}, qq({"status":"ok","database":"up","role":"primary"}\n), 'and says so');

$node->stop;
done_testing();
