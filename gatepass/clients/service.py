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
from gatepass.clients import federation, keys
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.credentials import editing, lifecycle
from gatepass.destinations import Rules, origin
from gatepass.errors import ConflictError, ForbiddenError, InvalidInputError
from gatepass.tenants.models import Tenant
from gatepass.tenants.service import MAX_LIFETIME, MIN_LIFETIME
from gatepass.users.roles import ungrantable

STRICT = Rules()  # https to public addresses only
# No ':' (it separates id and secret in HTTP Basic) and nothing that needs quoting in a URL.
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{2,99}\Z")


@dataclass(frozen=True)
class NewClient(lifecycle.NewCredential):
    client_id: str | None = None
    token_lifetime: int | None = None
    # a JWKS of public keys, or the URL that publishes them: the client authenticates with
    # ``private_key_jwt`` and has no secret
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    # tokens of trusted issuers that authenticate it (``clients.federation``); no secret either
    federation: list[Any] | None = None


def create_client(
    session: Session,
    tenant: Tenant,
    spec: NewClient,
    *,
    actor: Actor,
    hasher: cs.SecretHasher,
    key_rules: Rules = STRICT,
) -> tuple[OAuthClient, cs.Plaintext | None]:
    """A new client and its secret, shown once; a client given ``jwks``, ``jwks_uri`` or
    ``federation`` rules has no secret. ``key_rules``: where a JWKS URL may point
    (``Rules.for_keys`` of the settings)."""
    source = _key_source(spec.jwks, spec.jwks_uri, key_rules)
    rules = _federation(tenant, spec.federation)
    if rules is not None:
        source = {**(source or {}), "federation": rules}

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
            **(source or {}),
        }

    return lifecycle.create(
        session,
        tenant,
        CLIENT,
        spec,
        actor=actor,
        hasher=hasher,
        own=own,
        with_secret=source is None,
    )


@dataclass(frozen=True)
class ClientChanges(editing.CredentialChanges):
    token_lifetime: int | None = None
    clear_token_lifetime: bool = False  # back to the tenant's lifetime
    # new public keys for a client that has keys: a JWKS or the URL that publishes them
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    # new federation rules, replacing the old, for a client without a secret; [] removes them
    federation: list[Any] | None = None


def edit_client(
    session: Session,
    tenant: Tenant,
    client_id: str,
    changes: ClientChanges,
    *,
    actor: Actor,
    key_rules: Rules = STRICT,
) -> OAuthClient:
    """Edit a client (``credentials.editing``), its token lifetime and public keys included."""
    source = _key_source(changes.jwks, changes.jwks_uri, key_rules)
    rules = _federation(tenant, changes.federation) if changes.federation is not None else None

    def own(client: OAuthClient) -> dict[str, Any]:
        changed = _new_keys(client, source, actor) if source is not None else {}
        if changes.federation is not None:
            changed.update(_new_rules(client, rules, actor))
        if changes.token_lifetime is None and not changes.clear_token_lifetime:
            return changed
        lifetime = None if changes.clear_token_lifetime else _lifetime(changes.token_lifetime)
        if lifetime != client.token_lifetime:
            client.token_lifetime = lifetime
            changed["token_lifetime"] = lifetime
        return changed

    return editing.edit(session, tenant, CLIENT, client_id, changes, actor=actor, own=own)


def _key_source(
    jwks: dict[str, Any] | None, jwks_uri: str | None, rules: Rules
) -> dict[str, str | None] | None:
    """The columns of a client's key source (``jwks`` or ``jwks_uri``), checked; None if
    neither is given (a client with a secret)."""
    if jwks is not None and jwks_uri is not None:
        raise InvalidInputError("give jwks or jwks_uri, not both")
    if jwks is not None:
        return {"jwks": keys.checked_jwks(jwks), "jwks_uri": None}
    if jwks_uri is not None:
        return {"jwks": None, "jwks_uri": rules.check_url(jwks_uri)}
    return None


def _new_keys(client: OAuthClient, source: dict[str, str | None], actor: Actor) -> dict[str, Any]:
    """Replace a keyed client's key source; what the audit record shows of the change (key
    IDs and the URL's origin: never a whole key, never a URL's path or query)."""
    if not client.keyed:
        raise InvalidInputError(
            f"client '{client.client_id}' authenticates with a secret: it cannot be given keys"
            " (create a new client with keys instead)"
        )
    if (client.jwks, client.jwks_uri) == (source["jwks"], source["jwks_uri"]):
        return {}
    check_may_take_over(actor, client)
    client.jwks, client.jwks_uri = source["jwks"], source["jwks_uri"]
    if source["jwks_uri"] is not None:
        return {"jwks_uri": origin(source["jwks_uri"]), "keys_changed": True}
    return {"public_keys": keys.key_ids(source["jwks"]), "keys_changed": True}


def _federation(tenant: Tenant, value: list[Any] | None) -> str | None:
    """Federation rules as stored, checked against the tenant's trusted issuers."""
    if value is None:
        return None
    return federation.checked_rules(value, {i["issuer"] for i in tenant.trusted_issuers})


def _new_rules(client: OAuthClient, rules: str | None, actor: Actor) -> dict[str, Any]:
    """Replace a client's federation rules; the audit record shows them whole."""
    if not client.keyed:
        raise InvalidInputError(
            f"client '{client.client_id}' authenticates with a secret: it cannot be given"
            " federation rules (create a new client with them instead)"
        )
    if rules == client.federation:
        return {}
    if rules is None and client.jwks is None and client.jwks_uri is None:
        raise InvalidInputError(
            f"client '{client.client_id}' has no keys: removing its federation rules would"
            " leave it no way to authenticate (revoke or delete it instead)"
        )
    check_may_take_over(actor, client)
    client.federation = rules
    return {"federation": federation.rules_summary(rules)}


def check_may_take_over(actor: Actor, client: OAuthClient) -> None:
    """Refuse to let ``actor`` change what a client authenticates with (its keys, or the
    external identities it trusts) unless their role could grant every permission it holds.

    Whoever chooses a client's key holds the client, as whoever sees its secret does: the rule
    is the one for rotating a secret (``permissions.service.check_may_reveal``).
    """
    refused = ungrantable(actor.role, (p.name for p in client.permissions))
    if refused:
        raise ForbiddenError(
            f"a {actor.role} cannot grant permission '{cs.mask(refused[0])}', so may not change"
            f" what client '{client.client_id}' authenticates with"
        )


def _lifetime(seconds: int | None) -> int | None:
    if seconds is not None and not MIN_LIFETIME <= seconds <= MAX_LIFETIME:
        raise InvalidInputError(f"token lifetime must be {MIN_LIFETIME}-{MAX_LIFETIME} seconds")
    return seconds


def _generate_client_id() -> str:
    return "gp-" + secrets.token_hex(10)
