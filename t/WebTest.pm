# Helpers for the endpoint's TAP tests (TLS, authentication, encodings): a
# small PKI made with the openssl CLI, bcrypt hashes through the system's
# crypt (libxcrypt), curl as the client, and the OpenMetrics parser of
# promtool.
package WebTest;

use strict;
use warnings;
use Exporter 'import';
use IPC::Run;
use File::Temp qw(tempdir);
use Test::More;

our @EXPORT = qw(make_pki bcrypt_hash curl openmetrics_check write_file);

sub run_or_die
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err) or die "@cmd failed: $err";
	return $out;
}

sub write_file
{
	my ($path, $text) = @_;
	open my $fh, '>', "$path.tmp" or die "$path: $!";
	print $fh $text;
	close $fh;
	rename "$path.tmp", $path or die "$path: $!";
}

# A CA, a server certificate for localhost and 127.0.0.1 signed by it, a
# client certificate signed by it, and a stranger's self-signed client
# certificate. Returns { ca, server_crt, server_key, client_crt, ... }.
sub make_pki
{
	my ($dir, $tag) = @_;
	$tag //= 'a';
	my %p = map { $_ => "$dir/$tag-$_" }
	  qw(ca.crt ca.key server.crt server.key client.crt client.key stranger.crt stranger.key);
	my @ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes');
	run_or_die('openssl', 'req', '-x509', @ec, '-keyout', $p{'ca.key'}, '-out', $p{'ca.crt'}, '-days', '30',
		'-subj', "/CN=test-ca-$tag");
	for my $who (qw(server client))
	{
		my $cn = $who eq 'server' ? 'localhost' : 'prometheus';
		my $san = $who eq 'server' ? 'DNS:localhost,IP:127.0.0.1' : 'DNS:prometheus';
		run_or_die('openssl', 'req', @ec, '-keyout', $p{"$who.key"}, '-out', "$dir/$tag-$who.csr",
			'-subj', "/CN=$cn-$tag");
		write_file("$dir/$tag-$who.ext", "subjectAltName=$san\n");
		run_or_die('openssl', 'x509', '-req', '-in', "$dir/$tag-$who.csr", '-CA', $p{'ca.crt'}, '-CAkey',
			$p{'ca.key'}, '-CAcreateserial', '-out', $p{"$who.crt"}, '-days', '30', '-extfile',
			"$dir/$tag-$who.ext");
	}
	run_or_die('openssl', 'req', '-x509', @ec, '-keyout', $p{'stranger.key'}, '-out', $p{'stranger.crt'},
		'-days', '30', '-subj', '/CN=stranger');
	chmod 0600, $p{'server.key'};
	return \%p;
}

# A bcrypt hash ($2y$, cost 10: what htpasswd -nBC 10 makes).
sub bcrypt_hash
{
	my ($password) = @_;
	my @a = ('.', '/', 'A' .. 'Z', 'a' .. 'z', '0' .. '9');
	my $salt = join '', map { $a[ int rand @a ] } 1 .. 21;
	$salt .= 'u';    # the 22nd character carries only 2 bits: keep it canonical
	my $h = crypt($password, '$2y$10$' . $salt);
	die "crypt() does not do bcrypt here" unless defined $h && $h =~ /^\$2y\$10\$.{53}$/;
	return $h;
}

# Runs curl; returns { code => HTTP status (0: none), exit => curl's exit,
# headers => { lower-case name => value }, body => ..., err => stderr }.
sub curl
{
	my ($url, @args) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'curl', '-sS', '--max-time', '30', '-o', "$dir/body", '-D', "$dir/head",
		'-w', '%{http_code}', @args, $url ], '>', \$out, '2>', \$err);
	my $exit = $? >> 8;
	my %h;
	if (open my $fh, '<', "$dir/head")
	{
		while (<$fh>) { s/\r?\n$//; $h{ lc $1 } = $2 if /^([^:]+):\s*(.*)$/; }
		close $fh;
	}
	my $body = '';
	if (open my $fh, '<', "$dir/body") { local $/; $body = <$fh> // ''; close $fh; }
	return { code => ($out =~ /^(\d{3})$/ ? $1 + 0 : 0), exit => $exit, headers => \%h, body => $body,
		err => $err };
}

# Parses OpenMetrics text with Prometheus's own parser (promtool's block
# import; it wants a timestamp on every sample, so each gets one). Returns
# (ok, output).
sub openmetrics_check
{
	my ($text) = @_;
	my $dir = tempdir(CLEANUP => 1);
	my $stamped = join '', map { /^#/ ? "$_\n" : "$_ 1700000000\n" } split /\n/, $text;
	write_file("$dir/om.txt", $stamped);
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'promtool', 'tsdb', 'create-blocks-from', 'openmetrics', "$dir/om.txt", "$dir/blocks" ],
		'>', \$out, '2>', \$err);
	return ($? == 0, $out . $err);
}

1;

package WebTest;

# Another server certificate (for localhost, 127.0.0.1) from the PKI's CA:
# what a rotation installs. Returns (crt, key) paths.
sub issue_server_cert
{
	my ($pki, $dir, $name) = @_;
	my @ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes');
	run_or_die('openssl', 'req', @ec, '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr",
		'-subj', "/CN=$name");
	write_file("$dir/$name.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
	run_or_die('openssl', 'x509', '-req', '-in', "$dir/$name.csr", '-CA', $pki->{'ca.crt'}, '-CAkey',
		$pki->{'ca.key'}, '-CAcreateserial', '-out', "$dir/$name.crt", '-days', '30', '-extfile', "$dir/$name.ext");
	return ("$dir/$name.crt", "$dir/$name.key");
}

# The subject CN of the certificate a TLS server on 127.0.0.1:port presents.
sub served_cn
{
	my ($port) = @_;
	my ($in, $out, $err) = ('', '', '');
	IPC::Run::run([ 'openssl', 's_client', '-connect', "127.0.0.1:$port", '-servername', 'localhost' ],
		'<', \$in, '>', \$out, '2>', \$err, IPC::Run::timeout(20));
	my ($cn) = $out =~ /subject=.*?CN\s*=\s*([^,\n\/]+)/;
	return $cn // '';
}

push @EXPORT, qw(issue_server_cert served_cn);

1;
