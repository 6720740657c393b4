"""GitHub secret scanning's request signatures: ECDSA P-256 with SHA-256 over the raw body.

GitHub names the key it signed with (``Github-Public-Key-Identifier``) and sends the DER
signature in base64 (``Github-Public-Key-Signature``). Its public keys are published at
``https://api.github.com/meta/public_keys/secret_scanning`` as
``{"public_keys": [{"key_identifier", "key", "is_current"}]}``; the operator gives Gatepass that
document (or a file holding it) and/or a URL to fetch it from, as this server may not reach
GitHub. A fetched document is kept for ``KEEP_FETCHED``; a key id it does not hold fetches it
again, at most once per ``REFETCH_AFTER``, so a stream of made-up key ids costs one fetch a
minute. Verification is the ``cryptography`` library's.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from gatepass.settings import Settings

log = logging.getLogger("gatepass.leaks")

KEY_ID_HEADER = "github-public-key-identifier"
SIGNATURE_HEADER = "github-public-key-signature"
FETCH_TIMEOUT = 5.0  # seconds
KEEP_FETCHED = 3600.0  # seconds
REFETCH_AFTER = 60.0  # seconds
MAX_SIGNATURE_CHARS = 200  # a P-256 DER signature is at most 72 bytes: 96 in base64


class KeysError(ValueError):
    """The document is not GitHub's list of public keys."""


@dataclass(frozen=True)
class PublicKeys:
    keys: Mapping[str, ec.EllipticCurvePublicKey] = field(default_factory=dict)

    @classmethod
    def parse(cls, document: str | bytes) -> PublicKeys:
        """The P-256 keys of GitHub's document; ``KeysError`` if it is not one."""
        try:
            listed = json.loads(document)["public_keys"]
            keys = {str(item["key_identifier"]): _p256(item["key"]) for item in listed}
        except (ValueError, KeyError, TypeError) as exc:
            raise KeysError(f"not GitHub's public keys document: {type(exc).__name__}") from None
        return cls(keys)

    def verify(self, key_id: str, signature: str, body: bytes) -> bool:
        """The body is signed by the key GitHub names (and the signature is well-formed)."""
        key = self.keys.get(key_id)
        if key is None or len(signature) > MAX_SIGNATURE_CHARS:
            return False
        try:
            key.verify(base64.b64decode(signature, validate=True), body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def __or__(self, other: PublicKeys) -> PublicKeys:
        return PublicKeys({**self.keys, **other.keys})


def _p256(pem: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(pem, str):
        raise TypeError("key")
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 key")
    return key


def configured_keys(setting: str) -> PublicKeys:
    """``GATEPASS_GITHUB_SCANNING_KEYS``: the document itself, or the path of a file holding it."""
    text = setting.strip()
    if not text.startswith("{"):
        try:
            text = Path(text).read_text()
        except OSError as exc:
            raise KeysError(f"cannot read GitHub's public keys: {type(exc).__name__}") from None
    return PublicKeys.parse(text)


class GitHubKeys:
    """The keys GitHub's requests are checked against: configured ones and fetched ones."""

    def __init__(self, settings: Settings) -> None:
        given = settings.github_scanning_keys
        self.fixed = configured_keys(given) if given else PublicKeys()
        self.url = settings.github_scanning_keys_url
        self.fetched = PublicKeys()
        self._fetched_at = -KEEP_FETCHED
        self._tried_at = -REFETCH_AFTER

    @property
    def enabled(self) -> bool:
        return bool(self.fixed.keys) or self.url is not None

    async def verify(self, key_id: str, signature: str, body: bytes) -> bool:
        now = time.monotonic()
        if self.url is not None and self._due(key_id, now):
            await self._fetch(self.url, now)
        return (self.fixed | self.fetched).verify(key_id, signature, body)

    def _due(self, key_id: str, now: float) -> bool:
        stale = now - self._fetched_at >= KEEP_FETCHED
        unknown = key_id not in self.fixed.keys and key_id not in self.fetched.keys
        return (stale or unknown) and now - self._tried_at >= REFETCH_AFTER

    async def _fetch(self, url: str, now: float) -> None:
        self._tried_at = now
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as http:
                answer = await http.get(url, headers={"accept": "application/json"})
            answer.raise_for_status()
            self.fetched, self._fetched_at = PublicKeys.parse(answer.content), now
        except (httpx.HTTPError, KeysError) as exc:
            log.warning("GitHub's public keys could not be fetched: %s", type(exc).__name__)
