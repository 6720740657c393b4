"""Side-by-side tables of gatepass vs. oidc-provider for bench/signed_token.sh, one per mode.

Input: for each mode (``pkjwt``: a private_key_jwt client assertion; ``dpop``: the same plus a
DPoP proof), the summary lines of gatepass and of oidc-provider, in the form of the harness'
``run_load`` (see ``report.py``) with three more fields: ``used`` (pre-signed requests wrk
sent), ``signed`` (how many there were) and ``exhausted`` (requests sent after they ran out).

Prints the tables and the gatepass/oidc-provider ratios against the target (--target) and
writes them as markdown. Exits 1 if a row is missing, any response failed, or wrk ran out of
pre-signed requests: such a run is not a valid measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from report import ERRORS, Row, num, parse, ratios, table

MODES = {
    "pkjwt": "private_key_jwt: a client assertion (ES256) in the form, Bearer token",
    "dpop": "private_key_jwt and a DPoP proof (ES256) in the `DPoP` header, DPoP-bound token",
}


def problems(conns: list[int], label: str, rows: dict[int, Row], wanted: bool) -> list[str]:
    found = []
    for c in conns:
        if c not in rows:
            if wanted:
                found.append(f"{label} c={c}: no result")
            continue
        bad = {k: int(num(rows[c], k) or 0) for k in ERRORS if num(rows[c], k)}
        if bad:
            found.append(f"{label} c={c}: failed responses {bad}")
        if num(rows[c], "exhausted") is None:
            found.append(f"{label} c={c}: no count of the pre-signed requests")
        elif num(rows[c], "exhausted"):
            found.append(
                f"{label} c={c}: wrk ran out of pre-signed requests"
                f" ({fmt_int(rows[c], 'signed')} signed, {fmt_int(rows[c], 'exhausted')} more sent)"
            )
    return found


def fmt_int(row: Row, key: str) -> str:
    v = num(row, key)
    return "n/a" if v is None else f"{v:,.0f}"


def used(conns: list[int], runs: list[tuple[str, dict[int, Row]]]) -> list[str]:
    out = ["| server | c | requests sent | pre-signed | used |", "|---|---:|---:|---:|---:|"]
    for c in conns:
        for label, rows in runs:
            r = rows.get(c, {})
            u, s = num(r, "used"), num(r, "signed")
            share = f"{u / s:.0%}" if u is not None and s else "n/a"
            out.append(
                f"| {label} | {c} | {fmt_int(r, 'used')} | {fmt_int(r, 'signed')} | {share} |"
            )
    return out


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--mode",
        nargs=3,
        action="append",
        required=True,
        metavar=("MODE", "GATEPASS_SUMMARY", "PEER_SUMMARY"),
    )
    ap.add_argument(
        "--floor",
        nargs=2,
        action="append",
        default=[],
        metavar=("MODE", "FLOOR_SUMMARY"),
        help="the Python floor's summary for MODE (a missing file: the floor was not run)",
    )
    ap.add_argument("--markdown", type=Path, required=True)
    ap.add_argument("--conns", required=True)
    ap.add_argument("--target", type=float, default=1.5)
    for opt in ("workers", "warmup", "duration", "wrk-threads", "wrk-timeout", "skip-peer"):
        ap.add_argument(f"--{opt}", default="?")
    ap.add_argument("--headroom", default="?")
    ap.add_argument("--meta", action="append", default=[], help="KEY=VALUE for the report")
    ap.add_argument("--warning", action="append", default=[], help="shown above the tables")
    return ap.parse_args()


def main() -> int:
    a = arguments()
    conns = [int(c) for c in a.conns.split()]
    with_peer = a.skip_peer != "1"
    issues: list[str] = []
    sections: list[str] = []
    floors = dict(a.floor)
    for mode, g_file, p_file in a.mode:
        g_name, g = parse(Path(g_file))
        p_name, p = parse(Path(p_file))
        g_label = g_name or f"gatepass-w{a.workers}-{mode}"
        p_label = p_name or f"oidc-provider-{mode} ({'failed' if with_peer else 'skipped'})"
        runs = [(g_label, g), (p_label, p)]
        floor_file = Path(floors[mode]) if mode in floors else None
        floor: dict[int, Row] = {}
        if floor_file is not None and floor_file.exists():
            f_name, floor = parse(floor_file)
            f_label = f_name or f"python-floor-{mode}"
            runs.append((f_label, floor))
            issues += problems(conns, f_label, floor, True)
        rows_table = table(conns, runs)
        rows_ratio = ratios(conns, g, p, a.target)
        rows_floor = ratios(conns, g, floor) if floor else []
        issues += problems(conns, g_label, g, True) + problems(conns, p_label, p, with_peer)
        print(f"\n{mode}: {MODES.get(mode, mode)}\n")
        print("\n".join(rows_table))
        print(f"\ngatepass / oidc-provider ({mode}):")
        print("\n".join(rows_ratio))
        if rows_floor:
            print(f"\ngatepass / Python floor ({mode}):")
            print("\n".join(rows_floor))
        floor_section = [f"gatepass / Python floor, {mode}:", "", *rows_floor, ""] if floor else []
        sections += [
            f"## {mode}: {MODES.get(mode, mode)}",
            "",
            *rows_table,
            "",
            f"gatepass / oidc-provider, {mode}:",
            "",
            *rows_ratio,
            "",
            *floor_section,
            "Pre-signed requests (each used once):",
            "",
            *used(conns, runs),
            "",
        ]
    for msg in issues:
        print(f"WARNING: {msg}", file=sys.stderr)

    wrk = f"wrk -t{a.wrk_threads} -c<c> -d{a.duration}s --timeout {a.wrk_timeout} --latency"
    if issues:
        validity = ["**Not a valid measurement:**", "", *[f"- {m}" for m in issues]]
    else:
        validity = [
            "Every response was a 200 with a JWT access token of the mode's `token_type`",
            "(0 non2xx, 0 bad_body, 0 timeouts, 0 socket errors), and no run ran out of",
            "pre-signed requests.",
        ]
    meta = [f"| {k} | {v} |" for k, _, v in (m.partition("=") for m in a.meta)]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    md = [
        "# Signed client authentication: gatepass vs. oidc-provider",
        "",
        f"Run: {now}, `bench/signed_token.sh` (see `bench/README.md`).",
        "",
        "`POST` client_credentials, `scope=api:read`, the client authenticated with",
        "`private_key_jwt` (RFC 7523: an ES256 client assertion with a unique `jti`, `aud` the",
        "token endpoint URL), and in the `dpop` mode a DPoP proof (RFC 9449, ES256, unique `jti`)",
        "too. ES256 JWT access tokens. Each request carries its own assertion (and proof), signed",
        f"before the run ({a.headroom}x the expected req/s x the run's seconds).",
        f"Load: `{wrk}` after a {a.warmup} s warm-up at the same concurrency, with",
        "`bench/lib/signed.lua`. Both servers on 127.0.0.1 with",
        f"{a.workers} processes (gatepass `serve --workers {a.workers}`, oidc-provider"
        f" `CLUSTER={a.workers}`), one after the other in the same run.",
        f"Target: gatepass serves at least {a.target:g}x the req/s of oidc-provider in each mode.",
        "The Python floor (`bench/floor/signed_floor.py`, when run) is bare ASGI on the same",
        "uvicorn doing only what any correct server must: verify the assertion (and proof), spend",
        "each `jti` in Redis, sign the token.",
        "",
        *validity,
        "",
        *[f"**Warning:** {w}\n" for w in a.warning],
        *sections,
        "RSS is summed over each server's whole process tree (supervisor + workers) right after",
        "the measured run. Server CPU is the cores that tree used during the run; server and wrk",
        "share the machine's cores. `cold ms` is the first request of the mode.",
        "",
        "## Environment",
        "",
        "| | |",
        "|---|---|",
        *meta,
        "",
    ]
    a.markdown.parent.mkdir(parents=True, exist_ok=True)
    a.markdown.write_text("\n".join(md))
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
