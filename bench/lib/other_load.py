"""Measure the CPU that processes outside the benchmark use while it runs.

    python3 other_load.py ROOT_PID OUTFILE      (stop it with SIGTERM)

Every 0.5 s it reads /proc/*/stat. Any process that descends from ROOT_PID (the benchmark
script) is ours, and stays ours even if it is later reparented, such as node cluster workers
whose primary has exited. Any other process is foreign, and this counts the CPU time it
accumulated while we watched. On SIGTERM it writes one JSON line to OUTFILE:
{"other_cores": ..., "steal_cores": ..., "top": [[command, cores], ...]}.
Short-lived foreign processes that start and exit between two samples are missed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

HZ = os.sysconf("SC_CLK_TCK")


def snapshot() -> dict[tuple[int, int], tuple[int, str, int]]:
    """(pid, starttime) -> (ppid, comm, utime+stime ticks)"""
    procs = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        f = raw[raw.rindex(")") + 2 :].split()
        procs[(int(d.name), int(f[19]))] = (int(f[1]), comm, int(f[11]) + int(f[12]))
    return procs


def steal_ticks() -> int:
    return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])


def main() -> None:
    root, out = int(sys.argv[1]), Path(sys.argv[2])
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    t0, steal0 = time.monotonic(), steal_ticks()
    ours: set[tuple[int, int]] = set()
    first: dict[tuple[int, int], int] = {}  # ticks when first seen (0 if born while watching)
    last: dict[tuple[int, int], int] = {}
    comm: dict[tuple[int, int], str] = {}
    initial = True
    while True:
        procs = snapshot()
        by_pid = {key[0]: key for key in procs}
        grown = True
        while grown:  # ours: ROOT and, transitively, the children of ours
            grown = False
            for key, (ppid, _, _) in procs.items():
                parent = by_pid.get(ppid)
                if key not in ours and (key[0] == root or (parent is not None and parent in ours)):
                    ours.add(key)
                    grown = True
        for key, (_, name, ticks) in procs.items():
            if key not in first:
                first[key] = ticks if initial else 0
            last[key], comm[key] = ticks, name
        initial = False
        if stop:
            break
        time.sleep(0.5)
    wall = time.monotonic() - t0
    per_comm: dict[str, float] = defaultdict(float)
    for key, ticks in last.items():
        if key not in ours and ticks > first[key]:
            per_comm[comm[key]] += (ticks - first[key]) / HZ / wall
    top = sorted(per_comm.items(), key=lambda kv: -kv[1])[:3]
    out.write_text(
        json.dumps(
            {
                "other_cores": round(sum(per_comm.values()), 2),
                "steal_cores": round((steal_ticks() - steal0) / HZ / wall, 2),
                "top": [[name, round(c, 2)] for name, c in top if c >= 0.01],
            }
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
