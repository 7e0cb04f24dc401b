#!/usr/bin/env bash
# Installs what bench/scale.sh needs beyond scripts/install-deps.sh (which CI
# uses): postgres_exporter (Debian's build, for the side-by-side comparison),
# pgbench (postgresql-contrib is part of postgresql-15), python3 for the
# statistics, libdeflate-dev for bench/compress.cpp (zlib against libdeflate). Run as root on Debian 12, after scripts/install-deps.sh.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  prometheus-postgres-exporter python3 curl procps libdeflate-dev g++ >/dev/null
# The Debian package starts a service that scrapes the local cluster as user
# postgres on :9187; the bench runs its own instance and needs neither.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus-postgres-exporter >/dev/null 2>&1 || true
fi
