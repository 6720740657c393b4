"""A flood of failed console sign-ins, and what it does to the management API meanwhile.

    .venv/bin/python bench/sign_in_flood.py [--db sqlite|postgresql+psycopg://postgres@127.0.0.1/postgres]
        [--rate 300] [--seconds 20] [--sources 6] [--workers 1] [--tree DIR]

Starts ``gatepass serve`` on a fresh SQLite file or a fresh PostgreSQL database
(``gatepass_flood_<pid>``, dropped afterwards) with ``GATEPASS_TRUSTED_PROXIES=127.0.0.1``, so
that ``X-Forwarded-For`` names the caller. It creates tenant ``acme``, a console user and a
client with ``credentials:read``, and takes a management token (``resource`` = the issuer).

Then, for ``--seconds``:

- the flood: ``POST /api/v1/realms/acme/session`` with a wrong password, ``--rate`` a second at
  a fixed pace (open loop: a slow answer does not slow the sender), taking turns over
  ``--sources`` forwarded addresses and over the user's email and two unknown ones (with
  ``--unique-emails``: a new unknown email every time);
- the probe: ``GET /api/v1/realms/acme/clients`` with the bearer token, one every 100 ms.

Every request goes on its own connection (``Connection: close``) over raw asyncio streams, so
that the sender stays cheap with thousands of requests waiting (an HTTP client's pool is not).
``--server-nice N`` runs the server under ``nice -n N``: argon2id takes both cores of a small
machine, and the sender and the probe must keep their pace to measure the server.

Every request stops waiting after ``--timeout`` s (default 60) and counts as ``timeout``; the run
ends by itself. Prints one JSON line: status counts of both streams, the probe's median, p99 and
max milliseconds, and the flood's achieved rate. ``--tree DIR`` runs the gatepass of another
checkout (a worktree of an older commit) with this virtualenv, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))
from flood_server import Instance, drop_pg

PASSWORD = "correct horse battery staple 42"  # noqa: S105 - a throwaway benchmark user


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(inst: Instance, token: str, args: argparse.Namespace) -> dict[str, object]:  # noqa: PLR0915
    flood_codes: Counter[str] = Counter()
    probe_codes: Counter[str] = Counter()
    probe_ms: list[float] = []
    flood_ms: list[float] = []
    sources = [f"198.51.100.{i + 1}" for i in range(args.sources)]
    emails = ["owner@example.com", "nobody@example.com", "x@example.org"]
    session_path = "/api/v1/realms/acme/session"
    list_path = "/api/v1/realms/acme/clients"

    host = f"127.0.0.1:{inst.port}"

    async def request(head: str, body: bytes = b"") -> str:
        """One request on its own connection (``Connection: close``), raw asyncio streams: an
        HTTP client pool with thousands of waiting requests costs the sender more CPU than the
        server spends refusing them. Returns the status code, or why there is none."""
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", inst.port)
        except OSError as exc:
            return type(exc).__name__
        try:
            writer.write(head.encode() + body)
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), args.timeout)
            await asyncio.wait_for(reader.read(), args.timeout)  # the rest, until close
            return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"
        except TimeoutError:
            return "timeout"
        except (OSError, IndexError):
            return "closed"
        finally:
            writer.close()

    async def one_sign_in(n: int) -> None:
        t0 = time.perf_counter()
        email = f"u{n}@example.net" if args.unique_emails else emails[n % len(emails)]
        body = json.dumps({"email": email, "password": f"wrong-{n}"}).encode()
        head = (
            f"POST {session_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Forwarded-For: {sources[n % len(sources)]}\r\n\r\n"
        )
        flood_codes[await request(head, body)] += 1
        flood_ms.append((time.perf_counter() - t0) * 1000)

    async def one_probe() -> None:
        t0 = time.perf_counter()
        head = (
            f"GET {list_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        )
        probe_codes[await request(head)] += 1
        probe_ms.append((time.perf_counter() - t0) * 1000)

    # one probe before the flood: the quiet baseline
    await one_probe()
    quiet_ms = probe_ms.pop()
    probe_codes.clear()
    tasks: list[asyncio.Task[None]] = []
    start = time.monotonic()
    sent = 0
    next_probe = start
    while (now := time.monotonic()) - start < args.seconds:
        due = int((now - start) * args.rate)
        while sent < due:
            tasks.append(asyncio.create_task(one_sign_in(sent)))
            sent += 1
        if now >= next_probe:
            tasks.append(asyncio.create_task(one_probe()))
            next_probe += 0.1
        await asyncio.sleep(0.002)
    sending = time.monotonic() - start
    await asyncio.gather(*tasks)
    drained = time.monotonic() - start
    return {
        "flood_sent": sent,
        "flood_rate_per_s": round(sent / sending, 1),
        "flood_codes": dict(flood_codes),
        "flood_median_ms": round(statistics.median(flood_ms), 1) if flood_ms else None,
        "flood_p99_ms": round(percentile(flood_ms, 0.99), 1),
        "probe_quiet_ms": round(quiet_ms, 1),
        "probes": len(probe_ms),
        "probe_codes": dict(probe_codes),
        "probe_median_ms": round(statistics.median(probe_ms), 1) if probe_ms else None,
        "probe_p99_ms": round(percentile(probe_ms, 0.99), 1),
        "probe_max_ms": round(max(probe_ms), 1) if probe_ms else None,
        "seconds_until_all_answered": round(drained, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--sources", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--tree", default="")
    parser.add_argument(
        "--unique-emails", action="store_true", help="a new unknown email for every attempt"
    )
    parser.add_argument("--server-nice", type=int, default=0, help="run the server under nice -n N")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sign-in-flood-"))
    inst = Instance(
        work, args.db, tree=args.tree, extra_env={"GATEPASS_TRUSTED_PROXIES": "127.0.0.1"}
    )
    try:
        inst.cli("migrate")
        inst.cli("tenant", "create", "acme", "--json")
        inst.cli(
            "user",
            "create",
            "-t",
            "acme",
            "--email",
            "owner@example.com",
            "--role",
            "admin",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        reader = inst.cli(
            "client",
            "create",
            "-t",
            "acme",
            "--name",
            "reader",
            "--scope",
            "credentials:read",
            "--json",
        )
        with inst.serving(args.workers, nice=args.server_nice):
            answer = httpx.post(
                f"{inst.base}/realms/acme/protocol/openid-connect/token",
                data={"grant_type": "client_credentials", "resource": f"{inst.base}/realms/acme"},
                auth=(reader["client_id"], reader["client_secret"]),
                timeout=30,
            )
            if answer.status_code == 400 and "invalid_target" in answer.text:
                # older commits: the management API takes the tenant's default audience
                answer = httpx.post(
                    f"{inst.base}/realms/acme/protocol/openid-connect/token",
                    data={"grant_type": "client_credentials"},
                    auth=(reader["client_id"], reader["client_secret"]),
                    timeout=30,
                )
            if answer.status_code != 200:
                sys.exit(f"no management token: {answer.status_code} {answer.text}")
            token = answer.json()["access_token"]
            result = asyncio.run(run(inst, token, args))
        log = (work / "server.log").read_text(errors="replace")
        result.update(
            db="sqlite" if args.db == "sqlite" else "postgresql",
            workers=args.workers,
            rate=args.rate,
            seconds=args.seconds,
            sources=args.sources,
            server_nice=args.server_nice,
            unique_emails=args.unique_emails,
            server_log_tracebacks=log.count("Traceback"),
            server_log_queuepool=log.count("QueuePool limit"),
        )
        print(json.dumps(result))
    finally:
        drop_pg(inst)


if __name__ == "__main__":
    main()
