#!/usr/bin/env bash
# API-key verify benchmark: gatepass vs. the djangorestframework-api-key peer and the Python floor
# of a verify endpoint (bench/floor/verify_floor.py), measured the same way in the same run.
#
#   bench/verify_endpoint.sh           (or: make bench-verify)
#
# TARGET=gateway measures the gateway check (GET /realms/bench/gateway/check with X-API-Key, the
# request nginx's auth_request sends) instead of the verify endpoint, against the same peer and floor.
# Knobs (environment): TARGET=verify PORT=8090 WORKERS=2 CONNS="16 64" WARMUP=3 DURATION=10 WRK_THREADS=1
# WRK_TIMEOUT=10s SKIP_PEER=1 PEER_PORT=8002 SKIP_FLOOR=1 FLOOR_PORT=8092
# BENCH_PEERS_DIR=<repo>/../shared/bench-peers
# See bench/README.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/gatepass.sh  # prerequisites, knobs, traps, serve, peer run, report
source "$(dirname "$0")/lib/gatepass.sh"

gp_prereqs run-drf-api-key.sh
gp_knobs 8002
gp_start

DECOYS=1000 # the peer has 1,000 decoy keys + 1 bench key
log "gatepass: fresh data dir, migrate, tenant 'bench', client with api_keys:verify, $DECOYS decoy keys + the bench key"
run_cli "$WORK/migrate.out" migrate
run_cli "$WORK/tenant.json" tenant create bench --json
run_cli "$WORK/client.json" client create --tenant bench --name verifier --scope api_keys:verify --json
CID="$(json_field "$WORK/client.json" client_id)"
CSEC="$(json_field "$WORK/client.json" client_secret)"

# The decoys in one process with the package's service functions (the CLI costs ~1 s per call).
if ! "$REPO_ROOT/.venv/bin/python" - "$DECOYS" > "$WORK/decoys.out" 2>&1 <<'PY'
import sys

from sqlalchemy import func, select

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.models import ApiKey
from gatepass.audit.service import Actor
from gatepass.cli.common import Runtime
from gatepass.settings import Settings
from gatepass.tenants import service as tenants

rt = Runtime(Settings())
with rt.db.transaction() as s:
    t = tenants.get_tenant(s, "bench")
    for i in range(int(sys.argv[1])):
        apikeys.create_key(
            s, t, apikeys.NewApiKey(name=f"decoy {i}"), actor=Actor.cli(), hasher=rt.hasher
        )
with rt.db.read() as s:
    t = tenants.get_tenant(s, "bench")
    print(s.scalar(select(func.count(ApiKey.id)).where(ApiKey.tenant_id == t.id)))
rt.db.dispose()
PY
then
  cat "$WORK/decoys.out" >&2; die "creating the $DECOYS decoy keys failed"
fi
[[ "$(tail -n 1 "$WORK/decoys.out")" == "$DECOYS" ]] \
  || die "expected $DECOYS keys in tenant 'bench' after creating the decoys: $(tail -c 300 "$WORK/decoys.out")"
run_cli "$WORK/apikey.json" apikey create --tenant bench --name bench --json
KEY="$(json_field "$WORK/apikey.json" key)"
log "gatepass: $DECOYS decoy keys + bench key $(json_field "$WORK/apikey.json" id)"

NAME="gatepass-w$WORKERS"
gp_serve "$NAME"

TARGET="${TARGET:-verify}"
if [[ "$TARGET" == gateway ]]; then
  URL="http://127.0.0.1:$PORT/realms/bench/gateway/check"
  # The check answers 200 with the caller in headers and no body: the headers are checked.
  EXPECT="x-gatepass-subject: $(json_field "$WORK/apikey.json" id)"
  for run in cold warm; do
    OUT="$(curl -s -o /dev/null -D "$RESULTS/raw/$NAME-$run-headers.txt" -w '%{http_code} %{time_total}' \
      -H "X-API-Key: $KEY" "$URL")" || die "GET $URL failed"
    MS="$(awk -v t="${OUT#* }" 'BEGIN{printf "%.1f", t*1000}')"
    [[ "$run" != cold ]] || COLD_MS="$MS"
    log "$NAME: $run single request $MS ms (HTTP ${OUT% *})"
    [[ "${OUT% *}" == 200 ]] && grep -qiF -- "$EXPECT" "$RESULTS/raw/$NAME-$run-headers.txt" \
      || { tail -n 40 "$RESULTS/raw/$NAME-server.log" >&2; die "GET $URL: no 200 with $EXPECT for the bench key"; }
  done
  WRONG_KEY="${KEY%?}X"; [[ "$WRONG_KEY" != "$KEY" ]] || WRONG_KEY="${KEY%?}Y"
  WRONG="$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $WRONG_KEY" "$URL")" || die "GET $URL failed"
  [[ "$WRONG" == 401 ]] || die "a wrong key got HTTP $WRONG, not 401"
  log "$NAME: wrong key -> HTTP $WRONG"
  export BENCH_METHOD=GET BENCH_BODY="" BENCH_EXPECT="" BENCH_HEADERS="X-API-Key: $KEY"
  gp_measure "$NAME" "$URL"
