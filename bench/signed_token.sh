#!/usr/bin/env bash
# Signed client authentication benchmark: gatepass's token endpoint vs. node's oidc-provider when the
# client authenticates with private_key_jwt (RFC 7523 client assertion), alone (mode "pkjwt") and with
# a DPoP proof (RFC 9449, mode "dpop"), measured the same way in the same run.
#
#   bench/signed_token.sh            (or: make bench-signed)
#
# Every request carries a fresh assertion (and proof): they are signed before each wrk run by
# bench/lib/signed_requests.py and sent one per request by bench/lib/signed.lua.
# Knobs (environment): PORT=8090 WORKERS=2 CONNS="16 64" WARMUP=3 DURATION=10 WRK_THREADS=1
# WRK_TIMEOUT=10s MODES="pkjwt dpop" HEADROOM=3 CAL_BODIES=6000 TARGET=1.5 SKIP_PEER=1 PEER_PORT=3001
# REDIS_URL=redis://127.0.0.1:6379/0 (gatepass's used-jti store and the floor's; empty: gatepass
# keeps them in its database and the floor is not run) SKIP_FLOOR=1 FLOOR_PORT=8092
# BENCH_PEERS_DIR=<repo>/../shared/bench-peers
#
# The Python floor (bench/floor/signed_floor.py) runs in the same run: bare ASGI on the same uvicorn,
# doing only what any correct server must (verify, spend the jti in Redis, sign), so that the report
# shows both gatepass / oidc-provider and gatepass / floor.
# See bench/README.md.
# shellcheck disable=SC2317  # most functions below run through run_step, which shellcheck cannot follow
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/gatepass.sh  # prerequisites, knobs, traps, serve, report
source "$(dirname "$0")/lib/gatepass.sh"

gp_prereqs lib/common.sh # of the harness, only lib/common.sh is used (wait_idle, tree_rss, ...)
gp_knobs 3001
MODES="${MODES:-pkjwt dpop}"
HEADROOM="${HEADROOM:-3}"     # pre-signed requests = HEADROOM x expected req/s x seconds of the run
CAL_BODIES="${CAL_BODIES:-6000}" # the quick 1 s run that tells the expected req/s
TARGET="${TARGET:-1.5}"        # wanted gatepass / oidc-provider req/s, in each mode
for m in $MODES; do [[ "$m" == pkjwt || "$m" == dpop ]] || die "MODES: '$m' is not pkjwt or dpop"; done
[[ "$HEADROOM" =~ ^[0-9]+(\.[0-9]+)?$ && "$CAL_BODIES" =~ ^[1-9][0-9]*$ ]] \
  || die "HEADROOM must be a number and CAL_BODIES a positive integer"
