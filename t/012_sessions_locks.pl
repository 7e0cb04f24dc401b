# What needs other live sessions: a session idle in transaction holding a lock,
# a second one blocked on it, an idle one; then a vacuum held in its heap scan
# by a buffer pin. Checked over HTTP, then checked gone once released (no stale
# series). Then 55 application names (the cardinality bound) and an autovacuum
# worker slowed down by its table's cost settings. Also: the exposition stays
# valid and lint-clean for promtool with a histogram in it.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($node, $port) = new_exporter_node('sessions', conf => "max_connections = 100\n");
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');
my $major = server_major($node);

$node->safe_psql('postgres', q{
CREATE TABLE locked (id int);
CREATE TABLE pinned (id int, v text) WITH (autovacuum_enabled = off);
INSERT INTO pinned SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g;
});

sub scrape
{
	my $r = http_request($port, 'GET', '/metrics');
	is($r->{status}, 200, 'scrape answered');
	my ($s, $t) = parse_exposition($r->{body});
	return ($s, $t, $r->{body});
}

# --- Sessions: idle in transaction holding a lock, blocked, idle. ---
my $holder = $node->background_psql('postgres');
$holder->query_safe("SET application_name = 'tap_holder'");
$holder->query_safe('BEGIN');
$holder->query_safe('LOCK TABLE locked IN ACCESS EXCLUSIVE MODE');

my $idle = $node->background_psql('postgres');
$idle->query_safe("SET application_name = 'tap_idle'");

my $blocked = $node->background_psql('postgres');
$blocked->query_safe("SET application_name = 'tap_blocked'");
$blocked->query_until(qr/start/, "\\echo start\nSELECT count(*) FROM locked;\n");

# (pg_locks.waitstart from 14: the longest wait is measured from it.)
my $waitstart = $major >= 14 ? 'AND l.waitstart IS NOT NULL' : '';
$node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
WHERE a.application_name = 'tap_blocked' AND a.wait_event_type = 'Lock'
  AND NOT l.granted $waitstart})
  or die 'the blocked session never waited';
# Let the ages grow past a second (and past the first idle bucket).
sleep 1.5;

my ($s, $types, $body) = scrape();
is(sample($s, 'pg_locks_blocked_sessions'), 1, 'one blocked session');
if ($major >= 14) { cmp_ok(sample($s, 'pg_locks_longest_wait_seconds'), '>', 1, 'longest lock wait above a second'); }
else { is(sample($s, 'pg_locks_longest_wait_seconds'), undef, 'no longest lock wait before 14 (no waitstart)'); }
is(sample($s, 'pg_locks_by_type', qr/locktype="relation",granted="false"/), 1,
	'one awaited relation lock');
is(sample($s, 'pg_stat_activity_blocked_connections', qr/datname="postgres"/), 1,
	'blocked connection counted in its database');
is(sample($s, 'pg_stat_activity_waiting_connections', qr/datname="postgres"/), 1,
	'the blocked session is the waiting one (idle ones are not)');
is(sample($s, 'pg_wait_event_type', qr/type="Lock"/), 1, 'one session waits on type Lock');
is(sample($s, 'pg_wait_event', qr/event="relation"/), 1, 'one session waits on event relation');
is(sample($s, 'pg_stat_activity_idle_in_transaction', qr/datname="postgres"/), 1, 'one idle in transaction');
cmp_ok(sample($s, 'pg_stat_activity_oldest_idle_in_transaction_seconds'), '>', 1,
	'idle in transaction for over a second');
is(sample($s, 'pg_long_running_transactions'), 2,
	'two open transactions: the holder (idle in transaction) and the blocked query');
cmp_ok(sample($s, 'pg_long_running_transactions_oldest_timestamp_seconds'), '>', 1,
	'oldest transaction over a second old');
cmp_ok(sample($s, 'pg_stat_activity_oldest_query_age_seconds'), '>', 1, 'the blocked query runs for over a second');
cmp_ok(sample($s, 'pg_stat_activity_max_query_duration_seconds', qr/datname="postgres"/), '>', 1,
	'per-database longest query');
is(sample($s, 'pg_stat_activity_connections_by_application', qr/datname="postgres",application_name="tap_blocked"/),
	1, 'connections by application');
cmp_ok(sample($s, 'pg_stat_activity_used_connections'), '>=', 3, 'three client slots at least');

# The idle histogram: one idle session of application tap_idle, idle > 1 s.
is($types->{pg_process_idle_seconds}, 'histogram', 'pg_process_idle_seconds is a histogram');
is(sample($s, 'pg_process_idle_seconds_count', qr/application_name="tap_idle"/), 1, 'one idle session');
is(sample($s, 'pg_process_idle_seconds_bucket', qr/application_name="tap_idle",le="\+Inf"/), 1, '+Inf bucket');
is(sample($s, 'pg_process_idle_seconds_bucket', qr/application_name="tap_idle",le="1"/), 0,
	'not in the 1 s bucket');
