"""``gatepass audit export``: a tenant's audit log as JSON lines, for a SIEM or an archive."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

import typer
from pydantic import TypeAdapter, ValidationError

from gatepass.api.schemas import AuditEventOut
from gatepass.audit import service as audit
from gatepass.cli.base import fail
from gatepass.cli.common import TenantOption, parse_duration, runtime, transaction
from gatepass.db import utcnow
from gatepass.tenants import service as tenants

audit_app = typer.Typer(help="The audit log.")

_AWARE = TypeAdapter(datetime)


def parse_since(value: str | None) -> datetime | None:
    """An ISO 8601 time with its offset, or a duration back from now (``24h``, ``30d``)."""
    if value is None:
        return None
    if value[:1].isdigit() and not any(c in value for c in "-:T"):
        return utcnow() - parse_duration(value)
    try:
        moment = _AWARE.validate_python(value)
    except ValidationError:
        fail(f"invalid time '{value[:50]}': use e.g. 2026-11-01T00:00:00Z or 24h")
    if moment.tzinfo is None:
        fail(f"time '{value[:50]}' needs a UTC offset, e.g. 2026-11-01T00:00:00Z")
    return moment


@audit_app.command("export")
def export(
    tenant: str = TenantOption,
    since: str = typer.Option(
        None, "--since", help="From this time, e.g. 2026-11-01T00:00:00Z or 7d."
    ),
    until: str = typer.Option(None, "--until", help="Before this time."),
    action: str = typer.Option(None, "--action", help="An action, or a family such as 'client.'."),
    actor: str = typer.Option(None, "--actor", help="A user's email or a client ID."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
) -> None:
    """Write the tenant's audit events as JSON lines, oldest first."""
    rt = runtime()
    where = audit.AuditFilter(
        actor=actor, action=action, since=parse_since(since), until=parse_since(until)
    )
    with transaction(rt) as session:
        found = tenants.get_tenant(session, tenant)
        target: TextIO = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            count = 0
            for event in audit.export_events(session, found.id, where):
                target.write(AuditEventOut.of(event).model_dump_json() + "\n")
                count += 1
        finally:
            if output:
                target.close()
    if output:
        typer.echo(f"Wrote {count} audit events to {output}.", err=True)
