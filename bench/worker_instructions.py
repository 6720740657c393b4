"""Instructions per request of a whole server worker, Gatepass against the Python floor (callgrind).

    .venv/bin/python bench/worker_instructions.py [--endpoint token|verify] [TREE ...]

Sets up a fresh instance (SQLite) with the CLI, then for the floor and for Gatepass (this checkout,
or each TREE: a checkout whose ``gatepass/`` goes first on ``PYTHONPATH``) starts one worker under
``valgrind --tool=callgrind``, sends the bench's request 300 times on one keep-alive connection,
zeroes the counters, sends it 1,000 times more and reads the count (``--keep DIR`` keeps the
counts for ``callgrind_annotate``: ``floor.callgrind``, ``gatepass-1.callgrind``, ...). The ratio
printed is the floor's instructions over Gatepass's: what the req/s ratio would be if
instructions were all. Instructions, unlike seconds, are the same on a busy machine; they count
every thread of the worker, not the kernel's work.
The floors are the bench-peers harness' ``floor/floor_app.py`` (token) and ``bench/floor/
verify_floor.py`` (verify). Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hot_path import setup  # bench/, the script's own directory

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PEERS = Path(os.environ.get("BENCH_PEERS_DIR", REPO.parent / "shared" / "bench-peers"))
FLOOR_AUTH = base64.b64encode(b"floor-client:gpcs_floorsecretfloorsecretfloorsecret12").decode()
WARM, COUNTED = 300, 1000


def request(path: str, body: str, content_type: str, basic: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: wrk\r\n"
        f"Authorization: Basic {basic}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return (head + body).encode()


def send(port: int, raw: bytes, count: int) -> None:
    """``count`` requests on one connection, each answer read whole (Content-Length or chunked)."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        buffer = b""
        for _ in range(count):
            conn.sendall(raw)
            while True:
                head, sep, rest = buffer.partition(b"\r\n\r\n")
                if sep:
                    found = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                    if found is not None:
                        end = int(found[1])
                    else:  # chunked: up to the last chunk
                        last = rest.find(b"\r\n0\r\n\r\n")
                        end = last + 7 if last >= 0 else len(rest) + 1
                    if end <= len(rest):
                        if not head.startswith(b"HTTP/1.1 200"):
                            raise SystemExit(f"not a 200: {head[:200]!r}")
                        buffer = rest[end:]
                        break
                buffer += conn.recv(65536)


def wait_for(port: int) -> None:
    for _ in range(1200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def control(option: str, pid: int) -> None:
    """``callgrind_control``: ``-z`` zeroes the counters, ``-d`` writes them out."""
    command = ["callgrind_control", option, str(pid)]
    subprocess.run(command, check=True, capture_output=True)  # noqa: S603


def count(
    command: list[str], cwd: Path, env: dict[str, str], port: int, raw: bytes, *, keep: Path | None
) -> int:
    with tempfile.TemporaryDirectory(prefix="gatepass-cg-") as tmp:
        out = Path(tmp) / "cg.out"
        server = subprocess.Popen(  # noqa: S603
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],  # noqa: S607
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(port)
            send(port, raw, WARM)
            control("-z", server.pid)
            send(port, raw, COUNTED)
            control("-d", server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait()
        dump = min((p for p in Path(tmp).iterdir() if p != out), key=lambda p: p.stat().st_mtime)
        found = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.MULTILINE)
        if found is None:
            raise SystemExit(f"no total in {dump}")
        if keep is not None:
            shutil.copyfile(dump, keep)
        return int(found[1]) // COUNTED


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", choices=("token", "verify"), default="token")
    parser.add_argument("trees", nargs="*", help="checkouts to measure instead of this one")
    parser.add_argument(
        "--keep", type=Path, help="a directory to keep the counts in, for callgrind_annotate"
    )
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="gatepass-cg-data-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(
        GATEPASS_DATA_DIR=data,
        GATEPASS_PUBLIC_URL="http://127.0.0.1:8090",
        GATEPASS_SECRET_KEY=secrets.token_hex(32),
        GATEPASS_LOG_LEVEL="warning",
        GATEPASS_JOBS_ENABLED="false",
    )

    os.environ.clear()
    os.environ.update(env)  # the CLI that sets the instance up reads it
    made = setup(args.endpoint)  # the same instance and request as bench/hot_path.py's
    path, body, basic = made.path, made.body.decode(), made.basic.decode()
    if args.endpoint == "token":
        content_type = "application/x-www-form-urlencoded"
        floor_body = "grant_type=client_credentials&scope=nql"
        floor_dir, floor_app = PEERS / "floor", "floor_app:app"
    else:
        content_type = "application/json"
        floor_body = '{"key":"gpk_floorkeyfloorkeyfloorkeyfloorkey123456"}'
        floor_dir, floor_app = REPO / "bench" / "floor", "verify_floor:app"
    floor_env = {**os.environ, "JOB": "token"}
    uvicorn = [
        str(BIN / "python"),
        "-m",
        "uvicorn",
        floor_app,
        "--port",
        "8092",
        "--loop",
        "uvloop",
    ]
    uvicorn += ["--http", "httptools", "--no-access-log", "--log-level", "warning"]
    raw = request(path, floor_body, content_type, FLOOR_AUTH)
    kept = args.keep.resolve() if args.keep else None
    if kept is not None:
        kept.mkdir(parents=True, exist_ok=True)
    floor = count(
        uvicorn, floor_dir, floor_env, 8092, raw, keep=kept / "floor.callgrind" if kept else None
    )
    print(f"floor ({args.endpoint}): {floor / 1000:.0f}k instructions per request", flush=True)
    server = [
        str(BIN / "python"),
        "-P",
        "-m",
        "gatepass.server",
        "--port",
        "8090",
        "--workers",
        "1",
    ]
    for n, tree in enumerate(args.trees or [str(REPO)], 1):
        tree_env = {**env, "PYTHONPATH": str(Path(tree).resolve())}
        raw = request(path, body, content_type, basic)
        out = kept / f"gatepass-{n}.callgrind" if kept else None
        mine = count(server, Path(data), tree_env, 8090, raw, keep=out)
        ratio = floor / mine
        print(f"gatepass {tree}: {mine / 1000:.0f}k instructions per request ({ratio:.2f}x)")


if __name__ == "__main__":
    main()