PY="$REPO_ROOT/.venv/bin/python"
SIGN="$BENCH_DIR/lib/signed_requests.py"
LUA="$BENCH_DIR/lib/signed.lua"
PEERS_NODE="$BENCH_DIR/peers"
if [[ "$SKIP_PEER" != 1 ]]; then
  for tool in node npm; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed; the oidc-provider peer needs it (or SKIP_PEER=1)"
  done
  if [[ ! -f "$PEERS_NODE/node_modules/oidc-provider/package.json" ]]; then
    log "npm ci in bench/peers (oidc-provider, as package-lock.json pins it)"
    (cd "$PEERS_NODE" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in bench/peers failed"
  fi
fi
REDIS_URL="${REDIS_URL-redis://127.0.0.1:6379/0}"
if [[ -n "$REDIS_URL" ]]; then
  "$PY" -c 'import redis, sys; redis.Redis.from_url(sys.argv[1], socket_timeout=2).ping()' "$REDIS_URL" 2>/dev/null \
    || die "no Redis answers at REDIS_URL=$REDIS_URL (start one, or REDIS_URL= to keep used jti in the database)"
fi
gp_start
if [[ -n "$REDIS_URL" ]]; then export GATEPASS_REDIS_URL="$REDIS_URL"; fi # gp_start cleared GATEPASS_*
export SIGNED_THREADS="$WRK_THREADS" SIGNED_REQUESTS="$WORK/signed.txt" # read by bench/lib/signed.lua

# --- keys ---------------------------------------------------------------------------------------------
KEYS="$WORK/keys"
"$PY" "$SIGN" keys "$KEYS" || die "could not create the keys"
log "client key: ES256, public JWKS $(cat "$KEYS/client-jwks.json")"

# --- helpers ------------------------------------------------------------------------------------------
sign() { # sign FILE COUNT MODE : COUNT pre-signed requests for the server being measured
  local dpop=()
  [[ "$3" == dpop ]] && dpop=(--dpop)
  "$PY" "$SIGN" make "$KEYS" --client-id "$CID" --url "$URL" --count "$2" "${dpop[@]}" --out "$1" 2>&1 \
    | while IFS= read -r l; do log "  $l"; done
  [[ -s "$1" ]] || die "signing $2 requests failed"
}

send_line() { # send_line OUT_PREFIX FILE N : POST line N of FILE; prints "code seconds"
  local line body proof hdr=()
  line="$(sed -n "${3}p" "$2")"
  body="${line%%$'\t'*}"
  if [[ "$line" == *$'\t'* ]]; then proof="${line#*$'\t'}"; hdr=(-H "DPoP: $proof"); fi
  curl -s -X POST -o "$1-body.txt" -w '%{http_code} %{time_total}' "${hdr[@]}" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-raw "$body" "$URL"
}

# check_mode NAME MODE : a first and a second request of the mode, each with its own assertion (and
# proof), must get 200 and a JWT of the right token_type; then the second one, replayed, is logged.
# Sets COLD_MS, WARM_MS and exports BENCH_EXPECT (the markers every body must contain, in the
# server's JSON form: with or without a blank after the colon), which bench/lib/signed.lua checks.
check_mode() {
  local name="$1" mode="$2" f="$WORK/check.txt" out code t i replays=""
  sign "$f" 3 "$mode"
  out="$(send_line "$RESULTS/raw/$name-cold" "$f" 1)"; code=${out% *}; t=${out#* }
  COLD_MS="$(awk -v t="$t" 'BEGIN{printf "%.1f", t*1000}')"
  if [[ "$code" != 200 ]]; then
    log "$name: first request: HTTP $code $(head -c 400 "$RESULTS/raw/$name-cold-body.txt")"; return 1
  fi
  out="$(send_line "$RESULTS/raw/$name-warm" "$f" 2)"; code=${out% *}; t=${out#* }
  WARM_MS="$(awk -v t="$t" 'BEGIN{printf "%.1f", t*1000}')"
  [[ "$code" == 200 ]] || { log "$name: second request: HTTP $code $(head -c 400 "$RESULTS/raw/$name-warm-body.txt")"; return 1; }
  log "$name: first request ${COLD_MS} ms, next ${WARM_MS} ms (HTTP 200): $(head -c 300 "$RESULTS/raw/$name-warm-body.txt")…"
  BENCH_EXPECT="$(python3 - "$RESULTS/raw/$name-warm-body.txt" "$mode" <<'PY'
import base64, json, re, sys
raw = open(sys.argv[1]).read()
body = json.loads(raw)
tok, kind = body.get("access_token", ""), ("DPoP" if sys.argv[2] == "dpop" else "Bearer")
if tok.count(".") != 2 or body.get("token_type") != kind:
    sys.exit(f"want a JWT access_token and token_type {kind}: " + raw[:300])
seg = tok.split(".")
head, claims = (json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))) for s in seg[:2])
if kind == "DPoP" and "jkt" not in (claims.get("cnf") or {}):
    sys.exit("a DPoP token without cnf.jkt: " + json.dumps(claims))
print(f"JWT header {json.dumps(head)} payload {json.dumps(claims)}", file=sys.stderr)
markers = [re.search(r'"access_token":\s?"ey', raw), re.search(r'"token_type":\s?"' + kind + '"', raw)]
if not all(markers):
    sys.exit("markers not found: " + raw[:300])
print("|".join(m.group(0) for m in markers))
PY
)" || return 1
  export BENCH_EXPECT
  log "$name: every response must be a 200 containing: $BENCH_EXPECT"
  for i in 1 2; do # the same assertion (and proof) again: a replay. oidc-provider keeps used jti per process
    out="$(send_line "$RESULTS/raw/$name-replay$i" "$f" 2)"; replays+=" ${out% *}"
  done
  log "$name: the second request replayed twice: HTTP$replays"
}

