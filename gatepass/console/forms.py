"""The credential form, shared by OAuth clients, API keys and personal keys, new or edited."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from gatepass.api.auth import threaded
from gatepass.apikeys.service import RateLimit
from gatepass.console.web import Viewer, end_of_day, services
from gatepass.console.web import field as form_field
from gatepass.credentials import rules
from gatepass.errors import InvalidInputError
from gatepass.groups import service as groups
from gatepass.permissions import service as permissions
from gatepass.permissions.models import Permission
from gatepass.tenants import service as tenants
from gatepass.users.roles import role_can_grant

NOT_AVAILABLE = "Not available"
ADMINS_ONLY = "Only an administrator can grant this"
YOUR_ROLE = "Your role cannot hold this"
EMPTY_KEY = (
    "A key with no permission can do nothing: every API refuses it, and permissions cannot be"
    " added to a key later. Choose the permissions it needs, or create it without any."
)
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class PermissionChoice:
    """One permission checkbox; ``reason`` says why it cannot be chosen, if so."""

    name: str
    label: str
    description: str
    reason: str
    management: bool = False  # one of Gatepass's own (built in), not the product's

    @classmethod
    def of(cls, permission: Permission, role: str, *, personal: bool = False) -> PermissionChoice:
        reason = ""
        if not permission.available:
            reason = permission.unavailable_reason or NOT_AVAILABLE
        elif not role_can_grant(role, permission.name):
            reason = YOUR_ROLE if personal else ADMINS_ONLY
        return cls(
            permission.name, permission.label, permission.description, reason, permission.builtin
        )


@dataclass
class CredentialForm:
    """What was typed into the form, kept to fill it again when it comes back with an error."""

    name: str = ""
    description: str = ""
    scopes: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    expires_on: str = ""
    email_to: str = ""
    rate_requests: str = ""
    rate_period: str = "minute"
    allowed_ips: str = ""  # one address or CIDR range per line (or space- or comma-separated)
    jwks: str = ""  # a client's public keys (JWKS JSON): private_key_jwt, no secret
    jwks_uri: str = ""  # ... or the URL that publishes them
    federation: str = ""  # ... or federation rules (JSON list): trusted issuers' tokens
    keys_given: bool = False  # keys were pasted (kept open when they come back refused)
    empty_ok: bool = False  # created with no permission after the warning said what that means

    @classmethod
    def of(cls, row: Any) -> CredentialForm:
        """The form filled with what a stored credential holds (a client or an API key)."""
        requests, period = cls.rate_of(
            getattr(row, "rate_limit", None), getattr(row, "rate_period", None)
        )
        return cls(
            name=row.name,
            description=row.description,
            scopes=[p.name for p in row.permissions],
            groups=[g.name for g in row.groups],
            expires_on=date_of(row.expires_at),
            rate_requests=requests,
            rate_period=period,
            allowed_ips="\n".join(row.allowed_ips.split()),
        )

    @staticmethod
    def rate_of(limit: int | None, period: int | None) -> tuple[str, str]:
        """A stored rate limit as the form shows it: per second, minute, hour or day, or per
        its number of seconds when it is none of those (set by the API or the CLI: 30 s)."""
        if limit is None or period is None:
            return "", "minute"
        names = {seconds: name for name, seconds in PERIODS.items()}
        return str(limit), names.get(period, str(period))

    @classmethod
    def read(cls, form: FormData) -> CredentialForm:
        return cls(
            name=form_field(form, "name"),
            description=form_field(form, "description"),
            scopes=[str(v) for v in form.getlist("scopes")],
            groups=[str(v) for v in form.getlist("groups")],
            expires_on=form_field(form, "expires_on"),
            email_to=form_field(form, "email_to").strip(),
            rate_requests=form_field(form, "rate_requests").strip(),
            rate_period=form_field(form, "rate_period") or "minute",
            allowed_ips=form_field(form, "allowed_ips"),
            jwks=form_field(form, "jwks").strip(),
            jwks_uri=form_field(form, "jwks_uri").strip(),
            federation=form_field(form, "federation").strip(),
            keys_given=any(
                form_field(form, name).strip() for name in ("jwks", "jwks_uri", "federation")
            ),
            empty_ok=form_field(form, "empty_ok") == "yes",
        )

    def shared(self) -> dict[str, Any]:
        """The fields of ``lifecycle.NewCredential``, which every kind's spec extends."""
        return {
            "name": self.name,
            "description": self.description,
            "scopes": self.scopes,
            "groups": self.groups,
            "expires_at": end_of_day(self.expires_on),
            "allowed_ips": self.allowed_ips.replace(",", " ").split(),
        }

    def public_keys(self) -> dict[str, Any] | None:
        """The JWKS pasted into the form (none: the client gets a secret). Its keys are checked
        by the clients service; here only that it is a JSON object."""
        if not self.jwks:
            return None
        try:
            parsed = json.loads(self.jwks)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise InvalidInputError('public keys must be a JWKS: a JSON object {"keys": [...]}')
        return parsed

    def federation_rules(self) -> list[Any] | None:
        """The federation rules typed into the form (none: not a federated client), checked by
        the clients service; here only that they are a JSON list."""
        if not self.federation:
            return None
        try:
            parsed = json.loads(self.federation)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list):
            raise InvalidInputError(
                'federation rules must be a JSON list: [{"issuer": ..., "subject": ...}]'
            )
        return parsed

    def rate_limit(self) -> RateLimit | None:
        return read_rate(self.rate_requests, self.rate_period)


def read_rate(requests: str, period: str) -> RateLimit | None:
    """A rate limit as a form gives it (requests, and a period's name); none if no requests."""
    if not requests:
        return None
    if not (requests.isascii() and requests.isdigit() and len(requests) <= 10):
        raise InvalidInputError(f"the rate limit must be a whole number: {rules.RATE_LIMIT_RULE}")
    return RateLimit(int(requests), period_seconds(period))


def period_seconds(period: str) -> int:
    """A period as a form gives it: a named one, or the seconds of one kept as stored (the
    form shows a period it cannot name, set through the API or the CLI, by its seconds)."""
    if period in PERIODS:
        return PERIODS[period]
    if period.isascii() and period.isdigit() and len(period) <= 9:
        return int(period)
    raise InvalidInputError("the rate limit period must be second, minute, hour or day")


def date_of(when: datetime | None) -> str:
    """A stored expiry as the form's date field shows it (its day, UTC)."""
    if when is None:
        return ""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).date().isoformat()


async def choices(request: Request, viewer: Viewer, *, personal: bool = False) -> dict[str, object]:
    """The permissions the form offers, the tenant's own (``permissions``) apart from
    Gatepass's management ones (``management``), and the client groups."""

    def load() -> dict[str, object]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            listed = [
                PermissionChoice.of(p, viewer.role, personal=personal)
                for p in permissions.list_permissions(session, found)
            ]
            return {
                "permissions": [p for p in listed if not p.management],
                "management": [p for p in listed if p.management],
                "groups": [] if personal else groups.list_groups(session, found),
            }

    return await threaded(load)
