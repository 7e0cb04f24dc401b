# Out of descriptors, two ways. (1) PostgreSQL's budget for descriptors it
# does not manage itself (AcquireExternalFD: a third of max_safe_fds, small
# with a small max_files_per_process): a connection beyond it is closed at
# once and counted in pg_exporter_http_connections_rejected_total. (2) The
# process limit (RLIMIT_NOFILE, lowered on the running worker with prlimit):
# accept() fails with EMFILE, the worker pauses listening instead of
# spinning, says so once in the log, and serves the waiting client as soon
# as descriptors are back. The worker survives both.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::INET;
use IO::Select;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_exporter_node('fds',
	conf => "max_files_per_process = 70\npg_exporter.max_clients = 200\n"
	  . "pg_exporter.client_timeout = '10s'\npg_exporter.spool_keep_free = -1\n");
my $pid = wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');
my $pm_start = $node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()');

sub connect_client
{
	return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp', Timeout => 5);
}

sub closed_by_server
{
	my ($c, $wait) = @_;
	return 0 unless IO::Select->new($c)->can_read($wait);
	my $n = sysread($c, my $buf, 1);
	return defined $n && $n == 0;
}

# (1) 60 idle connections: those beyond the budget are closed at once; the
# others stay open until client_timeout (10 s).
my ($s0) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
my @c = grep { defined } map { connect_client() } 1 .. 60;
is(scalar @c, 60, 'sixty connections made (the kernel queues them)');
sleep 2;    # the worker accepts what it can at once
my @rejected = grep { closed_by_server($_, 0) } @c;
my $accepted = @c - @rejected;
cmp_ok(scalar @rejected, '>=', 1, 'connections beyond the descriptor budget are closed at once');
cmp_ok($accepted, '>=', 5, 'the budget still admits some') or diag "accepted $accepted";
# The accepted ones are cut at client_timeout; then the budget is free again.
ok(closed_by_server($_, 30), 'an accepted idle connection is closed at client_timeout') for grep { my $x = $_; !grep { $_ == $x } @rejected } @c;
close $_ for @c;
my $r = http_request($port, 'GET', '/metrics');
is($r->{status}, 200, 'served again once descriptors are free');
my ($s1) = parse_exposition($r->{body});
is(sample($s1, 'pg_exporter_http_connections_rejected_total') - sample($s0, 'pg_exporter_http_connections_rejected_total'),
	scalar @rejected, 'pg_exporter_http_connections_rejected_total: exactly the connections closed at once');
is(sample($s1, 'pg_exporter_http_timeouts_total') - sample($s0, 'pg_exporter_http_timeouts_total'),
	$accepted, 'pg_exporter_http_timeouts_total: exactly the accepted idle ones');
is(sample($s1, 'pg_exporter_http_connections_total') - sample($s0, 'pg_exporter_http_connections_total'),
	$accepted + 1, 'pg_exporter_http_connections_total: the accepted ones and this scrape');

# (2) The worker's own descriptor limit, lowered to what it holds now.
SKIP:
{
	skip 'prlimit not installed', 6 unless system('prlimit --version >/dev/null 2>&1') == 0;
	my ($soft) = `prlimit --pid $pid --nofile --noheadings --output SOFT` =~ /(\d+)/;
	# The limit bounds descriptor numbers: the lowest free number is the
	# limit at which the next descriptor cannot be had.
	opendir(my $d, "/proc/$pid/fd") or die $!;
	my %used = map { $_ => 1 } grep { /^\d+$/ } readdir($d);
	closedir $d;
	my $limit = 0;
	$limit++ while $used{$limit};
	my $offset = -s $node->logfile;
	system("prlimit --pid $pid --nofile=$limit:") == 0 or die 'prlimit failed';
	my $waiting = connect_client();
	syswrite($waiting, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	$node->wait_for_log(qr/cannot accept connections for now \(Too many open files\): retrying every 250 ms/, $offset);
	pass('accept() failing with EMFILE is logged');
	ok(!IO::Select->new($waiting)->can_read(1.5), 'the client waits (nothing answered while out of descriptors)');
	my @lines = slurp_file($node->logfile, $offset) =~ /cannot accept connections for now/g;
	is(scalar @lines, 1, 'logged once, not at every retry');
	system("prlimit --pid $pid --nofile=$soft:") == 0 or die 'prlimit failed';
	my ($out, $sel) = ('', IO::Select->new($waiting));
	while ($sel->can_read(30)) { my $n = sysread($waiting, my $buf, 4096); last unless $n; $out .= $buf; }
	like($out, qr{\AHTTP/1\.1 200 OK\r\n}, 'the waiting client is served once descriptors are back');
	close $waiting;
	is(http_request($port, 'GET', '/metrics')->{status}, 200, 'scrapes work again');
	is(worker_pid($node), $pid, 'the same worker');
}
is($node->safe_psql('postgres', 'SELECT pg_postmaster_start_time()'), $pm_start, 'no crash-restart');
$node->stop;
done_testing();
