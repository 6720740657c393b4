"""``gatepass client`` commands: the lifecycle of OAuth client credentials."""

from __future__ import annotations

from typing import Any

import typer

from gatepass.audit.service import Actor
from gatepass.cli import lifecycle as shared
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    emit_fields,
    emit_json,
    emit_table,
    iso,
    parse_duration,
    runtime,
    transaction,
)
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.credentials import lifecycle
from gatepass.db import utcnow
from gatepass.tenants import service as tenants

client_app = typer.Typer(help="OAuth client credentials (client ID and secret).")


def token_endpoint(public_url: str, tenant: str) -> str:
    return f"{public_url}/realms/{tenant}/protocol/openid-connect/token"


def client_view(client: OAuthClient) -> dict[str, Any]:
    now = utcnow()
    return {
        "client_id": client.client_id,
        "name": client.name,
        "description": client.description,
        "scopes": [p.name for p in client.permissions],
        "groups": [g.name for g in client.groups],
        "status": lifecycle.status_of(CLIENT, client, now),
        "created_by": client.created_by,
        "created_at": iso(client.created_at),
        "last_used_at": iso(client.last_used_at),
        "expires_at": iso(client.expires_at),
        "token_lifetime": client.token_lifetime,
        "secrets": [
            {
                "hint": s.hint,
                "created_at": iso(s.created_at),
                "expires_at": iso(s.expires_at),
                "last_used_at": iso(s.last_used_at),
                "active": s.expires_at is None or s.expires_at > now,
            }
            for s in client.secrets
        ],
    }


@client_app.command("create")
def create(
    tenant: str = TenantOption,
    name: str = typer.Option(..., "--name", help="What integration uses it."),
    description: str = typer.Option("", "--description"),
    scope: list[str] = typer.Option(None, "--scope", help="Permission to grant (repeatable)."),
    group: list[str] = typer.Option(None, "--group", help="Client group (repeatable)."),
    client_id: str = typer.Option(None, "--client-id", help="Choose the client ID."),
    expires_in: str = typer.Option(None, "--expires-in", help="e.g. 90d; default: never."),
    token_lifetime: int = typer.Option(
        None, "--token-lifetime", help="Seconds; default: tenant's."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a client; its secret is shown once."""
    rt = runtime()
    spec = clients.NewClient(
        name=name,
        description=description,
        scopes=scope or [],
        groups=group or [],
        client_id=client_id,
        expires_at=utcnow() + parse_duration(expires_in) if expires_in else None,
        token_lifetime=token_lifetime,
    )
    with transaction(rt) as session:
        t = tenants.get_tenant(session, tenant)
        client, secret = clients.create_client(
            session, t, spec, actor=Actor.cli(), hasher=rt.hasher
        )
        view = client_view(client)
    _show_secret(view, secret.reveal(), token_endpoint(rt.settings.public_url, tenant), as_json)


@client_app.command("list")
def list_(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """List a tenant's clients."""
    views = shared.listed(CLIENT, tenant, client_view)
    if as_json:
        emit_json(views)
        return
    emit_table(
        f"OAuth clients of {tenant}",
        ("name", "client ID", "permissions", "created by", "created on", "last used", "status"),
        [
            (
                v["name"],
                v["client_id"],
                " ".join(v["scopes"]),
                v["created_by"],
                v["created_at"],
                v["last_used_at"] or "never",
                v["status"],
            )
            for v in views
        ],
    )


@client_app.command("show")
def show(client_id: str, tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """Show one client, with each secret version and when it was last used."""
    view = shared.shown(CLIENT, tenant, client_id, client_view)
    if as_json:
        emit_json(view)
        return
    emit_fields(f"Client {client_id}", {k: v for k, v in view.items() if k != "secrets"})
    emit_table(
        "Secret versions",
        ("hint", "created", "ends", "last used", "active"),
        [
            (
                s["hint"],
                s["created_at"],
                s["expires_at"] or "-",
                s["last_used_at"] or "never",
                "yes" if s["active"] else "no",
            )
            for s in view["secrets"]
        ],
    )


@client_app.command("rotate-secret")
def rotate_secret(
    client_id: str,
    tenant: str = TenantOption,
    grace: str = typer.Option(
        None, "--grace", help="Keep older secrets valid this long, e.g. 24h."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Issue a new secret (shown once); older ones stop now or after the grace period."""
    view, secret = shared.rotated(CLIENT, tenant, client_id, grace, client_view)
    _show_secret(view, secret, token_endpoint(runtime().settings.public_url, tenant), as_json)


shared.add_commands(
    client_app,
    CLIENT,
    "client_id",
    client_view,
    {
        "revoke": "Revoke a client: it can no longer get tokens, and its tokens stop"
        " introspecting active.",
        "revoke_all": "Revoke every client of a tenant.",
        "delete": "Delete a client for good. This cannot be undone.",
    },
)


def _show_secret(view: dict[str, Any], secret: str, endpoint: str, as_json: bool) -> None:
    if as_json:
        emit_json({**view, "client_secret": secret, "token_endpoint": endpoint})
        return
    emit_fields(
        f"Client {view['name']}",
        {
            "client ID": view["client_id"],
            "client secret": secret,
            "token endpoint": endpoint,
            "permissions": view["scopes"],
            "groups": view["groups"],
        },
    )
    typer.echo("The secret is shown only this once: store it in your secrets vault now.")
