# The endpoint with the web config file, as the real clients see it:
# Debian's Prometheus scrapes it with tls_config and basic_auth (target up,
# OpenMetrics and gzip negotiated, the same series as a direct scrape), and
# Debian's prometheus-postgres-exporter, given the very same file, accepts
# and refuses exactly the requests we accept and refuse.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgExporterTest;
use WebTest;
use PostgreSQL::Test::Utils;
use PostgreSQL::Test::Cluster;
use Test::More;
use IPC::Run;
use HTTP::Tiny;
use Time::HiRes qw(time sleep);

for my $bin (qw(prometheus prometheus-postgres-exporter))
{
	plan skip_all => "$bin is not installed (scripts/install-deps.sh installs it)"
	  unless grep { -x "$_/$bin" } split /:/, $ENV{PATH};
}

my $dir = PostgreSQL::Test::Utils::tempdir;
my $pki = make_pki($dir, 'p');
my $hash = bcrypt_hash('s3cret');
write_file("$dir/web.yml", <<"YAML");
tls_server_config:
  cert_file: $pki->{'server.crt'}
  key_file: $pki->{'server.key'}
  client_auth_type: VerifyClientCertIfGiven
  client_ca_file: $pki->{'ca.crt'}
basic_auth_users:
  prom: $hash
YAML

my ($node, $port) = new_exporter_node('prom', conf => "pg_exporter.web_config_file = '$dir/web.yml'\n");
wait_for_worker($node);

