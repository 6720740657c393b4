# shellcheck shell=bash
# shellcheck disable=SC2034  # globals read by the sourcing script
# Shared parts of the gatepass benchmarks (bench/token_endpoint.sh, bench/verify_endpoint.sh):
# prerequisites, knobs, a fresh GATEPASS_* environment, the EXIT trap that stops every server,
# the other-load watcher, `gatepass serve` until /readyz, the peer run and the report.
#
# Source it after `set -euo pipefail`, then, in this order:
#   gp_prereqs PEER_SCRIPT             harness, .venv/bin/gatepass, wrk/curl/python3
#   gp_knobs DEFAULT_PEER_PORT         PORT WORKERS PEER_PORT SKIP_PEER
#   gp_start                           temp dir, traps, the harness' lib/common.sh, fresh env
#   run_cli OUTFILE gatepass-args...   set up the instance
#   gp_serve NAME                      start gatepass, wait for /readyz (SPID)
#   (cold_and_check, export BENCH_METHOD/BENCH_BODY/BENCH_HEADERS/BENCH_EXPECT)
#   gp_measure NAME URL                run_load on gatepass, then stop it
#   gp_peer LABEL PEER_SCRIPT VAR=VALUE...   the peer's own script (unless SKIP_PEER=1)
#   gp_floor JOB                       the harness' Python floor (unless SKIP_FLOOR=1)
#   gp_report FILE_PREFIX report.py-args...  table + markdown, then exit with the run's status

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/.." && pwd)"
SCRIPT_NAME="$(basename "$0")"

die() { echo "$SCRIPT_NAME: $*" >&2; exit 1; }

# --- prerequisites ------------------------------------------------------------------------------
gp_prereqs() { # gp_prereqs PEER_SCRIPT
  local f tool
  BENCH_PEERS_DIR="${BENCH_PEERS_DIR:-$REPO_ROOT/../shared/bench-peers}"
  for f in lib/common.sh lib/bench.lua "$1"; do
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
}

