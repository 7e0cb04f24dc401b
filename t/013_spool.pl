# Large families go to an anonymous file in base/pgsql_tmp and are sent from
# it: the exposition is whole, each family contiguous, no file or descriptor
# is left behind, and a folder the worker cannot write to only costs memory.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

# spool_keep_free = 0: this test must not depend on the free space of the
# machine it runs on (the default keeps 1 GB free).
my ($node, $port) =
  new_exporter_node('spool', conf => "pg_exporter.relations_limit = 0\npg_exporter.spool_keep_free = 0\n");
my $pid = wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');
my $pm_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

# 2,100 tables: a per-table family is ~200 kB, over the 64 kB spool block;
# with their TOAST tables and indexes 8,400 pg_class rows, so the catalog
# read comes in two cursor batches (8,192 rows each).
my $tables = 2100;
# 700 a transaction: each holds 4 locks until commit (the lock table's default room is 6,400).
for my $from (map { 1 + 700 * $_ } 0 .. 2)
{
	my $to = $from + 699;
	$node->safe_psql('postgres', qq{
DO \$\$ BEGIN FOR i IN $from..$to LOOP
  EXECUTE format('CREATE TABLE spool_t%s (id int PRIMARY KEY, v text)', i);
END LOOP; END \$\$;
});
}
cmp_ok($node->safe_psql('postgres', 'SELECT count(*) FROM pg_class'), '>', 8192,
	'more pg_class rows than a cursor batch');
my $tmp = $node->data_dir . '/base/pgsql_tmp';

sub fd_count { opendir(my $d, "/proc/$pid/fd") or die "/proc/$pid/fd: $!"; my $n = () = readdir($d); closedir $d; return $n; }

# Every family's samples must come in one run: pieces of a family put in
# the wrong order, or one family written twice, would break the run.
sub families_contiguous
{
	my ($text) = @_;
	my %histogram = map { $_ => 1 } $text =~ /^# TYPE (\S+) histogram$/mg;
	my (%done, $current);
	for my $line (split /\n/, $text)
	{
		next if $line =~ /^#/ || $line eq '';
		my ($name) = $line =~ /^([^{ ]+)/;
		$name = $1 if $name =~ /^(.*)_(?:bucket|sum|count)$/ && $histogram{$1};
		next if defined $current && $name eq $current;
		return "family $name appears twice" if $done{$name};
		$done{$current} = 1 if defined $current;
		$current = $name;
	}
	return '';
}

my $spooled;

sub check_scrape
{
	my ($what) = @_;
	my $r = http_request($port, 'GET', '/metrics');
	is($r->{status}, 200, "$what: 200");
	is(length($r->{body}), $r->{headers}{'content-length'}, "$what: body as long as Content-Length");
	my ($s) = parse_exposition($r->{body});
	my $n = grep { /^pg_stat_user_tables_n_live_tup\{.*relname="spool_t\d+"/ } keys %$s;
	is($n, $tables, "$what: every table's pg_stat_user_tables_n_live_tup");
	$n = grep { /^pg_index_scans_total\{.*indexrelname="spool_t\d+_pkey"/ } keys %$s;
	is($n, $tables, "$what: every index's pg_index_scans_total");
	is(families_contiguous($r->{body}), '', "$what: each family in one run");
	$spooled = sample($s, 'pg_exporter_last_scrape_spooled_bytes');
	my ($rc, $out) = promtool_check($r->{body});
	is_deeply(promtool_unexpected($out), [], "$what: promtool parses it (no lint beyond inherited names)");
	return $r->{body};
}

my $body = check_scrape('spooled scrape');
cmp_ok(length($body), '>', 1_000_000, 'the exposition is over a MB (several spool blocks per family)');
# The file holds the large families' samples encoded (a label set's number
# and the value), written out as text only on the way to the client.
cmp_ok($spooled, '>', 0, 'the large families were written to the temporary file');
cmp_ok($spooled, '<', length($body) / 4, '... encoded, in far fewer bytes than their text');
# After one scrape the server's own descriptor cache holds the catalogs'
# files: the count must stay where it is from here on.
my $fds_before = fd_count();
check_scrape("scrape $_") for 2 .. 3;
cmp_ok(fd_count(), '<=', $fds_before, 'no file descriptor left open after scrapes');
opendir(my $d, $tmp) or die "no $tmp: $!";
my @left = grep { !/^\.\.?$/ } readdir($d);
closedir $d;
is_deeply(\@left, [], 'nothing left in base/pgsql_tmp');

# A folder the worker cannot write to: the scrape is kept in memory, whole.
my $log_pos = -s $node->logfile;
chmod 0500, $tmp or die "chmod: $!";
check_scrape('pgsql_tmp not writable');
is($spooled, 0, 'that scrape was kept in memory');
chmod 0700, $tmp or die "chmod: $!";
my $log = slurp_file($node->logfile, $log_pos);
like($log, qr/scrape kept in memory: could not create file/, 'the reason is logged');
check_scrape('pgsql_tmp writable again');
$log = slurp_file($node->logfile, $log_pos);
like($log, qr/scrapes are written to temporary files again/, 'the recovery is logged');
cmp_ok(fd_count(), '<=', $fds_before, 'no file descriptor left open after the failure');

# Sets pg_exporter.spool_keep_free to $value and scrapes until the reload
# shows (until($body, $log) is true, at most 20 s); returns what the server
# logged meanwhile.
sub reload_keep_free
{
	my ($value, $until) = @_;
	my $pos = -s $node->logfile;
	$node->append_conf('postgresql.conf', "pg_exporter.spool_keep_free = $value\n");
	$node->reload;
	my $log;
	for (1 .. 40)
	{
		my $body = check_scrape("spool_keep_free = $value");
		$log = slurp_file($node->logfile, $pos);
		last if $until->($body, $log);
		sleep 0.5;
	}
	is($spooled, 0, "spool_keep_free = $value: the scrape was kept in memory");
	return $log;
}

# -1: never spooled (after scrapes that were), and nothing logged about it.
cmp_ok($spooled, '>', 0, 'the scrape before was spooled');
unlike(reload_keep_free('-1', sub { $spooled == 0 }), qr/scrape kept in memory|temporary files again/,
	'turning it off is not reported as a problem');
# Less free space than the setting keeps: no file, the reason logged.
like(reload_keep_free("'1000TB'", sub { $_[1] =~ /scrape kept in memory: only/ }),
	qr/scrape kept in memory: only \d+ MB free on the file system/, 'the free space is logged as the reason');
is(worker_pid($node), $pid, 'the same worker served every scrape');
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $pm_start,
	'the cluster never restarted (no crash through any of it)');

$node->stop;
done_testing();
