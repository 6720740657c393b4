"""``gatepass client`` commands: the lifecycle of OAuth client credentials."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from gatepass.cli import editing
from gatepass.cli import lifecycle as shared
from gatepass.cli.base import fail
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    emit_fields,
    emit_json,
)
from gatepass.clients import federation
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.db import utcnow
from gatepass.destinations import Rules
from gatepass.settings import Settings

T = TypeVar("T")
client_app = typer.Typer(help="OAuth client credentials (client ID and secret).")


def token_endpoint(public_url: str, tenant: str) -> str:
    return f"{public_url}/realms/{tenant}/protocol/openid-connect/token"


def client_view(client: OAuthClient) -> dict[str, Any]:
    now = utcnow()
    return {
        "client_id": client.client_id,
        **shared.view_of(CLIENT, client, now),
        "token_lifetime": client.token_lifetime,
        "secrets": shared.versions(client, now),
        "jwks": json.loads(client.jwks) if client.jwks is not None else None,
        "jwks_uri": client.jwks_uri,
        "federation": federation.rules_summary(client.federation),
    }


@client_app.command("create")
def create(
    tenant: str = TenantOption,
    name: str = typer.Option(..., "--name", help="What integration uses it."),
    description: str = shared.DescriptionOption,
    scope: list[str] = shared.ScopeOption,
    group: list[str] = shared.GroupOption,
    client_id: str = typer.Option(None, "--client-id", help="Choose the client ID."),
    expires_in: str = shared.ExpiresInOption,
    allow_ip: list[str] = shared.AllowIpOption,
    token_lifetime: int = typer.Option(
        None, "--token-lifetime", help="Seconds; default: tenant's."
    ),
    jwks_file: Path = typer.Option(
        None,
        "--jwks-file",
        help="A JWKS of the client's public keys: it authenticates with private_key_jwt and has"
        " no secret.",
    ),
    jwks_uri: str = typer.Option(
        None, "--jwks-uri", help="Instead of --jwks-file: the https URL of its public keys."
    ),
    federation_file: Path = typer.Option(
        None,
        "--federation-file",
        help="Federation rules (a JSON list): tokens of the tenant's trusted issuers that"
        " authenticate it; it has no secret.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Create a client; its secret is shown once (a client given keys has none)."""

    def spec() -> clients.NewClient:
        return clients.NewClient(
            name=name,
            description=description,
            scopes=scope or [],
            groups=group or [],
            client_id=client_id,
            expires_at=shared.expiry(expires_in),
            allowed_ips=allow_ip or [],
            token_lifetime=token_lifetime,
            jwks=_read_jwks(jwks_file) if jwks_file is not None else None,
            jwks_uri=jwks_uri,
            federation=_read_json(federation_file, "federation rules"),
        )

    view, secret = shared.created(tenant, _with_key_rules(clients.create_client), spec, client_view)
    _show_secret(view, secret, tenant, as_json)


def _client_changes(shared: dict[str, Any], own: dict[str, Any]) -> clients.ClientChanges:
    token_lifetime, tenant_lifetime = own["token_lifetime"], own["tenant_lifetime"]
    if token_lifetime is not None and tenant_lifetime:
        fail("--token-lifetime and --tenant-lifetime cannot be given together")
    jwks_file = own["jwks_file"]
    return clients.ClientChanges(
        **shared,
        token_lifetime=token_lifetime,
        clear_token_lifetime=tenant_lifetime,
        jwks=_read_jwks(jwks_file) if jwks_file is not None else None,
        jwks_uri=own["jwks_uri"],
        federation=_read_json(own["federation_file"], "federation rules"),
    )


def _with_key_rules(action: Callable[..., T]) -> Callable[..., T]:
    """``action`` with where a JWKS URL may point, as the settings say when it runs (not when
    this module is imported: a bad setting then stops only the command that needs it)."""

    @functools.wraps(action)
    def bound(*args: Any, **kwargs: Any) -> T:
        return action(*args, key_rules=Rules.for_keys(Settings()), **kwargs)

    return bound


