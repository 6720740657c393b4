"""Side-by-side table of gatepass vs. a peer from the harness' summary lines.

Input: the stdout of ``run_load`` (bench-peers ``lib/common.sh``), one line per concurrency::

    NAME c=16: rps=6317.6 p50=2.37ms p99=7.49ms non2xx=0 bad_body=0 timeouts=0 sock_errs=0
    rss=124.8MiB [pid:MiB ...] server_cpu=1.64cores cold=8.6ms      (all on one line)

Prints the table and the gatepass/peer ratios and writes both as markdown. With --floor (the
summary of the harness' Python floor, run-python-floor.sh), the floor gets a row too, and the
gatepass/floor ratios are printed against their targets (--floor-rps-target, --floor-p99-target).
Exits 1 if a row is missing or any response failed (non-2xx, bad body, timeout, socket error):
such a run is not a valid measurement. The defaults of --title, --peer-name, --script, --request,
--peer-setup and --body-check describe the token endpoint benchmark (bench/token_endpoint.sh);
bench/verify_endpoint.sh passes its own. --rps-target adds a column to the ratio table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

LINE = re.compile(r"^(?P<name>\S+) c=(?P<c>\d+): (?P<rest>.*rps=.*)$")
PAIR = re.compile(r"(\w+)=([0-9.]+|\?)")
DETAIL = re.compile(r"\[([^\]]*)\]")
ERRORS = ("non2xx", "bad_body", "timeouts", "sock_errs")
Row = dict[str, float | str | None]


def parse(path: Path) -> tuple[str | None, dict[int, Row]]:
    name: str | None = None
    rows: dict[int, Row] = {}
    text = path.read_text() if path.exists() else ""
    for line in text.splitlines():
        m = LINE.match(line.strip())
        if not m:
            continue
        row: Row = {k: (None if v == "?" else float(v)) for k, v in PAIR.findall(m["rest"])}
        d = DETAIL.search(m["rest"])
        row["detail"] = d[1].strip() if d else ""
        name = m["name"]
        rows[int(m["c"])] = row
    return name, rows


def num(row: Row, key: str) -> float | None:
    v = row.get(key)
    return v if isinstance(v, float) else None


def fmt(v: float | None, spec: str = ",.0f") -> str:
    return "n/a" if v is None else format(v, spec)


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or not b else f"{a / b:.2f}"


def worker_rss(row: Row) -> float | None:
    """The largest process of the server's tree (pid:MiB pairs): one worker, for every server
    here, whose supervisor is smaller than its workers."""
    sizes = [float(m) for m in re.findall(r":([0-9.]+)MiB", str(row.get("detail") or ""))]
    return max(sizes) if sizes else None


def table(conns: list[int], runs: list[tuple[str, dict[int, Row]]]) -> list[str]:
    out = [
        "| server | c | req/s | p50 ms | p99 ms | RSS MiB | worker RSS MiB | server CPU | non2xx"
        " | bad_body | timeouts | sock_errs | cold ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for c in conns:
        for label, rows in runs:
            r = rows.get(c, {})
            cells = [label, str(c), fmt(num(r, "rps"))]
            cells += [fmt(num(r, "p50"), ".2f"), fmt(num(r, "p99"), ".2f")]
            cells += [fmt(num(r, "rss"), ".1f"), fmt(worker_rss(r), ".0f")]
            cells += [fmt(num(r, "server_cpu"), ".2f")]
            cells += [fmt(num(r, k)) for k in ERRORS]
            cells.append(fmt(num(r, "cold"), ".1f"))
            out.append("| " + " | ".join(cells) + " |")
    return out


def ratios(
    conns: list[int], g: dict[int, Row], p: dict[int, Row], target: float | None = None
) -> list[str]:
    head = (
        "| c | req/s (>1: gatepass faster) | p99 (<1: gatepass lower)"
        " | RSS (<1: gatepass smaller) |"
    )
    rule = "|---:|---:|---:|---:|"
    if target is not None:
        head += f" req/s ratio >= {target:g} (target) |"
        rule += ":---|"
    out = [head, rule]
    for c in conns:
        gr, pr = g.get(c, {}), p.get(c, {})
        cells = [ratio(num(gr, k), num(pr, k)) for k in ("rps", "p99", "rss")]
        if target is not None:
            cells.append(meets(num(gr, "rps"), num(pr, "rps"), target))
        out.append(f"| {c} | " + " | ".join(cells) + " |")
    return out


def meets(a: float | None, b: float | None, target: float) -> str:
    if a is None or not b:
        return "n/a"
    return "met" if a / b >= target else "**not met**"


def per_cpu(row: Row) -> float | None:
    """Requests per second per core the server used: the inverse of its CPU per request."""
    rps, cpu = num(row, "rps"), num(row, "server_cpu")
    return rps / cpu if rps is not None and cpu else None


def floor_ratios(
    conns: list[int], g: dict[int, Row], f: dict[int, Row], rps_target: float, p99_target: float
) -> list[str]:
    out = [
        "| c | req/s | p99 | req/s per server core | worker RSS"
        f" | req/s >= {rps_target:g}x (target) | p99 <= {p99_target:g}x (target) |",
        "|---:|---:|---:|---:|---:|:---|:---|",
    ]
    for c in conns:
        gr, fr = g.get(c, {}), f.get(c, {})
        grps, frps, gp99, fp99 = num(gr, "rps"), num(fr, "rps"), num(gr, "p99"), num(fr, "p99")
        cells = [ratio(grps, frps), ratio(gp99, fp99), ratio(per_cpu(gr), per_cpu(fr))]
        cells.append(ratio(worker_rss(gr), worker_rss(fr)))
        cells.append(meets(grps, frps, rps_target))
        if gp99 is None or not fp99:
            cells.append("n/a")
        else:
            cells.append("met" if gp99 / fp99 <= p99_target else "**not met**")
        out.append(f"| {c} | " + " | ".join(cells) + " |")
    return out


def problems(conns: list[int], runs: list[tuple[str, dict[int, Row], bool]]) -> list[str]:
    found = []
    for label, rows, wanted in runs:
        for c in conns:
            if c not in rows:
                if wanted:
                    found.append(f"{label} c={c}: no result")
                continue
            bad = {k: int(num(rows[c], k) or 0) for k in ERRORS if num(rows[c], k)}
            if bad:
                found.append(f"{label} c={c}: failed responses {bad}")
    return found


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gatepass", type=Path, required=True)
    ap.add_argument("--peer", type=Path, required=True)
    ap.add_argument("--floor", type=Path, help="the Python floor's summary lines")
    ap.add_argument("--skip-floor", default="1")
    ap.add_argument("--floor-name", default="python-floor", help="the floor, in labels and ratios")
    ap.add_argument("--floor-job", default="token", help="the floor's JOB (run-python-floor.sh)")
    ap.add_argument("--floor-rps-target", type=float, default=0.8)
    ap.add_argument("--floor-p99-target", type=float, default=1.3)
    ap.add_argument("--markdown", type=Path, required=True)
    ap.add_argument("--conns", required=True)
    for opt in ("workers", "warmup", "duration", "wrk-threads", "wrk-timeout", "skip-peer"):
        ap.add_argument(f"--{opt}", default="?")
    ap.add_argument("--meta", action="append", default=[], help="KEY=VALUE for the report")
    ap.add_argument("--warning", action="append", default=[], help="shown above the table")
    ap.add_argument("--title", default="Token endpoint benchmark", help="what is measured")
    ap.add_argument("--peer-name", default="oidc-provider", help="the peer, in labels and ratios")
    ap.add_argument("--script", default="bench/token_endpoint.sh", help="the script that ran")
    ap.add_argument(
        "--request",
        default="`POST` client_credentials with HTTP Basic, body"
        " `grant_type=client_credentials&scope=api:read`, ES256 JWT access token.",
        help="markdown: the request that is measured",
    )
    ap.add_argument(
        "--peer-setup",
        help="markdown: how the peer runs its processes (default: oidc-provider `CLUSTER=N`)",
    )
    ap.add_argument(
        "--body-check",
        default="a JWT in the body",
        help="what every 2xx body contained, for the validity line",
    )
    ap.add_argument("--rps-target", type=float, help="wanted gatepass/peer req/s ratio")
    return ap.parse_args()


def floor_section(a: argparse.Namespace, rows_floor: list[str]) -> list[str]:
    if not rows_floor:
        return []
    script = (
        "`bench/floor/run-verify-floor.sh`"
        if a.floor_job == "verify"
        else f"the harness' `run-python-floor.sh`, `JOB={a.floor_job}`"
    )
    return [
        f"## gatepass / {a.floor_name}",
        "",
        f"The Python floor ({script}): bare ASGI on the same",
        "uvicorn (uvloop, httptools), in the same virtualenv and with the same number of",
        "processes, doing only the least work of the endpoint. *req/s per server core* is the",
        "inverse of the CPU each request costs; *worker RSS* compares the largest process of",
        "each tree.",
        "",
        *rows_floor,
        "",
    ]


def main() -> int:
    a = arguments()

    conns = [int(c) for c in a.conns.split()]
    g_name, g = parse(a.gatepass)
    p_name, p = parse(a.peer)
    with_peer = a.skip_peer != "1"
    g_label = g_name or f"gatepass-w{a.workers}"
    peer = a.peer_name
    p_label = p_name or (f"{peer} (failed)" if with_peer else f"{peer} (skipped)")
    peer_setup = a.peer_setup or f"oidc-provider `CLUSTER={a.workers}`"
    with_floor = a.floor is not None and a.skip_floor != "1"
    f_name, f = parse(a.floor) if with_floor and a.floor else (None, {})
    f_label = f_name or f"{a.floor_name} (failed)"
    runs = [(g_label, g), (p_label, p)] + ([(f_label, f)] if with_floor else [])
    rows_table = table(conns, runs)
    rows_ratio = ratios(conns, g, p, a.rps_target)
    rows_floor = (
        floor_ratios(conns, g, f, a.floor_rps_target, a.floor_p99_target) if with_floor else []
    )
    issues = problems(
        conns, [(g_label, g, True), (p_label, p, with_peer), (f_label, f, with_floor)]
    )

    print("\n" + "\n".join(rows_table) + "\n")
    print(f"gatepass / {peer}:")
    print("\n".join(rows_ratio))
    if with_floor:
        print(f"\ngatepass / {a.floor_name} (JOB={a.floor_job}):")
        print("\n".join(rows_floor))
    for msg in issues:
        print(f"WARNING: {msg}", file=sys.stderr)

    wrk = f"wrk -t{a.wrk_threads} -c<c> -d{a.duration}s --timeout {a.wrk_timeout} --latency"
    if issues:
        validity = ["**Not a valid measurement:**", ""] + [f"- {m}" for m in issues]
    else:
        validity = [
            f"Every response was a 2xx with {a.body_check} (0 non2xx, 0 bad_body,",
            "0 timeouts, 0 socket errors).",
        ]
    details = [
        f"- {label} c={c}: `{rows[c]['detail']}`"
        for label, rows in runs
        for c in conns
        if c in rows
    ]
    target_note = []
    if a.rps_target is not None:
        target_note = [
            f"Target: gatepass serves at least {a.rps_target:g}x the req/s of {peer}"
            " at each concurrency.",
            "",
        ]
    meta = [f"| {k} | {v} |" for k, _, v in (m.partition("=") for m in a.meta)]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        f"# {a.title}: gatepass vs. {peer}",
        "",
        f"Run: {now}, `{a.script}` (see `bench/README.md`).",
        "",
        a.request,
        f"Load: `{wrk}` after a {a.warmup} s warm-up at the same concurrency, with the",
        "bench-peers harness (`lib/common.sh`, `lib/bench.lua`). Both servers on 127.0.0.1 with",
        f"{a.workers} processes (gatepass `serve --workers {a.workers}`, {peer_setup}),"
        " one after the other in the same run.",
        "",
        *validity,
        "",
        *[f"**Warning:** {w}\n" for w in a.warning],
        *rows_table,
        "",
        f"## gatepass / {peer}",
        "",
        *rows_ratio,
        "",
        *target_note,
        *floor_section(a, rows_floor),
        "RSS is summed over each server's whole process tree (supervisor + workers) right after",
        "the measured run. Server CPU is the cores that tree used during the run; server and wrk",
        "share the machine's cores.",
        "",
        "Process trees (pid:RSS):",
        "",
        *(details or ["- n/a"]),
        "",
        "## Environment",
        "",
        "| | |",
        "|---|---|",
        *meta,
        "",
    ]
    a.markdown.write_text("\n".join(md))
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
