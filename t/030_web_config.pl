# pg_exporter.web_config_file: postgres_exporter's web config format served
# by the worker. curl over TLS 1.2 and 1.3, with and without a client
# certificate, without, with a wrong and with the right password; plain HTTP
# on the TLS port; gzip and OpenMetrics over TLS parsed by promtool; invalid
# files at reload (the previous configuration stays) and at start-up (not
# listening); hostile YAML, garbage TLS records and huge Authorization
# headers never cost the worker; certificates rotated under load without a
# restart.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use WebTest;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time sleep);

my $dir = PostgreSQL::Test::Utils::tempdir;
my $pki = make_pki($dir, 'a');
my $hash = bcrypt_hash('s3cret');

sub web_config
{
	my (%o) = @_;
	my $auth = $o{client_auth} // 'VerifyClientCertIfGiven';
	# Relative names: taken from the file's folder, as the toolkit does.
	return <<"YAML";
tls_server_config:
  cert_file: a-server.crt
  key_file: a-server.key
  client_auth_type: $auth
  client_ca_file: a-ca.crt
basic_auth_users:
  prom: $hash
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
YAML
}
write_file("$dir/web.yml", web_config());

my ($node, $port) = new_exporter_node('web', conf => "pg_exporter.web_config_file = '$dir/web.yml'\n");
$node->safe_psql('postgres', 'CREATE EXTENSION pg_exporter');
my $pid = wait_for_worker($node);
my $url = "https://localhost:$port/metrics";
my @ca = ('--cacert', $pki->{'ca.crt'});

sub wait_for
{
	my ($what, $cond) = @_;
	my $deadline = time + 30;
	while (time < $deadline)
	{
		return 1 if $cond->();
		sleep 0.2;
	}
	return 0;
}
ok(wait_for('TLS endpoint', sub { curl($url, @ca)->{code} == 401 }), 'the endpoint speaks TLS and asks for a password');

# The matrix: TLS version x client certificate x password.
my %certs = (
	none => [],
	good => [ '--cert', $pki->{'client.crt'}, '--key', $pki->{'client.key'} ],
	stranger => [ '--cert', $pki->{'stranger.crt'}, '--key', $pki->{'stranger.key'} ]);
my %passwords = (none => [], wrong => [ '-u', 'prom:wrong' ], right => [ '-u', 'prom:s3cret' ],
	unknown => [ '-u', 'eve:s3cret' ]);
for my $v ('1.2', '1.3')
{
	for my $cert (sort keys %certs)
	{
		for my $pw (sort keys %passwords)
		{
			my $r = curl($url, @ca, "--tlsv$v", '--tls-max', $v, @{ $certs{$cert} }, @{ $passwords{$pw} });
			my $case = "TLS $v, client certificate $cert, password $pw";
			if ($cert eq 'stranger')
			{
				is($r->{code}, 0, "$case: handshake refused") or diag $r->{err};
				next;
			}
			if ($pw eq 'right')
			{
				is($r->{code}, 200, "$case: 200");
				like($r->{body}, qr/^pg_up 1$/m, "$case: pg_up 1");
			}
			else
			{
				is($r->{code}, 401, "$case: 401");
				is($r->{headers}{'www-authenticate'}, 'Basic', "$case: WWW-Authenticate: Basic");
			}
			is($r->{headers}{'x-content-type-options'}, 'nosniff', "$case: the configured header");
		}
	}
}

# Plain HTTP on the TLS port: a 400 at once, as postgres_exporter answers.
my $t0 = time;
my $plain = curl("http://127.0.0.1:$port/metrics");
is($plain->{code}, 400, 'plain HTTP on the TLS port: 400');
like($plain->{body}, qr/HTTP request to an HTTPS server/, 'and says why');
cmp_ok(time - $t0, '<', 5, 'without waiting for a timeout');

# gzip and OpenMetrics over TLS.
my @auth = (@ca, '-u', 'prom:s3cret');
my $z = curl($url, @auth, '--compressed');
is($z->{headers}{'content-encoding'}, 'gzip', 'gzip over TLS');
my ($code, $out) = promtool_check($z->{body});
ok($code == 0 || $code == 3, "promtool parses the gunzipped exposition (exit $code)") or diag $out;
is_deeply(promtool_unexpected($out), [], 'lint findings only on inherited names') or diag $out;
my $om = curl($url, @auth, '--compressed', '-H',
	'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5');
is($om->{headers}{'content-type'}, 'application/openmetrics-text; version=1.0.0; charset=utf-8',
	'OpenMetrics when preferred');
