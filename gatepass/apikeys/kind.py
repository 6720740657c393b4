"""API keys as the credential lifecycle (``credentials.lifecycle``) sees them.

What keys add: a personal key is ``disabled`` while its owner is, and only its owner (or the
operator at the CLI) may see a new secret of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from gatepass import credential_secrets as cs
from gatepass.apikeys.models import ApiKey
from gatepass.audit.service import Actor
from gatepass.changes import feed
from gatepass.credentials.lifecycle import STATUSES, Kind
from gatepass.errors import ForbiddenError
from gatepass.users.models import User


def check_owner_acts(actor: Actor, owner_email: str, *, refusal: str) -> None:
    """Refuse (with ``refusal``) unless ``actor`` is the console user ``owner_email`` or the
    operator: whoever sees a personal key's secret acts as its owner, with the owner's role."""
    if actor.role is None:  # the operator at the CLI
        return
    if actor.kind == "user" and actor.id == owner_email.strip().lower():
        return
    raise ForbiddenError(refusal)


def _check_reveal(actor: Actor, key: ApiKey) -> None:
    if key.owner is not None:
        check_owner_acts(
            actor,
            key.owner.email,
            refusal=f"API key '{key.key_id}' is a personal key of another user: only its owner"
            " can regenerate it (revoking or deleting it is allowed)",
        )


def _inactive(key: ApiKey) -> str | None:
    if key.owner is not None and key.owner.status != "active":
        return "disabled"
    return None


def _status_sql(status: str, now: datetime) -> ColumnElement[bool] | None:
    owner_active = or_(ApiKey.owner_id.is_(None), ApiKey.owner.has(User.status == "active"))
    never_expires = or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)
    if status == "disabled":
        return and_(ApiKey.status == "active", ~owner_active)
    if status == "active":
        return and_(ApiKey.status == "active", never_expires, owner_active)
    if status == "expired":
        return and_(ApiKey.status == "active", ApiKey.expires_at <= now, owner_active)
    return None


API_KEY: Kind[ApiKey] = Kind(
    label="API key",
    plural="API keys",
    target_type="api_key",
    audit="apikey",
    rotate_action="regenerate",
    rotate_words="regenerate it",
    feed_kind=feed.KIND_APIKEY,
    secret_kind=cs.SecretKind.API_KEY,
    model=ApiKey,
    ref="key_id",
    loads=("owner",),
    inactive=_inactive,
    status_sql=_status_sql,
    statuses=(*STATUSES, "disabled"),
    check_reveal=_check_reveal,
    create_details=lambda key: {"owner": key.owner.email if key.owner else None},
)
