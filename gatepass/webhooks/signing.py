"""Webhook signatures as the Standard Webhooks specification defines them.

The secret is ``whsec_`` and the base64 of 32 random bytes. Each request carries ``webhook-id``
(the message id, the same on every retry), ``webhook-timestamp`` (Unix seconds of this attempt)
and ``webhook-signature``: ``v1,`` and the base64 of HMAC-SHA256 over ``{id}.{timestamp}.{body}``
keyed with the secret's bytes. Gatepass needs the secret to sign, so it is stored encrypted
(AES-256-GCM under a subkey of the server secret, bound to the endpoint's id), not hashed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from gatepass.credential_secrets import Plaintext, derive_key, seal, unseal

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> Plaintext:
    return Plaintext(PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode())


def signature(secret: Plaintext, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.reveal().removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(secret: Plaintext, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


@dataclass(frozen=True)
class SecretBox:
    """Seals endpoint secrets at rest; a sealed secret opens only for the endpoint it was
    sealed for."""

    key: bytes

    @classmethod
    def from_master_key(cls, master_key: bytes) -> SecretBox:
        return cls(derive_key(master_key, b"gatepass webhook secret encryption v1"))

    def seal(self, secret: Plaintext, endpoint_id: str) -> bytes:
        return seal(self.key, secret.reveal().encode(), endpoint_id)

    def open(self, sealed: bytes, endpoint_id: str) -> Plaintext:
        return Plaintext(unseal(self.key, sealed, endpoint_id).decode())