like($om->{body}, qr/\n# EOF\n\z/, 'ends with # EOF');
my ($ok, $why) = openmetrics_check($om->{body});
ok($ok, "Prometheus's OpenMetrics parser (promtool) reads it") or diag $why;

# Hostile input over TLS never costs the worker.
my $huge = curl($url, @ca, '-H', 'Authorization: Basic ' . ('A' x 20000));
ok($huge->{code} == 431 || $huge->{code} == 400, "a 20 kB Authorization header: $huge->{code}");
for my $junk ("\x16\x03\x01\xff\xff" . ("\x00" x 200), "\x16\x03\x03\x00\x05hello", "\x16" . ("\xff" x 5000))
{
	raw_exchange($port, $junk, 3);
}
is(worker_pid($node), $pid, 'garbage TLS records: the worker is the same process');
is(curl($url, @auth)->{code}, 200, 'and still serves');

# Invalid files at reload: the previous configuration stays.
my $log_offset = -s $node->logfile;
for my $bad ("tls_server_config: {cert_file: [\n", "basic_auth_user:\n  prom: $hash\n",
	('[' x 100000) . (']' x 100000), "tls_server_config:\n  cert_file: missing.crt\n  key_file: a-server.key\n")
{
	write_file("$dir/web.yml", $bad);
	$node->reload;
	ok($node->wait_for_log(qr/web_config_file.*refused.*previous web configuration stays/, $log_offset),
		'an invalid file is refused with a message');
	$log_offset = -s $node->logfile;
	is(curl($url, @ca)->{code}, 401, 'TLS and authentication stay');
	is(curl($url, @auth)->{code}, 200, 'and the right password still works');
}
my ($s) = parse_exposition(curl($url, @auth)->{body});
is(sample($s, 'pg_exporter_web_config_last_reload_successful'), 0, 'the failed reload shows in a metric');
is(worker_pid($node), $pid, 'hostile YAML: the worker is the same process');

# A valid change at reload: client certificates required from now on.
write_file("$dir/web.yml", web_config(client_auth => 'RequireAndVerifyClientCert'));
$node->reload;
ok(wait_for('RequireAndVerifyClientCert', sub { curl($url, @auth)->{code} == 0 }),
	'RequireAndVerifyClientCert: no certificate, no connection');
is(curl($url, @auth, @{ $certs{good} })->{code}, 200, 'with the CA-signed client certificate: 200');
is(curl($url, @auth, @{ $certs{stranger} })->{code}, 0, "a stranger's certificate: refused");
($s) = parse_exposition(curl($url, @auth, @{ $certs{good} })->{body});
is(sample($s, 'pg_exporter_web_config_last_reload_successful'), 1, 'the reload succeeded');
write_file("$dir/web.yml", web_config());
$node->reload;
ok(wait_for('back', sub { curl($url, @auth)->{code} == 200 }), 'back to optional client certificates');

# Certificate rotation under load: a client scrapes every 50 ms while the
# certificate, then the key, are replaced; no request fails, and new
# connections get the new certificate without a restart.
is(served_cn($port), 'localhost-a', 'the first certificate is served');
my ($new_crt, $new_key) = issue_server_cert($pki, $dir, 'rotated');
my ($lin, $lout, $lerr) = ('', '', '');
my $load = IPC::Run::start(
	[
		'bash', '-c',
		"for i in \$(seq 1 60); do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 10 --cacert '$pki->{'ca.crt'}' "
		  . "-u prom:s3cret '$url'; sleep 0.05; done"
	],
	'<', \$lin, '>', \$lout, '2>', \$lerr, IPC::Run::timeout(120));
sleep 1;
# The certificate first: for a moment it does not match the key in place.
write_file("$dir/a-server.crt", do { local (@ARGV, $/) = $new_crt; <> });
sleep 1.5;
write_file("$dir/a-server.key", do { local (@ARGV, $/) = $new_key; <> });
$load->finish;
my @codes = split /\n/, $lout;
is(scalar(@codes), 60, '60 scrapes during the rotation');
is_deeply([ grep { $_ ne '200' } @codes ], [], 'every one of them 200');
ok(wait_for('rotated', sub { served_cn($port) eq 'rotated' }), 'new connections get the new certificate');
ok($node->log_contains(qr/TLS certificate files changed: new connections use them/), 'the rotation is logged');
ok($node->log_contains(qr/TLS files changed but cannot be used/), 'the half-rotated state was refused, not served');
is(worker_pid($node), $pid, 'no restart');

# At start-up an invalid file means not listening, and says why.
write_file("$dir/web.yml", "tls_server_config:\n  cert_file: missing.crt\n  key_file: a-server.key\n");
$node->restart;
my $new_pid = wait_for_worker($node);
ok(wait_for('worker status', sub {
	$node->safe_psql('postgres', 'SELECT listen_error FROM pgexporter.worker_status()') =~ /web_config_file/ }),
	'listen_error names the web config file');
is($node->safe_psql('postgres', 'SELECT listening FROM pgexporter.worker_status()'), 'f', 'not listening');
is(curl("http://127.0.0.1:$port/metrics")->{exit}, 7, 'nothing on the port, not even plain HTTP');
ok($node->log_contains(qr/web_config_file.*refused.*not listening until a reload fixes it/), 'and the log says so');
write_file("$dir/web.yml", web_config());
$node->reload;
ok(wait_for('listening', sub { curl($url, @auth)->{code} == 200 }), 'a reload with a valid file opens it');

$node->stop;
done_testing();