# signed_run C SECONDS RAW_FILE [--latency] : one wrk run over $WORK/signed.txt; prints its BENCHJSON
signed_run() {
  local c="$1" secs="$2" raw="$3"; shift 3
  wrk -t"$WRK_THREADS" -c"$c" -d"${secs}s" --timeout "$WRK_TIMEOUT" "$@" -s "$LUA" "$URL" > "$raw" 2>&1 || true
  grep '^BENCHJSON ' "$raw" | sed 's/^BENCHJSON //' || true
}

jget() { python3 -c 'import json, sys; print(json.loads(sys.argv[2])[sys.argv[1]])' "$1" "$2"; }
count_for() { # count_for SECONDS : HEADROOM x RATE x SECONDS, at least 1000
  awk -v h="$HEADROOM" -v r="$RATE" -v s="$1" 'BEGIN{n = int(h * r * s + 0.999); print (n < 1000 ? 1000 : n)}'
}

# measure_mode NAME MODE SPID SUMMARY : calibrate, then for each concurrency a warm-up and a measured
# run, each over requests signed just before it; one summary line per concurrency -> SUMMARY
measure_mode() {
  local name="$1" mode="$2" spid="$3" summary="$4" c cmax=0 n json f="$SIGNED_REQUESTS"
  local t0 t1 w0 w1 srvcpu rps exhausted signed_at
  for c in $CONNS; do ((c > cmax)) && cmax=$c; done
  # the expected req/s: a quick 1 s run at the highest concurrency
  n="$CAL_BODIES"; RATE=0
  for _ in 1 2 3; do
    wait_idle "$spid"
    sign "$f" "$n" "$mode"
    json="$(signed_run "$cmax" 1 "$RESULTS/raw/$name-calibrate.txt")"
    [[ -n "$json" ]] || { cat "$RESULTS/raw/$name-calibrate.txt" >&2; die "$name: wrk produced no summary"; }
    RATE="$(jget rps "$json")"
    [[ "$(jget exhausted "$json")" == 0 ]] && break
    log "$name: the 1 s run used all $n requests; again with $((n * 4))"
    n=$((n * 4)); RATE=0
  done
  awk -v r="$RATE" 'BEGIN{exit !(r > 0)}' || die "$name: the 1 s run did not tell the req/s: $json"
  log "$name: 1 s run at c=$cmax: $RATE req/s ($(jget non2xx "$json") non2xx, $(jget bad_body "$json") bad body)"
  for c in $CONNS; do
    wait_idle "$spid"
    sign "$f" "$(count_for "$WARMUP")" "$mode"
    json="$(signed_run "$c" "$WARMUP" "$RESULTS/raw/$name-c$c-warmup.txt")"
    if [[ -n "$json" && "$(jget exhausted "$json")" == 0 ]]; then
      RATE="$(awk -v a="$RATE" -v b="$(jget rps "$json")" 'BEGIN{print (b > a ? b : a)}')"
    fi
    n="$(count_for "$DURATION")"
    signed_at=$(date +%s)
    sign "$f" "$n" "$mode"
    wait_idle "$spid"
    t0=$(tree_cpu_ticks "$spid"); w0=$(date +%s.%N)
    json="$(signed_run "$c" "$DURATION" "$RESULTS/raw/$name-c$c.txt" --latency)"
    t1=$(tree_cpu_ticks "$spid"); w1=$(date +%s.%N)
    log "$name c=$c: the run ended $(($(date +%s) - signed_at)) s after its requests were signed (iat)"
    tree_rss "$spid"
    srvcpu=$(awk -v a="$t0" -v b="$t1" -v x="$w0" -v y="$w1" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz/(y-x)}')
    rm -f "$f"
    if [[ -z "$json" ]]; then log "$name c=$c: wrk produced no summary:"; cat "$RESULTS/raw/$name-c$c.txt" >&2; continue; fi
    local line
    line="$(python3 - "$json" "$TREE_RSS_KIB" <<'PY'
import json, sys
j = json.loads(sys.argv[1]); rss = int(sys.argv[2]) / 1024
socks = j["err_connect"] + j["err_read"] + j["err_write"]
print(f'rps={j["rps"]:.1f} p50={j["p50_ms"]:.2f}ms p99={j["p99_ms"]:.2f}ms non2xx={j["non2xx"]}'
      f' bad_body={j["bad_body"]} timeouts={j["err_timeout"]} sock_errs={socks} rss={rss:.1f}MiB'
      f'\t used={j["used"]} signed={j["lines"]} exhausted={j["exhausted"]}')
PY
)"
    rps="${line%%$'\t'*}"; exhausted="${line#*$'\t'}"
    echo "$name c=$c: $rps [${TREE_DETAIL% }] server_cpu=${srvcpu}cores cold=${COLD_MS:-?}ms$exhausted" | tee -a "$summary"
    if [[ "$exhausted" != *" exhausted=0" ]]; then
      log "$name c=$c: INVALID: wrk ran out of pre-signed requests ($exhausted); raise HEADROOM"
    fi
    local fb; fb="$(jget first_bad "$json")"
    if [[ -n "$fb" ]]; then log "$name c=$c first bad response: $fb"; fi
  done
}