sub wait_for
{
	my ($cond, $timeout) = @_;
	my $deadline = time + ($timeout // 60);
	while (time < $deadline)
	{
		return 1 if $cond->();
		sleep 0.25;
	}
	return 0;
}
my @ca = ('--cacert', $pki->{'ca.crt'});
ok(wait_for(sub { curl("https://localhost:$port/metrics", @ca)->{code} == 401 }), 'pg_exporter serves TLS');

# postgres_exporter with the same file, on the same cluster.
my $pe_port = PostgreSQL::Test::Cluster::get_free_port();
my $dsn = 'host=' . $node->host . ' port=' . $node->port . ' dbname=postgres sslmode=disable';
my ($pe_in, $pe_out, $pe_err) = ('', '', '');
my $pe;
{
	local $ENV{DATA_SOURCE_NAME} = $dsn;
	$pe = IPC::Run::start(
		[ 'prometheus-postgres-exporter', "--web.listen-address=127.0.0.1:$pe_port", "--web.config.file=$dir/web.yml" ],
		'<', \$pe_in, '>', \$pe_out, '2>', \$pe_err, IPC::Run::timeout(600));
}
ok(wait_for(sub { curl("https://localhost:$pe_port/metrics", @ca)->{code} == 401 }), 'postgres_exporter serves TLS')
  or diag $pe_err;

# The same requests to both.
my %cases = (
	'no password' => [ @ca ],
	'wrong password' => [ @ca, '-u', 'prom:wrong' ],
	'unknown user' => [ @ca, '-u', 'eve:s3cret' ],
	'right password' => [ @ca, '-u', 'prom:s3cret' ],
	'right password, TLS 1.2' => [ @ca, '-u', 'prom:s3cret', '--tlsv1.2', '--tls-max', '1.2' ],
	'right password, TLS 1.3' => [ @ca, '-u', 'prom:s3cret', '--tlsv1.3' ],
	'client certificate' => [ @ca, '-u', 'prom:s3cret', '--cert', $pki->{'client.crt'}, '--key', $pki->{'client.key'} ],
	"stranger's certificate" =>
	  [ @ca, '-u', 'prom:s3cret', '--cert', $pki->{'stranger.crt'}, '--key', $pki->{'stranger.key'} ],
	'untrusted server (no CA given)' => [ '-u', 'prom:s3cret' ],
	'basic auth with an empty password' => [ @ca, '-u', 'prom:' ],
);
my %expect = ('right password' => 200, 'no password' => 401);
for my $case (sort keys %cases)
{
	my $ours = curl("https://localhost:$port/metrics", @{ $cases{$case} });
	my $theirs = curl("https://localhost:$pe_port/metrics", @{ $cases{$case} });
	is($ours->{code}, $theirs->{code}, "$case: both answer $theirs->{code}");
	is($ours->{code}, $expect{$case}, "$case: $expect{$case}") if exists $expect{$case};
}
# One difference: curl --http1.0 offers ALPN "http/1.0", which Go's TLS
# server refuses (no common protocol); the worker negotiates no ALPN and
# answers HTTP/1.0.
is(curl("https://localhost:$port/metrics", @ca, '-u', 'prom:s3cret', '--http1.0')->{code}, 200,
	'HTTP/1.0 over TLS: 200 (postgres_exporter refuses the handshake)');
my $ours = curl("http://127.0.0.1:$port/metrics");
my $theirs = curl("http://127.0.0.1:$pe_port/metrics");
is($ours->{code}, $theirs->{code}, "plain HTTP on the TLS port: both answer $theirs->{code}");
is($ours->{body}, $theirs->{body}, 'with the same words');

# Prometheus scraping with tls_config and basic_auth.
my $prom_port = PostgreSQL::Test::Cluster::get_free_port();
write_file("$dir/prometheus.yml", <<"YAML");
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: pg_exporter
    scheme: https
    tls_config:
      ca_file: $pki->{'ca.crt'}
      cert_file: $pki->{'client.crt'}
      key_file: $pki->{'client.key'}
    basic_auth:
      username: prom
      password: s3cret
    static_configs:
      - targets: ['localhost:$port']
  - job_name: postgres_exporter
    scheme: https
    tls_config:
      ca_file: $pki->{'ca.crt'}
    basic_auth:
      username: prom
      password: s3cret
    static_configs:
      - targets: ['localhost:$pe_port']
  - job_name: wrong_password
    scheme: https
    tls_config:
      ca_file: $pki->{'ca.crt'}
    basic_auth:
      username: prom
      password: nope
    static_configs:
      - targets: ['localhost:$port']
YAML
my ($p_in, $p_out, $p_err) = ('', '', '');
my $prom = IPC::Run::start(
	[
		'prometheus', "--config.file=$dir/prometheus.yml", "--storage.tsdb.path=$dir/prom-data",
		"--web.listen-address=127.0.0.1:$prom_port"
	],
	'<', \$p_in, '>', \$p_out, '2>', \$p_err, IPC::Run::timeout(600));
my $http = HTTP::Tiny->new(timeout => 10);
sub query
{
	my ($q) = @_;
	my $r = $http->get("http://127.0.0.1:$prom_port/api/v1/query?query=" . HTTP::Tiny->new->www_form_urlencode({ q => $q }) =~ s/^q=//r);
	return undef unless $r->{success};
	my %by;
	while ($r->{content} =~ /\{"metric":\{([^}]*)\},"value":\[[\d.]+,"([^"]+)"\]\}/g)
	{
		my ($labels, $v) = ($1, $2);
		$by{$labels} = $v;
	}
	return \%by;
}
sub up
{
	my ($job) = @_;
	my $r = query("up{job=\"$job\"}");
	return undef unless $r && %$r;
	return (values %$r)[0];
}
ok(wait_for(sub { (up('pg_exporter') // 0) == 1 }, 90), 'Prometheus: the pg_exporter target is up over TLS with basic auth')
  or diag $p_err;
ok(wait_for(sub { (up('postgres_exporter') // 0) == 1 }, 60), 'Prometheus: the postgres_exporter target is up too');
ok(wait_for(sub { defined up('wrong_password') }, 30), 'Prometheus: the wrong password job was scraped');
is(up('wrong_password'), 0, 'and is down (401)');

# The series Prometheus stored are those of a direct scrape.
my $direct = curl("https://localhost:$port/metrics", @ca, '-u', 'prom:s3cret')->{body};
my %direct_names = map { /^([a-zA-Z_:][a-zA-Z0-9_:]*)/ ? ($1 => 1) : () } grep { !/^#/ && /\S/ } split /\n/, $direct;
my $stored = query('count by (__name__) ({job="pg_exporter"})');
my %stored_names;
for (keys %$stored) { $stored_names{$1} = 1 if /"__name__":"([^"]+)"/; }
delete $stored_names{$_} for qw(up scrape_duration_seconds scrape_samples_scraped scrape_samples_post_metric_relabeling
  scrape_series_added);
is_deeply([ sort keys %stored_names ], [ sort keys %direct_names ], 'the same metric names as a direct scrape')
  or diag explain { only_stored => [ grep { !$direct_names{$_} } keys %stored_names ],
	only_direct => [ grep { !$stored_names{$_} } keys %direct_names ] };
my $samples = query('scrape_samples_scraped{job="pg_exporter"}');
my $n_direct = grep { !/^#/ && /\S/ } split /\n/, $direct;
my ($n_stored) = values %$samples;
cmp_ok(abs($n_stored - $n_direct), '<=', $n_direct * 0.05, "samples per scrape: $n_stored stored, $n_direct direct");

# Prometheus asked for OpenMetrics (it prefers it) and got it: the family
# of a _total counter is stored under its OpenMetrics name.
my $meta = $http->get("http://127.0.0.1:$prom_port/api/v1/metadata?metric=pg_exporter_scrapes");
like($meta->{content}, qr/"type":"counter"/, 'Prometheus knows pg_exporter_scrapes as an OpenMetrics counter family');
my $inherited = $http->get("http://127.0.0.1:$prom_port/api/v1/metadata?metric=pg_stat_database_xact_commit");
like($inherited->{content}, qr/"type":"unknown"/, 'an inherited counter without _total keeps its name (type unknown)');
my $xact = query('pg_stat_database_xact_commit{job="pg_exporter",datname="postgres"}');
ok($xact && %$xact, 'and its series is there under the name dashboards use');

$prom->signal('TERM');
$pe->signal('TERM');
$prom->finish;
$pe->finish;
$node->stop;
done_testing();
