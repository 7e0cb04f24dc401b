#!/usr/bin/env bash
# Installs what pg_exporter needs to build, run and test on Debian 12.
# Run as root. Used by .ci/run and scripts/quickstart.sh.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# postgresql-15: the server; -server-dev-15: headers and PGXS; prometheus-cpp-dev:
# the metric data model; libipc-run-perl: the TAP framework; prometheus: promtool;
# curl: the quickstart's first scrape; libssl-dev: libcrypto for the ssl collector's
# certificate parsing (and the openssl CLI the TLS tests use); clang-14 and
# libclang-rt-14-dev: the libFuzzer targets (make fuzz); the endpoint: libssl-dev
# (TLS), libisal-dev (gzip: ISA-L igzip; zlib1g-dev is the fallback), zlib1g-dev, libcrypt-dev (bcrypt via libxcrypt's crypt_r),
# libyaml-cpp-dev (the web config file); prometheus-postgres-exporter: the TAP test that
# gives postgres_exporter and us the same web config file.
apt-get install -y -qq --no-install-recommends \
  build-essential pkg-config ca-certificates \
  postgresql-15 postgresql-server-dev-15 postgresql-client-15 \
  prometheus-cpp-dev libipc-run-perl prometheus curl libssl-dev openssl \
  clang-14 libclang-rt-14-dev \
  libisal-dev zlib1g-dev libcrypt-dev libyaml-cpp-dev prometheus-postgres-exporter >/dev/null
# The package starts a service scraping the local cluster on :9187; the tests
# run their own instance.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
fi
