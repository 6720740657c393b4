"""Load many API keys and OAuth clients into one tenant on PostgreSQL, fast.

    GATEPASS_DATABASE_URL=postgresql+psycopg://... GATEPASS_SECRET_KEY=... \\
        .venv/bin/python bench/bulk_load.py --tenant bench --keys 1000000 --clients 100000 \\
        --sample 1000 --sample-keys keys.txt --sample-clients clients.txt

The rows are what ``gatepass apikey create`` and ``gatepass client create`` store: secrets made
by ``credential_secrets.generate`` and stored only as the service's keyed hash, one permission
each (``--scope``), ``created_by`` "operator (bulk load)". They go in with ``COPY`` in batches,
one transaction per batch, without change-feed rows or audit events (start the servers after
loading). The plaintexts of the first ``--sample`` keys and clients are written to the sample
files (mode 0600) to drive the benchmarks; every other plaintext is dropped.

The tenant and the permission must exist (``gatepass tenant create``,
``gatepass permission create``). Prints one JSON line with what it loaded and how long it took.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import psycopg
from sqlalchemy.engine import make_url

from gatepass import credential_secrets as cs
from gatepass.db import utcnow
from gatepass.settings import Settings

CREATED_BY = "operator (bulk load)"
BATCH = 20_000


@dataclass(frozen=True)
class Target:
    tenant_id: int
    permission_id: int | None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    url = make_url(settings.effective_database_url)
    if not url.drivername.startswith("postgresql"):
        sys.exit(
            "bulk_load.py loads PostgreSQL only: set GATEPASS_DATABASE_URL=postgresql+psycopg://"
        )
    hasher = cs.SecretHasher.from_master_key(settings.master_key())
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        target = _target(conn, args.tenant, args.scope)
        with _sample_file(args.sample_keys) as out:
            _load_keys(conn, target, hasher, count=args.keys, sample=args.sample, out=out)
        with _sample_file(args.sample_clients) as out:
            _load_clients(conn, target, hasher, count=args.clients, sample=args.sample, out=out)
        conn.execute("ANALYZE")
    seconds = round(time.perf_counter() - started, 1)
    print(
        json.dumps(
            {"tenant": args.tenant, "keys": args.keys, "clients": args.clients, "seconds": seconds}
        )
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", required=True, help="slug of an existing tenant")
    parser.add_argument("--keys", type=int, default=0, help="API keys to add")
    parser.add_argument("--clients", type=int, default=0, help="OAuth clients to add")
    parser.add_argument("--scope", default=None, help="an existing permission for every row")
    parser.add_argument("--sample", type=int, default=1000, help="plaintexts to keep, each kind")
    parser.add_argument("--sample-keys", type=Path, help="file for the sample keys, one a line")
    parser.add_argument(
        "--sample-clients", type=Path, help="file for the sample clients, 'client_id:secret'"
    )
    return parser


def _target(conn: psycopg.Connection[Any], slug: str, scope: str | None) -> Target:
    row = conn.execute("SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()
    if row is None:
        sys.exit(f"no tenant '{slug}': create it with 'gatepass tenant create {slug}'")
    if scope is None:
        return Target(row[0], None)
    perm = conn.execute(
        "SELECT id FROM permissions WHERE tenant_id = %s AND name = %s", (row[0], scope)
    ).fetchone()
    if perm is None:
        sys.exit(f"no permission '{scope}' in tenant '{slug}'")
    return Target(row[0], perm[0])


@contextmanager
def _sample_file(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with open(fd, "a", encoding="ascii") as out:
        yield out


def _ids(conn: psycopg.Connection[Any], table: str, count: int) -> list[int]:
    """``count`` fresh primary keys from the table's own sequence."""
    rows = conn.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        (table, count),
    ).fetchall()
    return [r[0] for r in rows]


def _load_keys(
    conn: psycopg.Connection[Any],
    target: Target,
    hasher: cs.SecretHasher,
    *,
    count: int,
    sample: int,
    out: TextIO | None,
) -> None:
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        now = utcnow()
        pks, secret_ids = _ids(conn, "api_keys", n), _ids(conn, "api_key_secrets", n)
        keys = [cs.generate(cs.SecretKind.API_KEY) for _ in range(n)]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY api_keys (id, tenant_id, key_id, name, description, status, created_by,"
                " created_at) FROM STDIN"
            ) as copy:
                for i, pk in enumerate(pks):
                    copy.write_row(
                        (
                            pk,
                            target.tenant_id,
                            "ak_" + secrets.token_hex(8),
                            f"bulk key {done + i}",
                            "",
                            "active",
                            CREATED_BY,
                            now,
                        )
                    )
            with cur.copy(
                "COPY api_key_secrets (id, key_pk, digest, hint, created_at) FROM STDIN"
            ) as copy:
                for sid, pk, key in zip(secret_ids, pks, keys, strict=True):
                    copy.write_row((sid, pk, hasher.digest(key), cs.hint(key), now))
            _link(cur, "api_key_permissions", "key_pk", pks, target.permission_id)
        conn.commit()
        _keep(out, [k.reveal() for k in keys[: max(0, sample - done)]])
        done += n


def _load_clients(
    conn: psycopg.Connection[Any],
    target: Target,
    hasher: cs.SecretHasher,
    *,
    count: int,
    sample: int,
    out: TextIO | None,
) -> None:
    done = 0
    while done < count:
        n = min(BATCH, count - done)
        now = utcnow()
        pks, secret_ids = _ids(conn, "oauth_clients", n), _ids(conn, "client_secrets", n)
        client_ids = ["gp-" + secrets.token_hex(10) for _ in range(n)]
        # uid: the client's never-reused identity (migration 0005), as new_uid() makes it
        uids = [secrets.token_hex(16) for _ in range(n)]
        plain = [cs.generate(cs.SecretKind.CLIENT_SECRET) for _ in range(n)]
        with conn.cursor() as cur:
            with cur.copy(
                "COPY oauth_clients (id, tenant_id, client_id, uid, name, description, status,"
                " created_by, created_at) FROM STDIN"
            ) as copy:
                for i, (pk, cid, uid) in enumerate(zip(pks, client_ids, uids, strict=True)):
                    copy.write_row(
                        (
                            pk,
                            target.tenant_id,
                            cid,
                            uid,
                            f"bulk client {done + i}",
                            "",
                            "active",
                            CREATED_BY,
                            now,
                        )
                    )
            with cur.copy(
                "COPY client_secrets (id, client_pk, digest, hint, created_at) FROM STDIN"
            ) as copy:
                for sid, pk, secret in zip(secret_ids, pks, plain, strict=True):
                    copy.write_row((sid, pk, hasher.digest(secret), cs.hint(secret), now))
            _link(cur, "client_permissions", "client_pk", pks, target.permission_id)
        conn.commit()
        kept = max(0, sample - done)
        _keep(
            out, [f"{c}:{s.reveal()}" for c, s in zip(client_ids[:kept], plain[:kept], strict=True)]
        )
        done += n


def _link(
    cur: psycopg.Cursor[Any], table: str, column: str, pks: list[int], perm: int | None
) -> None:
    if perm is None:
        return
    with cur.copy(f"COPY {table} ({column}, permission_id) FROM STDIN") as copy:
        for pk in pks:
            copy.write_row((pk, perm))


def _keep(out: TextIO | None, lines: list[str]) -> None:
    if out is not None and lines:
        out.write("".join(line + "\n" for line in lines))


if __name__ == "__main__":
    sys.exit(main())
