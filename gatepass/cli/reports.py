"""``gatepass report``: reports on a tenant's credentials."""

from __future__ import annotations

from dataclasses import asdict

import typer

from gatepass.apikeys.kind import API_KEY
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    emit_json,
    emit_table,
    iso,
    runtime,
    transaction,
)
from gatepass.clients.kind import CLIENT
from gatepass.credentials import dormancy
from gatepass.tenants import service as tenants

report_app = typer.Typer(help="Reports on a tenant's credentials.")


@report_app.command("dormant")
def dormant(
    tenant: str = TenantOption,
    days: int = typer.Option(90, "--days", help="Unused for at least this many days."),
    as_csv: bool = typer.Option(False, "--csv", help="CSV, for a spreadsheet."),
    as_json: bool = JsonOption,
) -> None:
    """Active clients and API keys not used for --days days (never used: since creation)."""
    with transaction(runtime()) as session:
        found = dormancy.report(
            session, tenants.get_tenant(session, tenant), [CLIENT, API_KEY], days=days
        )
    if as_csv:
        typer.echo(dormancy.as_csv(found), nl=False)
    elif as_json:
        emit_json([_as_json(d) for d in found])
    else:
        emit_table(
            f"Credentials of {tenant} unused for {days} days",
            ("kind", "id", "name", "created by", "last used"),
            [(d.kind, d.id, d.name, d.created_by, iso(d.last_used_at) or "never") for d in found],
        )


def _as_json(item: dormancy.Dormant) -> dict[str, object]:
    return {
        **asdict(item),
        "created_at": iso(item.created_at),
        "last_used_at": iso(item.last_used_at),
        "expires_at": iso(item.expires_at),
    }
