"""What is an OAuth client's own: its client ID, its token lifetime, and creating one.

Editing one adds the token lifetime to ``credentials.editing``. The rest of its lifecycle
(rotate the secret, suspend, resume, revoke, revoke all, delete, find, list, status) is the one
every credential shares: ``credentials.lifecycle`` with ``clients.kind.CLIENT``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gatepass import credential_secrets as cs
from gatepass.audit.service import Actor
from gatepass.clients import keys
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.credentials import editing, lifecycle
from gatepass.errors import ConflictError, InvalidInputError
from gatepass.tenants.models import Tenant
from gatepass.tenants.service import MAX_LIFETIME, MIN_LIFETIME

# No ':' (it separates id and secret in HTTP Basic) and nothing that needs quoting in a URL.
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{2,99}\Z")


@dataclass(frozen=True)
class NewClient(lifecycle.NewCredential):
    client_id: str | None = None
    token_lifetime: int | None = None
    # a JWKS of public keys: the client authenticates with ``private_key_jwt``, has no secret
    jwks: dict[str, Any] | None = None


def create_client(
    session: Session, tenant: Tenant, spec: NewClient, *, actor: Actor, hasher: cs.SecretHasher
) -> tuple[OAuthClient, cs.Plaintext | None]:
    """A new client and its secret, shown once; a client given ``jwks`` has no secret."""

    def own() -> dict[str, Any]:
        client_id = spec.client_id or _generate_client_id()
        if not CLIENT_ID.match(client_id):
            raise InvalidInputError(
                "client ID must be 3-100 letters, digits or . _ ~ -, starting with a letter or"
                " digit"
            )
        if client_id.startswith(tuple(kind.value for kind in cs.SecretKind)):
            raise InvalidInputError(
                "a client ID must not look like a Gatepass secret (gpcs_, gpk_)"
            )
        if lifecycle.find(session, tenant.id, CLIENT, client_id) is not None:
            raise ConflictError(
                f"client ID '{client_id}' is already used in tenant '{tenant.slug}'"
            )
        return {
            "client_id": client_id,
            "token_lifetime": _lifetime(spec.token_lifetime),
            "jwks": None if spec.jwks is None else keys.checked_jwks(spec.jwks),
        }

    return lifecycle.create(
        session,
        tenant,
        CLIENT,
        spec,
        actor=actor,
        hasher=hasher,
        own=own,
        with_secret=spec.jwks is None,
    )


@dataclass(frozen=True)
class ClientChanges(editing.CredentialChanges):
    token_lifetime: int | None = None
    clear_token_lifetime: bool = False  # back to the tenant's lifetime


def edit_client(
    session: Session, tenant: Tenant, client_id: str, changes: ClientChanges, *, actor: Actor
) -> OAuthClient:
    """Edit a client (``credentials.editing``), its token lifetime included."""

    def own(client: OAuthClient) -> dict[str, Any]:
        if changes.token_lifetime is None and not changes.clear_token_lifetime:
            return {}
        lifetime = None if changes.clear_token_lifetime else _lifetime(changes.token_lifetime)
        if lifetime == client.token_lifetime:
            return {}
        client.token_lifetime = lifetime
        return {"token_lifetime": lifetime}

    return editing.edit(session, tenant, CLIENT, client_id, changes, actor=actor, own=own)


def _lifetime(seconds: int | None) -> int | None:
    if seconds is not None and not MIN_LIFETIME <= seconds <= MAX_LIFETIME:
        raise InvalidInputError(f"token lifetime must be {MIN_LIFETIME}-{MAX_LIFETIME} seconds")
    return seconds


def _generate_client_id() -> str:
    return "gp-" + secrets.token_hex(10)