else
  URL="http://127.0.0.1:$PORT/realms/bench/api-keys/verify"
  BODY="{\"key\":\"$KEY\"}"
  EXPECT='"valid":true'
  if ! cold_and_check "$NAME" POST "$URL" "$EXPECT" -u "$CID:$CSEC" -H 'Content-Type: application/json' -d "$BODY"; then
    tail -n 40 "$RESULTS/raw/$NAME-server.log" >&2
    die "POST $URL did not return 200 with $EXPECT for the bench key"
  fi
  # cold_and_check checks the cold response only; the warm one must match too.
  grep -qF -- "$EXPECT" "$RESULTS/raw/$NAME-warm-body.txt" \
    || die "the warm response lacks $EXPECT: $(head -c 300 "$RESULTS/raw/$NAME-warm-body.txt")"
  # Sanity checks (logged like the peer's "wrong key -> 403"): a wrong key must not be valid, and the
  # caller must authenticate.
  WRONG_KEY="${KEY%?}X"; [[ "$WRONG_KEY" != "$KEY" ]] || WRONG_KEY="${KEY%?}Y"
  WRONG="$(curl -s -u "$CID:$CSEC" -H 'Content-Type: application/json' -d "{\"key\":\"$WRONG_KEY\"}" "$URL")" \
    || die "POST $URL failed"
  [[ "$WRONG" != *"$EXPECT"* ]] || die "a wrong key was accepted: $WRONG"
  log "$NAME: wrong key -> $WRONG"
  NOAUTH="$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$BODY" "$URL")" \
    || die "POST $URL failed"
  log "$NAME: no client credentials -> HTTP $NOAUTH (expected 401)"

  BASIC="$(printf '%s' "$CID:$CSEC" | base64 -w0)"
  export BENCH_METHOD=POST BENCH_BODY="$BODY" BENCH_EXPECT="$EXPECT" \
    BENCH_HEADERS="Authorization: Basic $BASIC|Content-Type: application/json"
  gp_measure "$NAME" "$URL"
fi

# --- the peer, same run, same process count -------------------------------------------------------
gp_peer drf-api-key run-drf-api-key.sh WORKERS="$WORKERS"

# --- the Python floor of a verify endpoint, same run, same process count ---------------------------
gp_floor verify

# --- report ---------------------------------------------------------------------------------------
PEER_META=("drf-api-key peer=$(paste -sd' ' "$BENCH_PEERS_DIR/requirements-drfapikey.txt" 2>/dev/null || echo '?')")
REQUEST="\`POST /realms/bench/api-keys/verify\` with HTTP Basic client credentials (scope
\`api_keys:verify\`) and body \`{\"key\":\"<key>\"}\`; every body must contain \`\"valid\":true\`."
[[ "$TARGET" != gateway ]] || REQUEST="\`GET /realms/bench/gateway/check\` with \`X-API-Key: <key>\`, as nginx's
\`auth_request\` sends it; every answer must be 2xx (200, the caller in headers, no body)."
PREFIX=verify-endpoint; [[ "$TARGET" != gateway ]] || PREFIX=gateway-check
gp_report "$PREFIX" \
  --title "API-key $TARGET benchmark" --peer-name drf-api-key --script bench/verify_endpoint.sh \
  --request "gatepass: $REQUEST
drf-api-key: \`GET /verify\` with \`Authorization: Api-Key <key>\` (\`HasAPIKey\`); every body must
contain \`{\"ok\":true}\`. Both hold $DECOYS decoy keys + the bench key in SQLite." \
  --peer-setup "drf-api-key gunicorn \`--workers $WORKERS\` sync" \
  --body-check "\`\"valid\":true\` (gatepass) or \`{\"ok\":true}\` (drf-api-key) in the body" \
  --rps-target 5 --floor-job verify
