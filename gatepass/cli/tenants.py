"""``gatepass tenant``, ``permission``, ``group`` and ``signing-key`` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from gatepass import provisioning
from gatepass.audit.service import Actor
from gatepass.cli.apikeys import parse_rate
from gatepass.cli.base import fail
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
from gatepass.clients import federation
from gatepass.credentials.policy import CredentialPolicy
from gatepass.destinations import Rules
from gatepass.groups import service as groups
from gatepass.permissions import service as permissions
from gatepass.signing_keys import service as signing_keys
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.tenants.service import TenantSettings

tenant_app = typer.Typer(help="Tenants (Keycloak realms): each is its own token issuer.")
permission_app = typer.Typer(help="A tenant's permission catalog (OAuth scopes).")
group_app = typer.Typer(help="Client groups: sets of data a credential can be restricted to.")
key_app = typer.Typer(help="Token signing keys.")


def tenant_view(tenant: Tenant, public_url: str) -> dict[str, Any]:
    issuer = f"{public_url}/realms/{tenant.slug}"
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "issuer": issuer,
        "token_endpoint": f"{issuer}/protocol/openid-connect/token",
        "audience": tenant.audience,
        "allowed_audiences": tenant.allowed_audiences,
        "token_lifetime": tenant.token_lifetime,
        "signing_alg": tenant.signing_alg,
        "created_at": iso(tenant.created_at),
        "credential_policy": tenant.credential_policy,
        "trusted_issuers": federation.issuers_summary(tenant.trusted_issuers),
        "require_dpop_nonce": tenant.require_dpop_nonce,
        "token_exchange_lifetime": tenant.token_exchange_lifetime,
    }


@tenant_app.command("create")
def tenant_create(
    slug: str,
    name: str = typer.Option(None, "--name", help="Display name."),
    audience: str = typer.Option(None, "--audience", help="Default token audience (a URI)."),
    signing_alg: str = typer.Option("ES256", "--signing-alg", help="ES256, RS256 or EdDSA."),
    as_json: bool = JsonOption,
) -> None:
    """Create a tenant with its built-in permissions and a signing key."""
    rt = runtime()
    with transaction(rt) as session:
        tenant = provisioning.create_tenant(
            session,
            slug=slug,
            name=name,
            actor=Actor.cli(),
            cipher=rt.cipher,
            audience=audience,
            signing_alg=signing_alg,
            token_lifetime=rt.settings.default_token_lifetime,
        )
        view = tenant_view(tenant, rt.settings.public_url)
    emit_json(view) if as_json else emit_fields(f"Tenant {slug} created", view)


@tenant_app.command("list")
def tenant_list(as_json: bool = JsonOption) -> None:
    """List tenants."""
    rt = runtime()
    with transaction(rt) as session:
        views = [tenant_view(t, rt.settings.public_url) for t in tenants.list_tenants(session)]
    if as_json:
        emit_json(views)
        return
    emit_table(
        "Tenants",
        ("slug", "name", "issuer", "alg", "lifetime"),
        [(v["slug"], v["name"], v["issuer"], v["signing_alg"], v["token_lifetime"]) for v in views],
    )


@tenant_app.command("show")
def tenant_show(slug: str, as_json: bool = JsonOption) -> None:
    """Show a tenant's settings."""
    rt = runtime()
    with transaction(rt) as session:
        view = tenant_view(tenants.get_tenant(session, slug), rt.settings.public_url)
    emit_json(view) if as_json else emit_fields(f"Tenant {slug}", view)


