"""Dormant credentials: OAuth clients and API keys that still work but have not been used for a
while (never used counts from their creation), oldest use first. They are the ones to ask
about, suspend or revoke; the report reads the same rule as the ``last_used_before`` filter.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gatepass.credentials import lifecycle
from gatepass.credentials.lifecycle import C
from gatepass.db import utcnow
from gatepass.errors import InvalidInputError
from gatepass.tenants.models import Tenant

MAX_DAYS = 3650
MAX_ROWS = 10_000  # a report, not an export of every credential
COLUMNS = ("kind", "id", "name", "created_by", "created_at", "last_used_at", "expires_at")
# A cell a spreadsheet would run as a formula (OWASP "CSV injection") is written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Dormant:
    kind: str  # "oauth_client" or "api_key"
    id: str
    name: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


def report(
    session: Session, tenant: Tenant, kinds: list[lifecycle.Kind[Any]], *, days: int
) -> list[Dormant]:
    """Active credentials of ``kinds`` unused for ``days`` days, least recently used first."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(f"days must be 1 to {MAX_DAYS}")
    now = utcnow()
    found: list[Dormant] = []
    for kind in kinds:
        rows = dormant(session, tenant, kind, since=now - timedelta(days=days), now=now)
        found.extend(_of(kind, row) for row in rows)
    return sorted(found, key=lambda d: (d.last_used_at or d.created_at, d.id))[:MAX_ROWS]


def dormant(
    session: Session, tenant: Tenant, kind: lifecycle.Kind[C], *, since: datetime, now: datetime
) -> list[C]:
    """Active credentials of ``kind`` not used since ``since`` (at most ``MAX_ROWS``)."""
    model: Any = kind.model
    rows = session.scalars(
        select(model)
        .where(
            model.tenant_id == tenant.id,
            lifecycle.status_condition(kind, "active", now),
            lifecycle.unused_since(model, since),
        )
        .options(*kind.eager())
        .limit(MAX_ROWS)
    )
    return list(rows)


def _of(kind: lifecycle.Kind[Any], row: Any) -> Dormant:
    return Dormant(
        kind=kind.target_type,
        id=kind.ref_of(row),
        name=row.name,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        expires_at=row.expires_at,
    )


def as_csv(found: list[Dormant]) -> str:
    """The report as CSV (RFC 4180), one row per credential, times in ISO 8601."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for item in found:
        writer.writerow([_cell(getattr(item, column)) for column in COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
