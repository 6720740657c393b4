#!/usr/bin/env bash
# Token endpoint benchmark: gatepass vs. the oidc-provider peer, measured the same way in the same run.
#
#   bench/token_endpoint.sh            (or: make bench)
#
# Knobs (environment): PORT=8090 WORKERS=2 CONNS="16 64" WARMUP=3 DURATION=10 WRK_THREADS=1
# WRK_TIMEOUT=10s SKIP_PEER=1 PEER_PORT=3001 NODE_RUNTIME=system BENCH_PEERS_DIR=<repo>/../shared/bench-peers
# See bench/README.md.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH_DIR="$REPO_ROOT/bench"

die() { echo "token_endpoint.sh: $*" >&2; exit 1; }

# --- prerequisites ------------------------------------------------------------------------------
BENCH_PEERS_DIR="${BENCH_PEERS_DIR:-$REPO_ROOT/../shared/bench-peers}"
for f in lib/common.sh lib/bench.lua run-oidc-provider.sh; do
  [[ -f "$BENCH_PEERS_DIR/$f" ]] || die "peer harness not found: $BENCH_PEERS_DIR/$f is missing.
  Set BENCH_PEERS_DIR to the bench-peers checkout (default: ../shared/bench-peers next to the repository)."
done
BENCH_PEERS_DIR="$(cd "$BENCH_PEERS_DIR" && pwd)"

GATEPASS="$REPO_ROOT/.venv/bin/gatepass"
[[ -x "$GATEPASS" ]] || die ".venv/bin/gatepass not found; create the virtualenv first
  (make run, or: python3 -m venv .venv && .venv/bin/pip install -e .)"
for tool in wrk curl python3; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (Debian/Ubuntu: apt-get install $tool)"
done

PORT="${PORT:-8090}"
WORKERS="${WORKERS:-2}"
PEER_PORT="${PEER_PORT:-3001}"
SKIP_PEER="${SKIP_PEER:-0}"
NODE_RUNTIME="${NODE_RUNTIME:-system}"
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive integer (got '$WORKERS')"
[[ "$PORT" =~ ^[0-9]+$ && "$PEER_PORT" =~ ^[0-9]+$ ]] || die "PORT / PEER_PORT must be numbers"
[[ "$PORT" != "$PEER_PORT" ]] || die "PORT and PEER_PORT must differ"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gatepass-bench.XXXXXX")"
SPID=""  # the gatepass server we started
JOB=""   # the background load/peer step in progress (see run_step)
LOADMON="" # the other-load watcher in progress (see watch_load)
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  if [[ -n "$JOB" ]]; then # interrupted mid-step: TERM it and everything it started, by PID
    kill_tree "$JOB"
    wait "$JOB" 2>/dev/null || true
  fi
  if [[ -n "$SPID" ]]; then stop_tree "$SPID"; fi
  if [[ -n "$LOADMON" ]]; then kill -TERM "$LOADMON" 2>/dev/null || true; fi
  # keep the logs and raw wrk output of the last run (git-ignored), never the data dir
  if [[ -d "$WORK/gatepass" || -d "$WORK/peer" ]]; then
    rm -rf "$BENCH_DIR/results/raw"; mkdir -p "$BENCH_DIR/results/raw"
    if [[ -d "$WORK/gatepass/raw" ]]; then cp -r "$WORK/gatepass/raw" "$BENCH_DIR/results/raw/gatepass"; fi
    if [[ -d "$WORK/peer/raw" ]]; then cp -r "$WORK/peer/raw" "$BENCH_DIR/results/raw/peer"; fi
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The shared harness: wait_port/port_free/wait_idle/tree_rss/stop_tree/cold_and_check/run_load.
# RESULTS_DIR must be set before sourcing (common.sh reads it, and CONNS/WARMUP/DURATION, once).
export RESULTS_DIR="$WORK/gatepass"
# shellcheck source=/dev/null
source "$BENCH_PEERS_DIR/lib/common.sh"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# --- fresh gatepass instance ----------------------------------------------------------------------
# Start from a clean environment: no inherited GATEPASS_* (database URL, Redis, ...).
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^GATEPASS_' || true)
export GATEPASS_DATA_DIR="$WORK/data"
export GATEPASS_PUBLIC_URL="http://127.0.0.1:$PORT"
GATEPASS_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
export GATEPASS_SECRET_KEY
export GATEPASS_ENV=development
mkdir -p "$GATEPASS_DATA_DIR"

