#!/usr/bin/env bash
# The Python floor of an API-key verify endpoint (verify_floor.py): bare ASGI on uvicorn (uvloop,
# httptools) doing only Basic parse + HMAC compare, JSON parse, HMAC of the key and a dict lookup.
# Run by bench/verify_endpoint.sh beside gatepass, with the bench-peers harness' lib/common.sh.
#   BENCH_PEERS_DIR=... VENV=/path/to/.venv CLUSTER=2 PORT=8092 bench/floor/run-verify-floor.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$BENCH_PEERS_DIR/lib/common.sh"
WORKERS=${CLUSTER:-2} PORT=${PORT:-8092} VENV=${VENV:-$here/../../.venv}
NAME="python-floor-verify-w$WORKERS"
port_free "$PORT"
(cd "$here" && exec "$VENV/bin/uvicorn" verify_floor:app --host 127.0.0.1 --port "$PORT" \
  --workers "$WORKERS" --loop uvloop --http httptools --no-access-log --log-level warning) \
  > "$RESULTS/raw/$NAME-server.log" 2>&1 &
SPID=$!
trap 'stop_tree $SPID' EXIT
wait_port "$PORT" 60; sleep 2
URL="http://127.0.0.1:$PORT/realms/bench/api-keys/verify"
BASIC="Authorization: Basic $(echo -n "floor-client:gpcs_floorsecretfloorsecretfloorsecret12" | base64 -w0)"
BODY='{"key":"gpk_floorkeyfloorkeyfloorkeyfloorkey123456"}'
cold_and_check "$NAME" POST "$URL" '"valid":true' -H "${BASIC}" -H 'Content-Type: application/json' -d "$BODY"
export BENCH_METHOD=POST BENCH_BODY="$BODY" BENCH_HEADERS="$BASIC|Content-Type: application/json" \
  BENCH_EXPECT='"valid":true'
run_load "$NAME" "$URL" "$SPID"