editing.add_update(
    client_app,
    ref="client_id",
    title="Client",
    edit=_with_key_rules(clients.edit_client),
    view=client_view,
    own=[
        editing.option(
            "token_lifetime", int | None, typer.Option(None, "--token-lifetime", help="Seconds.")
        ),
        editing.option(
            "tenant_lifetime",
            bool,
            typer.Option(False, "--tenant-lifetime", help="Use the tenant's token lifetime again."),
        ),
        editing.option(
            "jwks_file",
            Path | None,
            typer.Option(None, "--jwks-file", help="New public keys (a client with keys only)."),
        ),
        editing.option(
            "jwks_uri",
            str | None,
            typer.Option(None, "--jwks-uri", help="A new URL of its public keys (likewise)."),
        ),
        editing.option(
            "federation_file",
            Path | None,
            typer.Option(
                None,
                "--federation-file",
                help="New federation rules, replacing the old (likewise; [] removes them).",
            ),
        ),
    ],
    spec=_client_changes,
    doc="Edit a client: options left out leave their field as it is. No secret changes; a"
    " client with keys may be given new ones.",
)


COLUMNS: list[shared.Column] = [
    ("name", lambda v: v["name"]),
    ("client ID", lambda v: v["client_id"]),
    ("permissions", shared.scopes),
    ("created by", lambda v: v["created_by"]),
    ("created on", lambda v: v["created_at"]),
    ("last used", shared.last_used),
    ("status", lambda v: v["status"]),
]


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
    _show_secret(view, secret, tenant, as_json)


shared.add_commands(
    client_app,
    CLIENT,
    "client_id",
    client_view,
    title="Client",
    columns=COLUMNS,
    docs={
        "list": "List a tenant's clients.",
        "show": "Show one client, with each secret version and when it was last used.",
        "retire": "End older secrets still in a grace period that have gone unused for --idle.",
        "suspend": "Suspend a client until it is resumed: no tokens, and its tokens stop"
        " introspecting active.",
        "resume": "Resume a suspended client.",
        "revoke": "Revoke a client: it can no longer get tokens, and its tokens stop"
        " introspecting active.",
        "revoke_all": "Revoke every client of a tenant.",
        "delete": "Delete a client for good. This cannot be undone.",
    },
)


def _read_jwks(path: Path) -> Any:
    return _read_json(path, "a JWKS")


def _read_json(path: Path | None, what: str) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        fail(f"cannot read {what} from {path}: {error}")


def _show_secret(view: dict[str, Any], secret: str | None, tenant: str, as_json: bool) -> None:
    endpoint = token_endpoint(Settings().public_url, tenant)
    if as_json:
        emit_json({**view, "client_secret": secret, "token_endpoint": endpoint})
        return
    keyed: dict[str, Any] = {}
    if view["jwks"] is not None:
        keyed = {"public keys": len(view["jwks"]["keys"])}
    elif view["jwks_uri"] is not None:
        keyed = {"public keys at": view["jwks_uri"]}
    if view["federation"]:
        keyed["trusted subjects"] = [
            f"{rule['subject']} ({rule['issuer']})" for rule in view["federation"]
        ]
    emit_fields(
        f"Client {view['name']}",
        {
            "client ID": view["client_id"],
            **({"client secret": secret} if secret is not None else keyed),
            "token endpoint": endpoint,
            "permissions": view["scopes"],
            "groups": view["groups"],
        },
    )
    if secret is not None:
        typer.echo("The secret is shown only this once: store it in your secrets vault now.")
    elif view["federation"]:
        typer.echo("It authenticates with a token of a trusted issuer that its rules match.")
    else:
        typer.echo("It authenticates with private_key_jwt, signed by one of its keys.")
