"""OAuth clients as the credential lifecycle (``credentials.lifecycle``) sees them."""

from __future__ import annotations

from gatepass import credential_secrets as cs
from gatepass.changes import feed
from gatepass.clients.models import OAuthClient
from gatepass.credentials.lifecycle import Kind

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
)