port_free "$PORT" || die "port $PORT is in use (set PORT=...)"

# run_step OUTFILE cmd... : run a long step in the background and wait for it, so that INT/TERM
# are handled at once instead of after the step; its stdout is shown and copied to OUTFILE.
run_step() {
  local out="$1" rc=0; shift
  { "$@" | tee "$out"; } &
  JOB=$!
  wait "$JOB" || rc=$?
  JOB=""
  return "$rc"
}
# shellcheck disable=SC2317  # invoked by the EXIT trap
kill_tree() { # kill_tree PID : TERM PID and all its descendants
  local queue=("$1") all=() p k
  while ((${#queue[@]})); do
    p="${queue[0]}"; queue=("${queue[@]:1}"); all+=("$p")
    for k in $(ps -o pid= --ppid "$p" 2>/dev/null || true); do queue+=("$k"); done
  done
  for p in "${all[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
}
# shellcheck disable=SC2317  # invoked through run_step
run_peer() { # in run_step's background subshell
  cd "$BENCH_PEERS_DIR"
  exec env CLUSTER="$WORKERS" PORT="$PEER_PORT" NODE_RUNTIME="$NODE_RUNTIME" RESULTS_DIR="$WORK/peer" \
    CONNS="$CONNS" WARMUP="$WARMUP" DURATION="$DURATION" WRK_THREADS="$WRK_THREADS" \
    WRK_TIMEOUT="$WRK_TIMEOUT" ./run-oidc-provider.sh
}

# Other load: CPU used by processes that are not ours (not the script, its servers, wrk) while a
# load step runs, plus CPU stolen by the hypervisor. Shared machines and parallel jobs make it
# non-zero; it is logged and reported because it distorts the comparison.
OTHER_NOTES=""
WARNINGS=()
watch_load() { python3 "$BENCH_DIR/lib/other_load.py" "$$" "$WORK/$1.load" & LOADMON=$!; }
note_load() { # note_load LABEL : stop the watcher, log and remember what it saw
  kill -TERM "$LOADMON" 2>/dev/null || true; wait "$LOADMON" 2>/dev/null || true; LOADMON=""
  local line
  line="$(python3 - "$WORK/$1.load" "$(nproc)" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(0)
top = ", ".join(f"{n} {c:.2f}" for n, c in j["top"])
busy = j["other_cores"] + j["steal_cores"] > 0.1 * int(sys.argv[2])
print(f'{"warn" if busy else "ok"}\t{j["other_cores"]:.2f} cores other processes'
      f'{" (" + top + ")" if top else ""}, {j["steal_cores"]:.2f} cores steal')
PY
)"
  [[ -n "$line" ]] || return 0
  OTHER_NOTES+="$1: ${line#*$'\t'}; "
  if [[ "$line" == warn* ]]; then
    WARNINGS+=(--warning "during the $1 run: ${line#*$'\t'}. Its numbers are distorted.")
    log "WARNING: during the $1 run: ${line#*$'\t'}. Its numbers are distorted."
  else
    log "$1 run: ${line#*$'\t'}"
  fi
}

run_cli() { # run_cli OUTFILE args... : run a gatepass command, show its output if it fails
  local out="$1"; shift
  if ! "$GATEPASS" "$@" > "$out" 2>&1; then
    echo "token_endpoint.sh: 'gatepass $*' failed:" >&2; cat "$out" >&2; exit 1
  fi
}
log "gatepass: fresh data dir, migrate, tenant 'bench', permission api:read, client"
run_cli "$WORK/migrate.out" migrate
run_cli "$WORK/tenant.json" tenant create bench --json
run_cli "$WORK/permission.out" permission create --tenant bench api:read --label "API read"
run_cli "$WORK/client.json" client create --tenant bench --name bench --scope api:read --json
client_field() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/client.json" "$1" \
    || die "client create --json output has no '$1': $(head -c 500 "$WORK/client.json")"
}
CID="$(client_field client_id)"
CSEC="$(client_field client_secret)"
URL="$(client_field token_endpoint)"
[[ "$URL" == "http://127.0.0.1:$PORT/"* ]] || die "token_endpoint '$URL' is not on http://127.0.0.1:$PORT"

NAME="gatepass-w$WORKERS"
log "$NAME: gatepass serve --host 127.0.0.1 --port $PORT --workers $WORKERS"
"$GATEPASS" serve --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" > "$RESULTS/raw/$NAME-server.log" 2>&1 &
SPID=$!
ready=0
for ((i = 0; i < 600; i++)); do
  if ! kill -0 "$SPID" 2>/dev/null; then
    tail -n 40 "$RESULTS/raw/$NAME-server.log" >&2; SPID=""; die "gatepass serve exited during startup"
  fi
  if curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz"; then ready=1; break; fi
  sleep 0.1
done
((ready)) || { tail -n 40 "$RESULTS/raw/$NAME-server.log" >&2; die "/readyz did not answer 200 within 60 s"; }
sleep 1 # let the other workers finish booting (the peers get the same 1 s)

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
watch_load gatepass
run_step "$WORK/gatepass.summary" run_load "$NAME" "$URL" "$SPID"
note_load gatepass
stop_tree "$SPID"; SPID=""
unset BENCH_METHOD BENCH_BODY BENCH_EXPECT BENCH_HEADERS

# --- the peer, same run, same process count -------------------------------------------------------
PEER_RC=0
: > "$WORK/peer.summary"
if [[ "$SKIP_PEER" == 1 ]]; then
  log "SKIP_PEER=1: not running oidc-provider"
else
  log "oidc-provider peer: CLUSTER=$WORKERS via $BENCH_PEERS_DIR/run-oidc-provider.sh"
  watch_load oidc-provider
  run_step "$WORK/peer.summary" run_peer || PEER_RC=$?
  note_load oidc-provider
  ((PEER_RC == 0)) || log "oidc-provider peer run failed (exit $PEER_RC); reporting gatepass alone"
fi

# --- report ---------------------------------------------------------------------------------------
mkdir -p "$BENCH_DIR/results"
day="$(date -u +%Y-%m-%d)"; OUT="$BENCH_DIR/results/token-endpoint-$day.md"; n=2
while [[ -e "$OUT" ]]; do OUT="$BENCH_DIR/results/token-endpoint-$day-$n.md"; n=$((n + 1)); done

PY="$REPO_ROOT/.venv/bin/python"
meta=(
  "gatepass=$("$PY" -c 'from importlib.metadata import version; print(version("gatepass"))' 2>/dev/null || echo '?')"
  "git=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO_ROOT" diff --quiet HEAD -- 2>/dev/null || echo '+uncommitted')"
  "python=$("$PY" -c 'import platform; print(platform.python_version())')"
  "uvicorn=$("$PY" -c 'import uvicorn; print(uvicorn.__version__)' 2>/dev/null || echo '?')"
  "node=$(node --version 2>/dev/null || echo 'n/a')"
  "wrk=$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
  "cpu=$(nproc) x $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo '?')"
  "kernel=$(uname -r)"
  "other load during the runs (should be ~0; see bench/README.md)=${OTHER_NOTES%; }"
)
meta_args=()
for m in "${meta[@]}"; do meta_args+=(--meta "$m"); done
REPORT_RC=0
"$PY" "$BENCH_DIR/lib/report.py" \
  --gatepass "$WORK/gatepass.summary" --peer "$WORK/peer.summary" --markdown "$OUT" \
  --conns "$CONNS" --workers "$WORKERS" --warmup "$WARMUP" --duration "$DURATION" \
  --wrk-threads "$WRK_THREADS" --wrk-timeout "$WRK_TIMEOUT" --skip-peer "$SKIP_PEER" "${meta_args[@]}" "${WARNINGS[@]}" \
  || REPORT_RC=$?
log "results written to bench/results/$(basename "$OUT"); raw wrk output and server logs: bench/results/raw/"
((PEER_RC == 0)) || exit "$PEER_RC"
exit "$REPORT_RC"
