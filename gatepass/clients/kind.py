"""OAuth clients as the credential lifecycle (``credentials.lifecycle``) sees them."""

from __future__ import annotations

from typing import Any

from gatepass import credential_secrets as cs
from gatepass.audit.service import Actor
from gatepass.changes import feed
from gatepass.clients import federation
from gatepass.clients.models import OAuthClient
from gatepass.credentials.lifecycle import Kind
from gatepass.errors import InvalidInputError


def _check_reveal(actor: Actor, client: OAuthClient) -> None:
    if client.keyed:
        raise InvalidInputError(
            f"client '{client.client_id}' authenticates with a signed JWT (private_key_jwt or"
            " a trusted issuer's token): it has no secret"
        )


def _create_details(client: OAuthClient) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if client.jwks is not None or client.jwks_uri is not None:
        details["auth_method"] = "private_key_jwt"
    if client.federation is not None:
        details["federation"] = federation.rules_summary(client.federation)
    return details


CLIENT: Kind[OAuthClient] = Kind(
    label="client",
    plural="OAuth clients",
    target_type="oauth_client",
    audit="client",
    rotate_action="rotate_secret",
    rotate_words="rotate its secret",
    feed_kind=feed.KIND_CLIENT,
    secret_kind=cs.SecretKind.CLIENT_SECRET,
    model=OAuthClient,
    ref="client_id",
    check_reveal=_check_reveal,
    create_details=_create_details,
)
