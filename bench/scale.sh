#!/usr/bin/env bash
# Scale benchmark: token and verify throughput with 1 and 2 processes, with 1k and 1M stored API
# keys and 100k OAuth clients on PostgreSQL, listing pages and revoke-all of 100k keys timed.
#
#   bench/scale.sh                  (or: make bench-scale)
#
# Knobs (environment): PORT=8090 CONNS=32 WARMUP=2 DURATION=8 ROUNDS=3 WRK_THREADS=1
# KEYS_SMALL=1000 KEYS_LARGE=1000000 CLIENTS_SMALL=1000 CLIENTS_LARGE=100000 REVOKE_KEYS=100000
# SCALE_PG=postgresql+psycopg://postgres@127.0.0.1:5432/postgres SCALE_DB_PREFIX=gatepass_scale
# REUSE=1 with SCALE_STATE=DIR keeps the databases of an earlier run. See bench/README.md.
set -euo pipefail

cd "$(dirname "$0")/.."
die() { echo "scale.sh: $*" >&2; exit 1; }
[[ -x .venv/bin/gatepass ]] || die ".venv/bin/gatepass not found; run 'make run' or 'make bench-scale' first"
for tool in wrk; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (Debian/Ubuntu: apt-get install $tool)"
done
exec .venv/bin/python bench/lib/scale.py
