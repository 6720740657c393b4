"""What revoke all costs with many credentials: the one UPDATE, and the per-credential audit
events written with it (one ``INSERT ... SELECT``).

    .venv/bin/python bench/revoke_all.py [--keys 10000] [--database-url URL]

Migrates the database (a fresh SQLite file unless ``--database-url`` names an empty one), makes
a tenant, inserts ``--keys`` API keys in bulk (a tenth holding ``api_keys:verify``), then revokes
all of them ``--rounds`` times each way, alternating (the keys made active again in between): with
the audit events of each credential left out (what revoke all wrote before: the UPDATE and one
tenant event), and as it is. Prints one JSON line with the best time of each way.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update

from gatepass import provisioning
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.audit.models import AuditEvent
from gatepass.audit.service import Actor
from gatepass.credentials import lifecycle
from gatepass.db import Database, utcnow
from gatepass.migrations import runner
from gatepass.permissions.models import Permission
from gatepass.signing_keys.material import KeyCipher
from gatepass.tenants.models import Tenant

ACTOR = Actor(kind="operator", id="bench")
LINKS = ApiKey.permissions.property.secondary


def load(db: Database, keys: int) -> str:
    slug = f"bench-{secrets.token_hex(4)}"
    with db.transaction() as session:
        tenant = provisioning.create_tenant(
            session, slug=slug, name=None, actor=ACTOR, cipher=KeyCipher.from_master_key(b"k" * 32)
        )
        rows = [
            {
                "tenant_id": tenant.id,
                "key_id": f"k{n:08d}",
                "name": f"key {n}",
                "description": "",
                "status": "active",
                "created_by": "bench",
                "created_at": utcnow(),
            }
            for n in range(keys)
        ]
        session.execute(insert(ApiKey), rows)
        verify = session.scalar(
            select(Permission.id).where(
                Permission.tenant_id == tenant.id, Permission.name == "api_keys:verify"
            )
        )
        ids = session.scalars(select(ApiKey.id).where(ApiKey.tenant_id == tenant.id)).all()
        session.execute(
            insert(LINKS), [{"key_pk": pk, "permission_id": verify} for pk in ids[::10]]
        )
    return slug


def revoke(db: Database, slug: str, *, events: bool) -> tuple[float, int, int]:
    """Seconds, credentials revoked, audit rows written."""
    original = vars(lifecycle)["record_each"]
    if not events:  # revoke all as it was: the UPDATE and the tenant's one event
        setattr(lifecycle, "record_each", lambda *args, **kwargs: 0)  # noqa: B010
    try:
        with db.transaction() as session:
            tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
            session.execute(
                update(ApiKey).where(ApiKey.tenant_id == tenant.id).values(status="active")
            )
            before = audit_rows(session, tenant.id)
        with db.transaction() as session:
            tenant = session.scalars(select(Tenant).where(Tenant.slug == slug)).one()
            started = time.perf_counter()
            count = lifecycle.revoke_all(
                session, tenant, API_KEY, actor=ACTOR, keep_management=True
            )
            session.flush()
        seconds = time.perf_counter() - started  # the commit included
        with db.read() as session:
            written = audit_rows(session, tenant.id) - before
        return seconds, count, written
    finally:
        setattr(lifecycle, "record_each", original)  # noqa: B010


def audit_rows(session: Any, tenant_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--rounds", type=int, default=3, help="each way, alternating; best kept")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
    db = Database(url)
    runner.upgrade(db.engine)
    slug = load(db, args.keys)
    runs: dict[bool, list[tuple[float, int, int]]] = {False: [], True: []}
    for _ in range(args.rounds):
        for events in (False, True):
            runs[events].append(revoke(db, slug, events=events))
    before, after = min(runs[False]), min(runs[True])
    db.dispose()
    report = {
        "backend": db.engine.dialect.name,
        "keys": args.keys,
        "revoked": after[1],
        "without_events_s": round(before[0], 3),
        "with_events_s": round(after[0], 3),
        "audit_rows_without": before[2],
        "audit_rows_with": after[2],
    }
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
