#!/usr/bin/env bash
# Token endpoint benchmark: gatepass vs. the oidc-provider peer and the Python floor, measured the same
# way in the same run.
#
#   bench/token_endpoint.sh            (or: make bench)
#
# Knobs (environment): PORT=8090 WORKERS=2 CONNS="16 64" WARMUP=3 DURATION=10 WRK_THREADS=1
# WRK_TIMEOUT=10s SKIP_PEER=1 PEER_PORT=3001 NODE_RUNTIME=system SKIP_FLOOR=1 FLOOR_PORT=8092
# BENCH_PEERS_DIR=<repo>/../shared/bench-peers
# See bench/README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/gatepass.sh  # prerequisites, knobs, traps, serve, peer run, report
source "$(dirname "$0")/lib/gatepass.sh"

gp_prereqs run-oidc-provider.sh
gp_knobs 3001
NODE_RUNTIME="${NODE_RUNTIME:-system}"
gp_start

log "gatepass: fresh data dir, migrate, tenant 'bench', permission api:read, client"
run_cli "$WORK/migrate.out" migrate
run_cli "$WORK/tenant.json" tenant create bench --json
run_cli "$WORK/permission.out" permission create --tenant bench api:read --label "API read"
run_cli "$WORK/client.json" client create --tenant bench --name bench --scope api:read --json
CID="$(json_field "$WORK/client.json" client_id)"
CSEC="$(json_field "$WORK/client.json" client_secret)"
URL="$(json_field "$WORK/client.json" token_endpoint)"
[[ "$URL" == "http://127.0.0.1:$PORT/"* ]] || die "token_endpoint '$URL' is not on http://127.0.0.1:$PORT"

NAME="gatepass-w$WORKERS"
gp_serve "$NAME"

BODY='grant_type=client_credentials&scope=api:read'
if ! cold_and_check "$NAME" POST "$URL" '"access_token":' -u "$CID:$CSEC" -d "$BODY"; then
  tail -n 40 "$RESULTS/raw/$NAME-server.log" >&2
  die "POST $URL did not return 200 with an access_token"
fi
# The marker every response must contain, as in the JWT peers: '"access_token":"ey', or the same
# with the blank that json.dumps puts after the colon. Also checks the token is a 3-part JWT.
EXPECT="$(python3 - "$RESULTS/raw/$NAME-warm-body.txt" <<'PY'
import json, re, sys
raw = open(sys.argv[1]).read()
tok = json.loads(raw)["access_token"]
m = re.search(r'"access_token":\s?"ey', raw)
if not (m and tok.count(".") == 2):
    sys.exit("access_token is not a JWT: " + raw[:300])
print(m.group(0))
PY
)" || die "unexpected token response"
[[ "$EXPECT" == '"access_token":"ey' ]] || log "$NAME: note: response JSON is not compact; checking each body for '$EXPECT'"
TOK="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["access_token"])' "$RESULTS/raw/$NAME-warm-body.txt")"
log "$NAME: JWT header $(decode_jwt_header "$TOK")  payload $(decode_jwt_payload "$TOK")"
HDRS="$(curl -s -D - -o /dev/null -u "$CID:$CSEC" -d "$BODY" "$URL" | tr -d '\r' \
  | grep -iE '^(cache-control|content-type|pragma):' | tr '\n' ' ' || true)"
log "$NAME: response headers: $HDRS"

BASIC="$(printf '%s' "$CID:$CSEC" | base64 -w0)"
export BENCH_METHOD=POST BENCH_BODY="$BODY" BENCH_EXPECT="$EXPECT" \
  BENCH_HEADERS="Authorization: Basic $BASIC|Content-Type: application/x-www-form-urlencoded"
gp_measure "$NAME" "$URL"

# --- the peer, same run, same process count -------------------------------------------------------
gp_peer oidc-provider run-oidc-provider.sh CLUSTER="$WORKERS" NODE_RUNTIME="$NODE_RUNTIME"

# --- the Python floor of a token endpoint, same run, same process count ----------------------------
gp_floor token

# --- report ---------------------------------------------------------------------------------------
PEER_META=("node=$(node --version 2>/dev/null || echo 'n/a')")
gp_report token-endpoint
