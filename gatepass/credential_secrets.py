"""Everything about machine-generated secrets, in one place.

A secret looks like ``gpcs_<32 base62 chars><6 base62 chars>``: a fixed prefix that names its kind
(so secret scanners can find leaked ones), a random body of 190 bits, and a CRC-32 checksum of
prefix and body (so a mistyped or made-up secret is refused without touching the database).

Secrets are stored only as HMAC-SHA256 under a key derived from the server secret. A fast keyed
hash is right here: the secret has 190 bits of entropy, so a slow password hash would add
nothing but ~100 ms per request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import zlib
from dataclasses import dataclass, field
from enum import Enum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BODY_CHARS = 32
CHECKSUM_CHARS = 6
HINT_TAIL = 4


class SecretKind(Enum):
    CLIENT_SECRET = "gpcs_"  # noqa: S105 - the public prefix, not a secret
    API_KEY = "gpk_"


_PATTERNS = {
    kind: re.compile(rf"^{kind.value}[0-9A-Za-z]{{{BODY_CHARS + CHECKSUM_CHARS}}}\Z")
    for kind in SecretKind
}


class Plaintext:
    """A secret in the clear. Its ``repr`` and ``str`` never show it; call ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Plaintext('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plaintext) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(prefix_and_body: str) -> str:
    return _base62(zlib.crc32(prefix_and_body.encode()), CHECKSUM_CHARS)


def generate(kind: SecretKind) -> Plaintext:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(BODY_CHARS))
    head = kind.value + body
    return Plaintext(head + _checksum(head))


def is_well_formed(kind: SecretKind, value: str) -> bool:
    """True when the value has the kind's shape and a correct checksum: no database needed."""
    if len(value) > 64 or not _PATTERNS[kind].match(value):
        return False
    head = value[:-CHECKSUM_CHARS]
    return hmac.compare_digest(_checksum(head), value[-CHECKSUM_CHARS:])


def kind_of(value: str) -> SecretKind | None:
    """The kind of a well-formed secret (shape and checksum right), or None: no database needed."""
    return next((kind for kind in SecretKind if is_well_formed(kind, value)), None)


def mask(value: str, limit: int = 100) -> str:
    """A request value safe to echo in an error or a log: secret-shaped text is hidden."""
    if any(kind.value in value for kind in SecretKind):
        return "[redacted]"
    return value[:limit]


def hint(secret: Plaintext) -> str:
    """What the console may show: the prefix and the last four characters."""
    value = secret.reveal()
    prefix = value[: value.index("_") + 1]
    return f"{prefix}…{value[-HINT_TAIL:]}"


@dataclass(frozen=True)
class SecretHasher:
    """Keyed hash of secrets; the key is derived from the server secret with HKDF."""

    key: bytes
    # HMAC with the key already taken in: each digest starts from a copy of it, which skips
    # the key's two blocks and the hash's setup (about 1.0 us a digest instead of 1.4 us)
    _keyed: hmac.HMAC = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_keyed", hmac.new(self.key, digestmod=hashlib.sha256))

    @classmethod
    def from_master_key(cls, master_key: bytes) -> SecretHasher:
        return cls(derive_key(master_key, b"gatepass secret hash v1"))

    def digest(self, secret: Plaintext | str) -> bytes:
        value = secret.reveal() if isinstance(secret, Plaintext) else secret
        keyed = self._keyed.copy()
        keyed.update(value.encode())
        return keyed.digest()

    def matches(self, secret: str, stored_digests: tuple[bytes, ...]) -> int | None:
        """Index of the stored digest that matches, comparing against every one in constant time.

        With nothing stored, a dummy comparison keeps the timing of unknown clients the same.
        """
        candidate = self.digest(secret)
        found: int | None = None
        for index, stored in enumerate(stored_digests or (_DUMMY_DIGEST,)):
            if hmac.compare_digest(candidate, stored) and stored_digests:
                found = index
        return found


_DUMMY_DIGEST = bytes(32)


def derive_key(master_key: bytes, purpose: bytes) -> bytes:
    """A 256-bit subkey of the server secret for one purpose (HKDF-SHA256, RFC 5869)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master_key)


NONCE_BYTES = 12


def seal(key: bytes, data: bytes, bound_to: str) -> bytes:
    """``data`` encrypted with AES-256-GCM under ``key`` (a ``derive_key`` subkey), bound to
    ``bound_to`` (its row's id) as associated data, so a ciphertext cannot move to another row."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, bound_to.encode())


def unseal(key: bytes, sealed: bytes, bound_to: str) -> bytes:
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    return AESGCM(key).decrypt(nonce, ciphertext, bound_to.encode())
