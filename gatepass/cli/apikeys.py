"""``gatepass apikey`` commands: API keys (pre-shared keys), service or personal."""

from __future__ import annotations

import re
from typing import Any

import typer

from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.cli import editing
from gatepass.cli import lifecycle as shared
from gatepass.cli.base import fail
from gatepass.cli.common import (
    JsonOption,
    TenantOption,
    emit_fields,
    emit_json,
    parse_duration,
)
from gatepass.db import utcnow

apikey_app = typer.Typer(help="API keys, sent as Authorization-PSK, X-API-Key or ?apikey=.")

_RATE = re.compile(r"^(\d{1,10})\s*/\s*(\d*\s*[smhd])\Z")


def key_view(key: ApiKey) -> dict[str, Any]:
    now = utcnow()
    live = [s for s in key.secrets if s.expires_at is None or s.expires_at > now]
    return {
        "id": key.key_id,
        **shared.view_of(API_KEY, key, now),
        "kind": "personal" if key.owner is not None else "service",
        "owner": key.owner.email if key.owner is not None else None,
        "hint": live[-1].hint if live else None,
        "rate_limit": f"{key.rate_limit}/{key.rate_period}s" if key.rate_limit else None,
        "secrets": shared.versions(key, now),
    }


def parse_rate(value: str) -> apikeys.RateLimit:
    """``100/m``, ``5000/1h``, ``10/30s``: requests per period."""
    match = _RATE.match(value.strip())
    if not match:
        fail(f"invalid rate limit '{value[:50]}': use N/PERIOD, e.g. 100/m or 5000/1h")
    period = match.group(2).replace(" ", "")
    seconds = parse_duration(period if period[0].isdigit() else "1" + period)
    return apikeys.RateLimit(int(match.group(1)), int(seconds.total_seconds()))


@apikey_app.command("create")
def create(
    tenant: str = TenantOption,
    name: str = typer.Option(..., "--name", help="What uses the key."),
    description: str = shared.DescriptionOption,
    scope: list[str] = shared.ScopeOption,
    group: list[str] = shared.GroupOption,
    owner: str = typer.Option(None, "--owner", help="Email of the user owning a personal key."),
    expires_in: str = shared.ExpiresInOption,
    allow_ip: list[str] = shared.AllowIpOption,
    rate_limit: str = typer.Option(None, "--rate-limit", help="N/PERIOD, e.g. 100/m."),
    as_json: bool = JsonOption,
) -> None:
    """Create an API key; the key is shown once."""

    def spec() -> apikeys.NewApiKey:
        return apikeys.NewApiKey(
            name=name,
            description=description,
            scopes=scope or [],
            groups=group or [],
            owner_email=owner,
            expires_at=shared.expiry(expires_in),
            allowed_ips=allow_ip or [],
            rate_limit=parse_rate(rate_limit) if rate_limit else None,
        )

    view, secret = shared.created(tenant, apikeys.create_key, spec, key_view)
    _show_key(view, secret, as_json)


def _key_changes(shared: dict[str, Any], own: dict[str, Any]) -> apikeys.ApiKeyChanges:
    rate_limit, no_rate_limit = own["rate_limit"], own["no_rate_limit"]
    if rate_limit and no_rate_limit:
        fail("--rate-limit and --no-rate-limit cannot be given together")
    return apikeys.ApiKeyChanges(
        **shared,
        rate_limit=parse_rate(rate_limit) if rate_limit else None,
        clear_rate_limit=no_rate_limit,
    )


editing.add_update(
    apikey_app,
    ref="key_id",
    title="API key",
    edit=apikeys.edit_key,
    view=key_view,
    own=[
        editing.option(
            "rate_limit",
            str | None,
            typer.Option(None, "--rate-limit", help="N/PERIOD, e.g. 100/m."),
        ),
        editing.option(
            "no_rate_limit",
            bool,
            typer.Option(False, "--no-rate-limit", help="Remove the rate limit."),
        ),
    ],
    spec=_key_changes,
    doc="Edit an API key: options left out leave their field as it is. The key does not change.",
)


COLUMNS: list[shared.Column] = [
    ("name", lambda v: v["name"]),
    ("id", lambda v: v["id"]),
    ("key", lambda v: v["hint"]),
    ("permissions", shared.scopes),
    ("owner", lambda v: v["owner"] or "service"),
    ("created on", lambda v: v["created_at"]),
    ("last used", shared.last_used),
    ("status", lambda v: v["status"]),
]


@apikey_app.command("regenerate")
def regenerate(
    key_id: str,
    tenant: str = TenantOption,
    grace: str = typer.Option(None, "--grace", help="Keep the old key valid this long."),
    as_json: bool = JsonOption,
) -> None:
    """Give the key a new secret (shown once); anything using the old one stops working."""
    view, secret = shared.rotated(API_KEY, tenant, key_id, grace, key_view)
    _show_key(view, secret, as_json)


shared.add_commands(
    apikey_app,
    API_KEY,
    "key_id",
    key_view,
    title="API key",
    columns=COLUMNS,
    docs={
        "list": "List a tenant's API keys.",
        "show": "Show one API key.",
        "retire": "End older versions still in a grace period that have gone unused for --idle.",
        "suspend": "Suspend an API key until it is resumed (verify answers SUSPENDED).",
        "resume": "Resume a suspended API key.",
        "revoke": "Revoke an API key: it stops working at once.",
        "revoke_all": "Revoke every API key of a tenant.",
        "delete": "Delete an API key for good. This cannot be undone.",
    },
)


def _show_key(view: dict[str, Any], secret: str, as_json: bool) -> None:
    if as_json:
        emit_json({**view, "key": secret})
        return
    emit_fields(
        f"API key {view['name']}",
        {
            "id": view["id"],
            "key": secret,
            "permissions": view["scopes"],
            "groups": view["groups"],
            "owner": view["owner"],
        },
    )
    typer.echo("The key is shown only this once: store it in your secrets vault now.")