@tenant_app.command("set")
def tenant_set(
    slug: str,
    name: str = typer.Option(None, "--name"),
    token_lifetime: int = typer.Option(None, "--token-lifetime", help="Seconds (30-86400)."),
    audience: str = typer.Option(None, "--audience", help="Default audience."),
    allowed_audience: list[str] = typer.Option(
        None, "--allowed-audience", help="Audience a token request may pick with 'resource'."
    ),
    signing_alg: str = typer.Option(None, "--signing-alg", help="Rotates to a new key."),
    trusted_issuers_file: Path = typer.Option(
        None,
        "--trusted-issuers-file",
        help="The external issuers to trust for workload identity federation (a JSON list of"
        ' {"issuer", "name", "jwks_uri" or "jwks"}), replacing the list; [] trusts none.',
    ),
    require_dpop_nonce: bool = typer.Option(
        None,
        "--require-dpop-nonce/--no-require-dpop-nonce",
        help="Whether DPoP proofs must carry a server nonce (RFC 9449 §8).",
    ),
    token_exchange_lifetime: int = typer.Option(
        None,
        "--token-exchange-lifetime",
        help="Allow token exchange (RFC 8693) for tokens living at most this many seconds"
        " (30-3600); 0 turns it off.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Change a tenant's token settings."""
    rt = runtime()
    changes = TenantSettings(
        name=name,
        token_lifetime=token_lifetime,
        audience=audience,
        allowed_audiences=tuple(allowed_audience) if allowed_audience else None,
        signing_alg=signing_alg,
        trusted_issuers=_read_issuers(trusted_issuers_file),
        require_dpop_nonce=require_dpop_nonce,
        token_exchange_lifetime=token_exchange_lifetime,
    )
    with transaction(rt) as session:
        tenant = tenants.get_tenant(session, slug)
        provisioning.update_settings(
            session,
            tenant,
            changes,
            actor=Actor.cli(),
            cipher=rt.cipher,
            key_rules=Rules.for_keys(rt.settings),
        )
        view = tenant_view(tenant, rt.settings.public_url)
    emit_json(view) if as_json else emit_fields(f"Tenant {slug} updated", view)


def _read_issuers(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        fail(f"cannot read trusted issuers from {path}: {error}")


@tenant_app.command("policy")
def tenant_policy(
    slug: str,
    max_lifetime: str = typer.Option(
        None, "--max-lifetime", help="Credentials must expire within this, e.g. 90d."
    ),
    require_expiry: bool = typer.Option(False, "--require-expiry", help="Credentials must expire."),
    default_rate_limit: str = typer.Option(
        None, "--default-rate-limit", help="For new API keys without one, e.g. 100/m."
    ),
    allow_ip: list[str] = typer.Option(
        None, "--allow-ip", help="Credentials may be used from inside this range (repeatable)."
    ),
    leak_action: str = typer.Option(
        "revoke", "--leak-action", help="On a report of a leaked secret: revoke or suspend."
    ),
    dormant_after: str = typer.Option(
        None, "--dormant-after", help="Unused this long, e.g. 90d, a credential is dormant."
    ),
    suspend_dormant: bool = typer.Option(
        False, "--auto-suspend-dormant", help="Suspend dormant credentials."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Set the tenant's credential policy, replacing the old one (no option: no policy)."""
    rt = runtime()
    with transaction(rt) as session:
        rate = parse_rate(default_rate_limit) if default_rate_limit else None
        policy = CredentialPolicy(
            max_lifetime_days=_days(max_lifetime, "--max-lifetime") if max_lifetime else None,
            expiry_required=require_expiry,
            default_rate_limit=rate.limit if rate else None,
            default_rate_period=rate.period if rate else None,
            allowed_ips=tuple(allow_ip or ()),
            leak_action=leak_action,
            dormant_after_days=_days(dormant_after, "--dormant-after") if dormant_after else None,
            auto_suspend_dormant=suspend_dormant,
        )
        tenant = tenants.get_tenant(session, slug)
        changes = TenantSettings(credential_policy=policy.stored())
        provisioning.update_settings(session, tenant, changes, actor=Actor.cli(), cipher=rt.cipher)
        shown = tenant.credential_policy
    emit_json(shown) if as_json else emit_fields(f"Credential policy of {slug}", shown)


def _days(value: str, option: str) -> int:
    period = parse_duration(value)
    if period.total_seconds() % 86400:
        fail(f"{option} must be whole days, e.g. 90d (not '{value[:20]}')")
    return int(period.total_seconds() // 86400)


@permission_app.command("create")
def permission_create(
    name: str,
    tenant: str = TenantOption,
    label: str = typer.Option(None, "--label"),
    description: str = typer.Option("", "--description"),
    unavailable: bool = typer.Option(False, "--unavailable", help="Listed but cannot be granted."),
    reason: str = typer.Option("", "--reason", help="Why it is unavailable (shown to admins)."),
    as_json: bool = JsonOption,
) -> None:
    """Add a permission (an OAuth scope) to a tenant's catalog."""
    rt = runtime()
    with transaction(rt) as session:
        t = tenants.get_tenant(session, tenant)
        permission = permissions.create_permission(
            session,
            t,
            name=name,
            label=label,
            description=description,
            available=not unavailable,
            unavailable_reason=reason,
            actor=Actor.cli(),
        )
        view = _permission_view(permission)
    emit_json(view) if as_json else emit_fields(f"Permission {name} created", view)


@permission_app.command("set-availability")
def permission_set_availability(
    name: str,
    tenant: str = TenantOption,
    unavailable: bool = typer.Option(
        False, "--unavailable", help="Listed but cannot be granted (default: available)."
    ),
    reason: str = typer.Option("", "--reason", help="Why it is unavailable (shown to admins)."),
    as_json: bool = JsonOption,
) -> None:
    """Make a permission available to grant, or unavailable (for example, not licensed)."""
    rt = runtime()
    with transaction(rt) as session:
        permission = permissions.set_availability(
            session,
            tenants.get_tenant(session, tenant),
            name,
            available=not unavailable,
            reason=reason,
            actor=Actor.cli(),
        )
        view = _permission_view(permission)
    emit_json(view) if as_json else emit_fields(f"Permission {name} updated", view)


@permission_app.command("list")
def permission_list(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """List a tenant's permission catalog."""
    rt = runtime()
    with transaction(rt) as session:
        views = [
            _permission_view(p)
            for p in permissions.list_permissions(session, tenants.get_tenant(session, tenant))
        ]
    if as_json:
        emit_json(views)
        return
    emit_table(
        f"Permissions of {tenant}",
        ("name", "label", "available", "built-in"),
        [
            (
                v["name"],
                v["label"],
                "yes" if v["available"] else f"no: {v['reason']}",
                "yes" if v["builtin"] else "",
            )
            for v in views
        ],
    )


def _permission_view(p: Any) -> dict[str, Any]:
    return {
        "name": p.name,
        "label": p.label,
        "description": p.description,
        "available": p.available,
        "reason": p.unavailable_reason,
        "builtin": p.builtin,
    }


@group_app.command("create")
def group_create(name: str, tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """Create a client group."""
    rt = runtime()
    with transaction(rt) as session:
        group = groups.create_group(
            session, tenants.get_tenant(session, tenant), name=name, actor=Actor.cli()
        )
        view = {"name": group.name, "tenant": tenant}
    emit_json(view) if as_json else emit_fields(f"Group {group.name} created", view)


@group_app.command("list")
def group_list(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """List a tenant's client groups."""
    rt = runtime()
    with transaction(rt) as session:
        names = [g.name for g in groups.list_groups(session, tenants.get_tenant(session, tenant))]
    emit_json(names) if as_json else emit_table(
        f"Groups of {tenant}", ("name",), [(n,) for n in names]
    )


@key_app.command("rotate")
def key_rotate(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """Make a new signing key current; the old one stays published until its tokens expire."""
    rt = runtime()
    with transaction(rt) as session:
        t = tenants.get_tenant(session, tenant)
        key = signing_keys.rotate(session, t, rt.cipher, actor=Actor.cli())
        view = {"kid": key.kid, "alg": key.alg, "tenant": tenant}
    emit_json(view) if as_json else emit_fields("New current signing key", view)


@key_app.command("list")
def key_list(tenant: str = TenantOption, as_json: bool = JsonOption) -> None:
    """List a tenant's signing keys and whether they are still published."""
    rt = runtime()
    with transaction(rt) as session:
        t = tenants.get_tenant(session, tenant)
        published = {k.kid for k in signing_keys.published_keys(session, t.id)}
        views = [
            {
                "kid": k.kid,
                "alg": k.alg,
                "status": k.status,
                "published": k.kid in published,
                "created_at": iso(k.created_at),
                "publish_until": iso(k.publish_until),
            }
            for k in signing_keys.list_keys(session, t.id)
        ]
    if as_json:
        emit_json(views)
        return
    emit_table(
        f"Signing keys of {tenant}",
        ("kid", "alg", "status", "published", "created"),
        [
            (v["kid"], v["alg"], v["status"], "yes" if v["published"] else "no", v["created_at"])
            for v in views
        ],
    )