gp_knobs() { # gp_knobs DEFAULT_PEER_PORT
  PORT="${PORT:-8090}"
  WORKERS="${WORKERS:-2}"
  PEER_PORT="${PEER_PORT:-$1}"
  SKIP_PEER="${SKIP_PEER:-0}"
  FLOOR_PORT="${FLOOR_PORT:-8092}"
  SKIP_FLOOR="${SKIP_FLOOR:-0}"
  [[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "WORKERS must be a positive integer (got '$WORKERS')"
  [[ "$PORT" =~ ^[0-9]+$ && "$PEER_PORT" =~ ^[0-9]+$ ]] || die "PORT / PEER_PORT must be numbers"
  [[ "$FLOOR_PORT" =~ ^[0-9]+$ ]] || die "FLOOR_PORT must be a number"
  [[ "$PORT" != "$PEER_PORT" && "$PORT" != "$FLOOR_PORT" ]] || die "PORT, PEER_PORT and FLOOR_PORT must differ"
}

# --- temp dir, traps, harness, fresh environment ----------------------------------------------------
SPID=""    # the gatepass server we started
JOB=""     # the background load/peer step in progress (see run_step)
LOADMON="" # the other-load watcher in progress (see watch_load)
WORK=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  if [[ -n "$JOB" ]]; then # interrupted mid-step: TERM it and everything it started, by PID
    kill_tree "$JOB"
    wait "$JOB" 2>/dev/null || true
  fi
  if [[ -n "$SPID" ]]; then stop_tree "$SPID"; fi
  if [[ -n "$LOADMON" ]]; then # let it write its file before the temp dir goes
    kill -TERM "$LOADMON" 2>/dev/null || true; wait "$LOADMON" 2>/dev/null || true
  fi
  # keep the logs and raw wrk output of the last run (git-ignored), never the data dir
  if [[ -d "$WORK/gatepass" || -d "$WORK/peer" || -d "$WORK/floor" ]]; then
    rm -rf "$BENCH_DIR/results/raw"; mkdir -p "$BENCH_DIR/results/raw"
    local d
    for d in gatepass peer floor; do
      if [[ -d "$WORK/$d/raw" ]]; then cp -r "$WORK/$d/raw" "$BENCH_DIR/results/raw/$d"; fi
    done
  fi
  if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
  exit "$rc"
}

gp_start() {
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/gatepass-bench.XXXXXX")"
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  # The shared harness: wait_port/port_free/wait_idle/tree_rss/stop_tree/cold_and_check/run_load.
  # RESULTS_DIR must be set before sourcing (common.sh reads it, and CONNS/WARMUP/DURATION, once).
  export RESULTS_DIR="$WORK/gatepass"
  # shellcheck source=/dev/null
  source "$BENCH_PEERS_DIR/lib/common.sh"

  # Start from a clean environment: no inherited GATEPASS_* (database URL, Redis, ...).
  local var
  while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^GATEPASS_' || true)
  export GATEPASS_DATA_DIR="$WORK/data"
  export GATEPASS_PUBLIC_URL="http://127.0.0.1:$PORT"
  GATEPASS_SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  export GATEPASS_SECRET_KEY
  export GATEPASS_ENV=development
  mkdir -p "$GATEPASS_DATA_DIR"

  port_free "$PORT" || die "port $PORT is in use (set PORT=...)"
}
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

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

# --- gatepass ---------------------------------------------------------------------------------------
run_cli() { # run_cli OUTFILE args... : run a gatepass command, show its output if it fails
  local out="$1"; shift
  if ! "$GATEPASS" "$@" > "$out" 2>&1; then
    echo "$SCRIPT_NAME: 'gatepass $*' failed:" >&2; cat "$out" >&2; exit 1
  fi
}
json_field() { # json_field FILE KEY : print one field of a JSON object (a CLI's --json output)
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" \
    || die "$(basename "$1") has no '$2': $(head -c 500 "$1")"
}

gp_serve() { # gp_serve NAME : start gatepass serve, wait for /readyz, then 1 s for the other workers
  local name="$1" ready=0 i
  log "$name: gatepass serve --host 127.0.0.1 --port $PORT --workers $WORKERS"
  "$GATEPASS" serve --host 127.0.0.1 --port "$PORT" --workers "$WORKERS" > "$RESULTS/raw/$name-server.log" 2>&1 &
  SPID=$!
  for ((i = 0; i < 600; i++)); do
    if ! kill -0 "$SPID" 2>/dev/null; then
      tail -n 40 "$RESULTS/raw/$name-server.log" >&2; SPID=""; die "gatepass serve exited during startup"
    fi
    if curl -fs -o /dev/null "http://127.0.0.1:$PORT/readyz"; then ready=1; break; fi
    sleep 0.1
  done
  ((ready)) || { tail -n 40 "$RESULTS/raw/$name-server.log" >&2; die "/readyz did not answer 200 within 60 s"; }
  sleep 1 # let the other workers finish booting (the peers get the same 1 s)
}

gp_measure() { # gp_measure NAME URL : the harness' run_load against gatepass (BENCH_* set), then stop it
  watch_load gatepass
  run_step "$WORK/gatepass.summary" run_load "$1" "$2" "$SPID"
  note_load gatepass
  stop_tree "$SPID"; SPID=""
  unset BENCH_METHOD BENCH_BODY BENCH_EXPECT BENCH_HEADERS
}

# --- the peer, same run, same process count ------------------------------------------------------------
# shellcheck disable=SC2317  # invoked through run_step
run_peer() { # run_peer DIR SCRIPT VAR=VALUE... : in run_step's background subshell; VAR=VALUE may set PORT
  local dir="$1" script="$2"; shift 2
  cd "$BENCH_PEERS_DIR" || exit
  [[ "$script" == /* ]] || script="./$script" # the harness' own scripts, or one of bench/floor/
  exec env PORT="$PEER_PORT" RESULTS_DIR="$WORK/$dir" BENCH_PEERS_DIR="$BENCH_PEERS_DIR" \
    CONNS="$CONNS" WARMUP="$WARMUP" DURATION="$DURATION" WRK_THREADS="$WRK_THREADS" \
    WRK_TIMEOUT="$WRK_TIMEOUT" "$@" "$script"
}
PEER_RC=0
gp_peer() { # gp_peer LABEL SCRIPT VAR=VALUE... : run the peer's own script; its summary lines -> $WORK/peer.summary
  local label="$1" script="$2"; shift 2
  PEER_RC=0
  : > "$WORK/peer.summary"
  if [[ "$SKIP_PEER" == 1 ]]; then
    log "SKIP_PEER=1: not running $label"
    return 0
  fi
  log "$label peer: $* via $BENCH_PEERS_DIR/$script"
  watch_load "$label"
  run_step "$WORK/peer.summary" run_peer peer "$script" "$@" || PEER_RC=$?
  note_load "$label"
  ((PEER_RC == 0)) || log "$label peer run failed (exit $PEER_RC); reporting gatepass alone"
}

# The Python floor: bare ASGI on the same uvicorn, with this virtualenv, doing only the least work of
# the endpoint. JOB=token and hello are the harness' run-python-floor.sh (floor/floor_app.py);
# JOB=verify is bench/floor/run-verify-floor.sh. Its summary lines -> $WORK/floor.summary.
FLOOR_RC=0
gp_floor() { # gp_floor JOB : token (the token endpoint's floor), verify (the verify endpoint's), hello
  local script="$BENCH_PEERS_DIR/run-python-floor.sh"
  FLOOR_RC=0
  : > "$WORK/floor.summary"
  if [[ "$SKIP_FLOOR" == 1 ]]; then
    log "SKIP_FLOOR=1: not running the Python floor"
    return 0
  fi
  if [[ "$1" == verify ]]; then script="$BENCH_DIR/floor/run-verify-floor.sh"; fi
  [[ -f "$script" ]] || die "$script is missing"
  log "python floor: JOB=$1 CLUSTER=$WORKERS via $script"
  watch_load floor
  run_step "$WORK/floor.summary" run_peer floor "$script" \
    VENV="$REPO_ROOT/.venv" CLUSTER="$WORKERS" JOB="$1" PORT="$FLOOR_PORT" || FLOOR_RC=$?
  note_load floor
  ((FLOOR_RC == 0)) || log "python floor run failed (exit $FLOOR_RC); reporting without it"
}

# --- report -------------------------------------------------------------------------------------------
PEER_META=() # KEY=VALUE rows about the peer for the Environment table, set by the script
gp_report() { # gp_report FILE_PREFIX report.py-args... : bench/results/FILE_PREFIX-<date>[-n].md; exits
  local prefix="$1" day out n=2 m report_rc=0 py="$REPO_ROOT/.venv/bin/python"; shift
  mkdir -p "$BENCH_DIR/results"
  day="$(date -u +%Y-%m-%d)"; out="$BENCH_DIR/results/$prefix-$day.md"
  while [[ -e "$out" ]]; do out="$BENCH_DIR/results/$prefix-$day-$n.md"; n=$((n + 1)); done

  local meta=(
    "gatepass=$("$py" -c 'from importlib.metadata import version; print(version("gatepass"))' 2>/dev/null || echo '?')"
    "git=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO_ROOT" diff --quiet HEAD -- 2>/dev/null || echo '+uncommitted')"
    "python=$("$py" -c 'import platform; print(platform.python_version())')"
    "uvicorn=$("$py" -c 'import uvicorn; print(uvicorn.__version__)' 2>/dev/null || echo '?')"
    "${PEER_META[@]}"
    "wrk=$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
    "cpu=$(nproc) x $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo '?')"
    "kernel=$(uname -r)"
    "other load during the runs (should be ~0; see bench/README.md)=${OTHER_NOTES%; }"
  )
  local meta_args=()
  for m in "${meta[@]}"; do meta_args+=(--meta "$m"); done
  "$py" "$BENCH_DIR/lib/report.py" \
    --gatepass "$WORK/gatepass.summary" --peer "$WORK/peer.summary" --floor "$WORK/floor.summary" \
    --skip-floor "$SKIP_FLOOR" --markdown "$out" \
    --conns "$CONNS" --workers "$WORKERS" --warmup "$WARMUP" --duration "$DURATION" \
    --wrk-threads "$WRK_THREADS" --wrk-timeout "$WRK_TIMEOUT" --skip-peer "$SKIP_PEER" "${meta_args[@]}" "${WARNINGS[@]}" \
    "$@" || report_rc=$?
  log "results written to bench/results/$(basename "$out"); raw wrk output and server logs: bench/results/raw/"
  ((PEER_RC == 0)) || exit "$PEER_RC"
  ((FLOOR_RC == 0)) || exit "$FLOOR_RC"
  exit "$report_rc"
}