is(sample($s, 'pg_process_idle_seconds_bucket', qr/application_name="tap_idle",le="300"/), 1, 'in the 300 s bucket');
cmp_ok(sample($s, 'pg_process_idle_seconds_sum', qr/application_name="tap_idle"/), '>', 1, 'sum over a second');
ok(!defined sample($s, 'pg_process_idle_seconds_count', qr/application_name="tap_holder"/),
	'idle in transaction is not idle');
my @le;
for my $k (sort keys %$s)
{
	push @le, [ $1, $s->{$k} ] if $k =~ /^pg_process_idle_seconds_bucket\{application_name="tap_idle",le="([0-9.]+)"\}$/;
}
@le = sort { $a->[0] <=> $b->[0] } @le;
is(scalar(@le), 9, "postgres_exporter's nine buckets");
ok(!grep({ $le[$_]->[1] < $le[ $_ - 1 ]->[1] } 1 .. $#le), 'buckets are cumulative');

SKIP:
{
	skip 'promtool not installed', 2 unless system('which promtool >/dev/null 2>&1') == 0;
	my ($rc, $out) = promtool_check($body);
	ok($rc == 0 || $rc == 3, 'promtool parses the exposition') or diag $out;
	is_deeply(promtool_unexpected($out), [], 'no lint finding on our own names') or diag $out;
}

# Release: the blocked query completes, nothing waits any more.
$holder->query_safe('COMMIT');
$blocked->query_safe('SELECT 1');
($s) = scrape();
is(sample($s, 'pg_locks_blocked_sessions'), 0, 'nobody blocked after release');
is(sample($s, 'pg_locks_longest_wait_seconds'), $major >= 14 ? 0 : undef, 'no lock wait after release');
is(sample($s, 'pg_locks_by_type', qr/locktype="relation",granted="false"/), 0, 'no awaited relation lock');
is(sample($s, 'pg_stat_activity_idle_in_transaction', qr/datname="postgres"/), 0, 'nobody idle in transaction');
is(sample($s, 'pg_long_running_transactions'), 0, 'no open transaction');

# --- A vacuum held in its heap scan: a cursor pins a page that VACUUM FREEZE
# must freeze, so it waits for the cleanup lock (wait event BufferPin of
# class BufferPin; 19: BufferCleanup of class Buffer). ---
my ($pin_class, $pin_event) = $major >= 19 ? ('Buffer', 'BufferCleanup') : ('BufferPin', 'BufferPin');
my $pin = $node->background_psql('postgres');
$pin->query_safe('BEGIN');
$pin->query_safe('DECLARE c CURSOR FOR SELECT * FROM pinned');
$pin->query_safe('FETCH 1 FROM c');
my $vacuum = $node->background_psql('postgres');
$vacuum->query_until(qr/start/, "\\echo start\nVACUUM (FREEZE) pinned;\n");
$node->poll_query_until('postgres', qq{
SELECT count(*) = 1 FROM pg_stat_progress_vacuum p JOIN pg_stat_activity a USING (pid)
WHERE a.wait_event_type = '$pin_class' AND a.wait_event = '$pin_event'})
  or die 'the vacuum never waited on the pin';

($s, $types) = scrape();
my $rel = qr/datname="postgres",relname="public\.pinned"/;
is(sample($s, 'pg_stat_progress_vacuum_phase', qr/datname="postgres",relname="public\.pinned",phase="scanning heap"/),
	1, 'phase scanning heap is 1');
is(sample($s, 'pg_stat_progress_vacuum_phase', qr/datname="postgres",relname="public\.pinned",phase="vacuuming heap"/),
	0, 'other phases are 0');
my $phases = grep { /^pg_stat_progress_vacuum_phase\{/ } keys %$s;
is($phases, 7, 'seven phase series for the one vacuum');
my $heap = $node->safe_psql('postgres', "SELECT pg_relation_size('pinned') / current_setting('block_size')::int");
is(sample($s, 'pg_stat_progress_vacuum_heap_blks', $rel), $heap, 'heap_blks is the table size in blocks');
ok(defined sample($s, 'pg_stat_progress_vacuum_heap_blks_scanned', $rel), 'heap_blks_scanned present');
my $dead = $major >= 17 ? 'pg_stat_progress_vacuum_num_dead_item_ids' : 'pg_stat_progress_vacuum_num_dead_tuples';
ok(defined sample($s, $dead, $rel), "$dead present (13-16: num_dead_tuples, 17+: num_dead_item_ids)");
is(sample($s, 'pg_vacuum_active'), 1, 'pg_vacuum_active 1');
is(sample($s, 'pg_vacuum_in_progress', qr/datname="postgres",table="public\.pinned"/), 1, 'pg_vacuum_in_progress');
is(sample($s, 'pg_vacuum_is_autovacuum', qr/table="public\.pinned"/), 0, 'a VACUUM command, not autovacuum');
cmp_ok(sample($s, 'pg_vacuum_duration_seconds', qr/table="public\.pinned"/), '>=', 0, 'duration known');
is(sample($s, 'pg_wait_event_type', qr/type="$pin_class"/), 1, "the vacuum waits on a buffer pin (class $pin_class)");
is(sample($s, 'pg_wait_event', qr/event="$pin_event"/), 1, "wait event $pin_event");

# Released, the vacuum finishes: every per-vacuum series disappears.
$pin->query_safe('COMMIT');
$vacuum->query_safe('SELECT 1');
$node->poll_query_until('postgres', 'SELECT count(*) = 0 FROM pg_stat_progress_vacuum')
  or die 'the vacuum never finished';
my ($s2, $t2, $body2) = scrape();
# (An autovacuum of some catalog may run meanwhile: only our table is checked.)
my @left = grep { /^(pg_stat_progress_vacuum_|pg_vacuum_(in_progress|heap_|index_|is_auto|duration))/ && /pinned/ }
  keys %$s2;
is_deeply(\@left, [], 'no stale series of the finished vacuum');
my $others = grep { /^pg_stat_progress_vacuum_phase\{/ } keys %$s2;
is(sample($s2, 'pg_vacuum_active'), $others ? 1 : 0, 'pg_vacuum_active back to 0 (unless autovacuum runs)');

$_->quit for ($holder, $idle, $blocked, $pin, $vacuum);

# --- A storm of application names: 55 idle sessions, each its own
# application_name. Families labelled by it keep 50 groups + one [other]. ---
my @storm;
for my $i (1 .. 55)
{
	my $in = '';
	push @storm,
	  [ IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres') . " application_name=storm_$i" ], '<', \$in, '>',
		  \my $out, '2>', \my $err), \$in ];
}
$node->poll_query_until('postgres',
	"SELECT count(*) = 55 FROM pg_stat_activity WHERE application_name LIKE 'storm_%' AND state = 'idle'")
  or die 'the storm sessions never connected';
($s) = scrape();
my @apps = grep { /^pg_stat_activity_connections_by_application\{/ } keys %$s;
is(scalar(@apps), 51, 'connections by application: 50 groups and [other]');
my $total = 0;
$total += $s->{$_} for @apps;
is($total, sample($s, 'pg_stat_activity_used_connections'), 'no connection lost in the fold');
cmp_ok(sample($s, 'pg_stat_activity_connections_by_application', qr/datname="\[other\]",application_name="\[other\]"/),
	'>=', 5, 'the smallest groups are folded into [other]');
my @idle_apps = grep { /^pg_process_idle_seconds_count\{/ } keys %$s;
is(scalar(@idle_apps), 51, 'idle histogram: 50 applications and [other]');
my $idle_total = 0;
$idle_total += $s->{$_} for @idle_apps;
cmp_ok($idle_total, '>=', 55, 'every idle session observed');
my @users = grep { /^pg_stat_activity_connections_by_user\{/ } keys %$s;
is(scalar(@users), 1, 'one user, one series');
for my $st (@storm)
{
	${ $st->[1] } .= "\\q\n";
	$st->[0]->finish;
}
# --- An autovacuum worker, slowed down on one table by its cost settings:
# postgres_exporter's start time per relname and the Rust worker count. ---
$node->safe_psql('postgres', q{
CREATE TABLE slow (id int, v text) WITH (autovacuum_vacuum_cost_delay = 100, autovacuum_vacuum_cost_limit = 1);
INSERT INTO slow SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
DELETE FROM slow;
ALTER SYSTEM SET autovacuum_naptime = 1;
SELECT pg_reload_conf();
});
$node->poll_query_until('postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
WHERE backend_type = 'autovacuum worker' AND query LIKE 'autovacuum: VACUUM%public.slow%'})
  or die 'autovacuum never started on the slow table';
my $started = $node->safe_psql('postgres', q{
SELECT extract(epoch FROM xact_start) FROM pg_stat_activity
WHERE backend_type = 'autovacuum worker' AND query LIKE 'autovacuum: VACUUM%public.slow%'});
($s) = scrape();
my $ts = sample($s, 'pg_stat_activity_autovacuum_timestamp_seconds', qr/^\{relname="slow"\}$/);
ok(defined $ts && abs($ts - $started) < 0.001, 'autovacuum start time under relname "slow"')
  or diag "got " . ($ts // 'nothing') . ", expected $started";
cmp_ok(sample($s, 'pg_vacuum_autovacuum_workers', qr/datname="postgres"/), '>=', 1, 'autovacuum worker counted');
is(sample($s, 'pg_vacuum_is_autovacuum', qr/datname="postgres",table="public\.slow"/), 1, 'an autovacuum');
is(sample($s, 'pg_vacuum_active'), 1, 'pg_vacuum_active 1');

$node->stop;
done_testing();