# measure_server NAME_PREFIX SPID : every mode against the server listening at $URL
measure_server() {
  local prefix="$1" spid="$2" mode
  for mode in $MODES; do
    check_mode "$prefix-$mode" "$mode" || die "$prefix-$mode: the check requests failed (logs: bench/results/raw/)"
    measure_mode "$prefix-$mode" "$mode" "$spid" "$WORK/$prefix-$mode.summary"
  done
}

# --- gatepass -----------------------------------------------------------------------------------------
log "gatepass: fresh data dir, migrate, tenant 'bench', permission api:read, client with public keys"
run_cli "$WORK/migrate.out" migrate
run_cli "$WORK/tenant.json" tenant create bench --json
run_cli "$WORK/permission.out" permission create --tenant bench api:read --label "API read"
run_cli "$WORK/client.json" client create --tenant bench --name bench --scope api:read \
  --jwks-file "$KEYS/client-jwks.json" --json
CID="$(json_field "$WORK/client.json" client_id)"
URL="$(json_field "$WORK/client.json" token_endpoint)"
[[ "$URL" == "http://127.0.0.1:$PORT/"* ]] || die "token_endpoint '$URL' is not on http://127.0.0.1:$PORT"
GP_NAME="gatepass-w$WORKERS"
gp_serve "$GP_NAME"
watch_load gatepass
run_step "$WORK/gatepass.out" measure_server "$GP_NAME" "$SPID"
note_load gatepass
stop_tree "$SPID"; SPID=""

# --- the Python floor, same run, same process count, same Redis ---------------------------------------
FLOOR_NAME="python-floor-signed-w$WORKERS"
if [[ "$SKIP_FLOOR" == 1 || -z "$REDIS_URL" ]]; then
  log "not running the Python floor (SKIP_FLOOR=1, or no REDIS_URL for its replay store)"
else
  export RESULTS="$WORK/floor"; mkdir -p "$RESULTS/raw"
  port_free "$FLOOR_PORT" || die "port $FLOOR_PORT is in use (set FLOOR_PORT=...)"
  CID=floor-client
  URL="http://127.0.0.1:$FLOOR_PORT/token"
  log "$FLOOR_NAME: uvicorn bench/floor/signed_floor.py, $WORKERS workers"
  (cd "$BENCH_DIR/floor" && FLOOR_CLIENT_ID="$CID" FLOOR_CLIENT_JWKS="$KEYS/client-jwks.json" \
    FLOOR_TOKEN_URL="$URL" FLOOR_REDIS_URL="$REDIS_URL" exec "$REPO_ROOT/.venv/bin/uvicorn" signed_floor:app \
    --host 127.0.0.1 --port "$FLOOR_PORT" --workers "$WORKERS" --loop uvloop --http httptools \
    --no-access-log --log-level warning) > "$RESULTS/raw/$FLOOR_NAME-server.log" 2>&1 &
  SPID=$!
  wait_port "$FLOOR_PORT" 60 || { tail -n 40 "$RESULTS/raw/$FLOOR_NAME-server.log" >&2; die "the floor did not start"; }
  sleep 2 # let every worker finish booting
  watch_load floor
  run_step "$WORK/floor.out" measure_server "$FLOOR_NAME" "$SPID"
  note_load floor
  stop_tree "$SPID"; SPID=""
