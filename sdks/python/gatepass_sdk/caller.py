"""Who is calling: what a handler receives once a token or an API key has been verified."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gatepass_sdk.errors import CredentialsRequiredError, InsufficientScopeError

CallerKind = Literal["oauth_client", "api_key"]


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller.

    ``subject`` is the OAuth client ID or the API key's ID (never the key). ``groups`` are the
    client groups the credential is restricted to; empty means unrestricted. ``claims`` holds a
    token's verified JWT claims (empty for an API key).
    """

    subject: str
    kind: CallerKind
    permissions: frozenset[str]
    groups: tuple[str, ...] = ()
    name: str | None = None
    owner: str | None = None
    expires_at: float | None = None
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def has(self, *permissions: str) -> bool:
        """Whether the caller holds every one of ``permissions``."""
        return self.permissions.issuperset(permissions)

    def can_access(self, group: str) -> bool:
        """Whether data of client group ``group`` is within the caller's reach."""
        return not self.groups or group in self.groups


def permitted(found: Caller | None, needed: tuple[str, ...]) -> Caller:
    """The caller, if it holds every ``needed`` permission: RFC 6750 §3.1 otherwise, a bare
    challenge without a caller, ``insufficient_scope`` with the needed scope without them."""
    if found is None:
        raise CredentialsRequiredError
    if not found.has(*needed):
        raise InsufficientScopeError(needed)
    return found
