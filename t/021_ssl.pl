# The ssl collector against a cluster with ssl = on and a self-signed
# certificate made here with the openssl CLI: the certificate dates equal what
# `openssl x509` reads, a TLS session is counted, and a broken certificate file
# (garbage, a FIFO) fails only this collector, with the reason, and never blocks.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::Local qw(timegm);
use Time::HiRes qw(time sleep);

my ($node, $port) = new_exporter_node('ssl', no_start => 1);
my $datadir = $node->data_dir;
my ($out, $err);
IPC::Run::run(
	[
		'openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
		'-keyout', "$datadir/server.key", '-out', "$datadir/server.crt", '-days', '400', '-subj', '/CN=localhost'
	],
	'>', \$out, '2>', \$err) or die "openssl req failed: $err";
chmod 0600, "$datadir/server.key";
$node->append_conf('postgresql.conf', qq{
ssl = on
listen_addresses = '127.0.0.1'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_exporter');
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers');

# The certificate's dates as the openssl CLI reads them.
my %month = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
	Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
sub openssl_date
{
	my ($which) = @_;
	my $line = `openssl x509 -in '$datadir/server.crt' -noout -$which`;
	my ($mon, $day, $h, $m, $s, $y) = $line =~ /=(\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d) (\d{4}) GMT/
	  or die "cannot parse openssl output: $line";
	return timegm($s, $m, $h, $day, $month{$mon}, $y);
}
my $not_after = openssl_date('enddate');
my $not_before = openssl_date('startdate');

# A TLS session stays open while the worker is scraped over HTTP.
my $connstr = 'host=127.0.0.1 port=' . $node->port . ' dbname=postgres sslmode=require';
my ($in, $bg_out, $bg_err) = ('', '', '');
my $bg = IPC::Run::start([ 'psql', '-X', '-At', '-d', $connstr, '-c', 'SELECT pg_sleep(60)' ],
	'<', \$in, '>', \$bg_out, '2>', \$bg_err);
ok($node->poll_query_until('postgres', 'SELECT count(*) > 0 FROM pg_stat_ssl WHERE ssl'),
	'a TLS session is connected');

my $r = http_request($port, 'GET', '/metrics');
is($r->{status}, 200, 'scrape answers 200');
my ($s, $types) = parse_exposition($r->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="ssl"/), 1, 'ssl collector succeeded');
is(sample($s, 'pg_ssl_enabled'), 1, 'pg_ssl_enabled 1');
is(sample($s, 'pg_ssl_certificate_not_after_timestamp_seconds'), $not_after, 'notAfter equals openssl x509 -enddate');
is(sample($s, 'pg_ssl_certificate_not_before_timestamp_seconds'), $not_before,
	'notBefore equals openssl x509 -startdate');
my $expiry = sample($s, 'pg_ssl_certificate_expiry_seconds');
cmp_ok(abs($expiry - ($not_after - time)), '<', 60, 'expiry seconds is the time left');
cmp_ok($expiry, '>', 399 * 86400, 'about 400 days left');
is(sample($s, 'pg_ssl_certificate_valid'), 1, 'certificate valid now');
my $tls_sessions = 0;
for my $k (keys %$s)
{
	next unless $k =~ /^pg_ssl_connections\{(.*)\}$/;
	my $labels = $1;
	like($labels, qr/^version="TLSv1\.[23]",cipher="[A-Z0-9_-]+"$/, "connection labels: $labels");
	$tls_sessions += $s->{$k};
}
cmp_ok($tls_sessions, '>=', 1, 'the TLS session is counted');
is($types->{$_}, 'gauge', "$_ is a gauge")
  for qw(pg_ssl_enabled pg_ssl_connections pg_ssl_certificate_not_after_timestamp_seconds
  pg_ssl_certificate_expiry_seconds);

my ($code, $pout) = promtool_check($r->{body});
ok($code == 0 || $code == 3, "promtool parses the exposition (exit $code)") or diag $pout;
is_deeply(promtool_unexpected($pout), [], 'no new lint findings') or diag $pout;

# The SQL interface from a TLS session counts that session.
my $sql_body = $node->safe_psql('postgres', "SELECT pgexporter.metrics(ARRAY['ssl'])", connstr => $connstr);
($s) = parse_exposition($sql_body);
my $n = 0;
$n += $s->{$_} for grep { /^pg_ssl_connections\{/ } keys %$s;
cmp_ok($n, '>=', 2, 'both TLS sessions counted from SQL');

$bg->kill_kill;

# A broken certificate file fails this collector only, with the reason.
my $pid = worker_pid($node);
rename "$datadir/server.crt", "$datadir/server.crt.good" or die $!;
open my $fh, '>', "$datadir/server.crt" or die $!;
print $fh "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n";
close $fh;
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="ssl"/), 0, 'garbage certificate: ssl collector fails');
is(sample($s, 'pg_exporter_collector_success', qr/collector="settings"/), 1, 'other collectors unaffected');
is(sample($s, 'pg_ssl_certificate_not_after_timestamp_seconds'), undef, 'no certificate series from garbage');
like($node->safe_psql('postgres', "SELECT last_error FROM pgexporter.collector_status() WHERE name = 'ssl'"),
	qr/^ssl_cert_file ".*server\.crt": \S/, 'the reason is reported');

# A FIFO must not block the scrape.
unlink "$datadir/server.crt";
IPC::Run::run([ 'mkfifo', "$datadir/server.crt" ]) or die 'mkfifo failed';
# (Opened for reading, a FIFO without a writer would block the worker: the
# scrape would never be answered.)
$r = http_request($port, 'GET', '/metrics');
is($r->{status}, 200, 'a FIFO certificate does not block the scrape');
($s) = parse_exposition($r->{body});
is(sample($s, 'pg_exporter_collector_success', qr/collector="ssl"/), 0, 'FIFO: ssl collector fails');
like($node->safe_psql('postgres', "SELECT last_error FROM pgexporter.collector_status() WHERE name = 'ssl'"),
	qr/not a regular file/, 'FIFO reason reported');
is(worker_pid($node), $pid, 'worker survived');

unlink "$datadir/server.crt";
rename "$datadir/server.crt.good", "$datadir/server.crt" or die $!;
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_ssl_certificate_not_after_timestamp_seconds'), $not_after, 'restored certificate read again');

# ssl = off: pg_ssl_enabled 0, no certificate series, success.
$node->append_conf('postgresql.conf', "ssl = off\n");
$node->restart;
wait_for_worker($node);
ok(wait_for_listening($port), 'endpoint answers after restart');
($s) = parse_exposition(http_request($port, 'GET', '/metrics')->{body});
is(sample($s, 'pg_ssl_enabled'), 0, 'ssl off: pg_ssl_enabled 0');
is(sample($s, 'pg_ssl_certificate_not_after_timestamp_seconds'), undef, 'ssl off: no certificate series');
is(sample($s, 'pg_exporter_collector_success', qr/collector="ssl"/), 1, 'ssl off: collector succeeds');

$node->stop;
done_testing();
