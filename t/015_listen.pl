# pg_exporter.listen_addresses follows a reload without restarting the
# worker: a second address, IPv6 loopback, *, a host name, and names that do
# not resolve (logged; the other addresses keep serving; none at all is
# retried). Only loopback addresses are ever connected to, and no name is
# looked up in DNS.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use IO::Socket::IP;
use IO::Select;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $port) = new_exporter_node('listen');
my $pid = wait_for_worker($node);
ok(wait_for_listening($port), 'serving on 127.0.0.1');

# Whether this machine has an IPv6 loopback at all.
my $probe = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0, Listen => 1);
my $have_v6 = defined $probe;
close $probe if $probe;

# GET / on host:port; the status, 0 when refused.
sub status_at
{
	my ($host) = @_;
	my $c = IO::Socket::IP->new(PeerHost => $host, PeerPort => $port, Timeout => 5) or return 0;
	print $c "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	my ($out, $sel) = ('', IO::Select->new($c));
	while ($sel->can_read(10)) { my $n = sysread($c, my $buf, 4096); last unless $n; $out .= $buf; }
	close $c;
	my ($code) = $out =~ m{\AHTTP/1\.1 (\d{3}) };
	return $code // 0;
}

# Reloads listen_addresses and waits until every host in %want answers
# (200) or refuses (0) as given; returns whether it got there in 20 s.
sub reload_and_wait
{
	my ($value, %want) = @_;
	$node->append_conf('postgresql.conf', "pg_exporter.listen_addresses = '$value'\n");
	$node->reload;
	my $deadline = time + 20;
	while (time < $deadline)
	{
		my $all = 1;
		for my $h (keys %want) { $all &&= status_at($h) == $want{$h}; }
		return 1 if $all;
		sleep 0.1;
	}
	return 0;
}

SKIP:
{
	skip 'no IPv6 loopback on this machine', 5 unless $have_v6;
	ok(reload_and_wait('127.0.0.1, ::1', '127.0.0.1' => 200, '::1' => 200), 'a second address, IPv6 loopback');
	ok(reload_and_wait('[::1]', '127.0.0.1' => 0, '::1' => 200), 'IPv6 only, in brackets: 127.0.0.1 closed');
	my $star = -s $node->logfile;
	ok(reload_and_wait('*', '127.0.0.1' => 200, '::1' => 200), '*: every interface, IPv4 and IPv6');
	# (An IPv6 socket without IPV6_V6ONLY would take the IPv4 port too, and
	# the IPv4 socket's bind would fail.)
	unlike(slurp_file($node->logfile, $star), qr/could not bind/, '*: one socket per family, each bound');
	ok(reload_and_wait('127.0.0.1', '127.0.0.1' => 200, '::1' => 0), 'back to 127.0.0.1 only: ::1 closed');
}
ok(reload_and_wait('localhost', '127.0.0.1' => 200), 'a host name (localhost)');

# An address that does not resolve (a scope naming no interface: it fails
# in getaddrinfo without asking any DNS server): logged, and the other
# address keeps serving.
my $offset = -s $node->logfile;
ok(reload_and_wait('127.0.0.1, ::1%nosuchif', '127.0.0.1' => 200),
	'a name that does not resolve next to one that does');
$node->wait_for_log(qr/could not resolve listen address "::1%nosuchif".*\(listening on the other addresses\)/,
	$offset);
pass('the unresolvable name is logged, with the addresses still served');
is($node->safe_psql('postgres', 'CREATE EXTENSION pg_exporter; SELECT listening FROM pgexporter.worker_status()'),
	't', 'worker_status: listening');

# Nothing resolves: not listening, said in worker_status, retried; a good
# address again is taken at the next reload.
$offset = -s $node->logfile;
ok(reload_and_wait('::1%nosuchif', '127.0.0.1' => 0), 'no address resolves: nothing served');
$node->wait_for_log(qr/could not resolve listen address "::1%nosuchif".*retrying every 10 s/, $offset);
pass('logged with the retry');
is($node->safe_psql('postgres', "SELECT listening, listen_error LIKE 'could not resolve listen address%' FROM pgexporter.worker_status()"),
	'f|t', 'worker_status: not listening, and why');
ok(reload_and_wait('127.0.0.1', '127.0.0.1' => 200), 'serving again after a good value');

is(worker_pid($node), $pid, 'the same worker through every change');
$node->stop;
done_testing();