fi

# --- oidc-provider, same run, same process count ------------------------------------------------------
PEER_RC=0
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo '?')"
PEER_NAME="oidc-provider-node$NODE_MAJOR-p$WORKERS"
if [[ "$SKIP_PEER" == 1 ]]; then
  log "SKIP_PEER=1: not running oidc-provider"
else
  export RESULTS="$WORK/peer"; mkdir -p "$RESULTS/raw"
  port_free "$PEER_PORT" || die "port $PEER_PORT is in use (set PEER_PORT=...)"
  CID=bench-signed
  URL="http://127.0.0.1:$PEER_PORT/token"
  log "$PEER_NAME: node $(node --version) bench/peers/oidc-provider-signed.mjs, CLUSTER=$WORKERS"
  NODE_ENV=production PORT="$PEER_PORT" CLUSTER="$WORKERS" CLIENT_ID="$CID" CLIENT_JWKS="$KEYS/client-jwks.json" \
    node "$PEERS_NODE/oidc-provider-signed.mjs" > "$RESULTS/raw/$PEER_NAME-server.log" 2>&1 &
  SPID=$!
  wait_port "$PEER_PORT" 30 || { tail -n 40 "$RESULTS/raw/$PEER_NAME-server.log" >&2; die "oidc-provider did not start"; }
  sleep 1 # as the harness: let every process of the cluster finish booting
  watch_load oidc-provider
  run_step "$WORK/peer.out" measure_server "$PEER_NAME" "$SPID" || PEER_RC=$?
  note_load oidc-provider
  stop_tree "$SPID"; SPID=""
  ((PEER_RC == 0)) || log "oidc-provider run failed (exit $PEER_RC); reporting gatepass alone"
fi

# --- report -------------------------------------------------------------------------------------------
day="$(date -u +%Y-%m-%d)"; out="$BENCH_DIR/results/signed-token-$day.md"; n=2
while [[ -e "$out" ]]; do out="$BENCH_DIR/results/signed-token-$day-$n.md"; n=$((n + 1)); done
JTI_STORE="gatepass: its SQLite database (no floor)"
[[ -z "$REDIS_URL" ]] || JTI_STORE="Redis at $REDIS_URL, gatepass and the floor"
meta=(
  "gatepass=$("$PY" -c 'from importlib.metadata import version; print(version("gatepass"))' 2>/dev/null || echo '?')"
  "git=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO_ROOT" diff --quiet HEAD -- 2>/dev/null || echo '+uncommitted')"
  "python=$("$PY" -c 'import platform; print(platform.python_version())')"
  "PyJWT=$("$PY" -c 'import jwt; print(jwt.__version__)')"
  "node=$(node --version 2>/dev/null || echo 'n/a')"
  "oidc-provider=$(node -p "require('$PEERS_NODE/node_modules/oidc-provider/package.json').version" 2>/dev/null || echo 'n/a')"
  "used-jti store=$JTI_STORE"
  "wrk=$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
  "cpu=$(nproc) x $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo '?')"
  "kernel=$(uname -r)"
  "other load during the runs (should be ~0; see bench/README.md)=${OTHER_NOTES%; }"
)
args=()
for m in "${meta[@]}"; do args+=(--meta "$m"); done
for m in $MODES; do
  args+=(--mode "$m" "$WORK/$GP_NAME-$m.summary" "$WORK/$PEER_NAME-$m.summary")
  args+=(--floor "$m" "$WORK/$FLOOR_NAME-$m.summary")
done
report_rc=0
"$PY" "$BENCH_DIR/lib/report_signed.py" --markdown "$out" --conns "$CONNS" --workers "$WORKERS" \
  --warmup "$WARMUP" --duration "$DURATION" --wrk-threads "$WRK_THREADS" --wrk-timeout "$WRK_TIMEOUT" \
  --headroom "$HEADROOM" --target "$TARGET" --skip-peer "$SKIP_PEER" "${args[@]}" "${WARNINGS[@]}" || report_rc=$?
log "results written to bench/results/$(basename "$out"); raw wrk output and server logs: bench/results/raw/"
((PEER_RC == 0)) || exit "$PEER_RC"
exit "$report_rc"
