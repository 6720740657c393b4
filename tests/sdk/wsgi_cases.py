"""The requests every WSGI integration (Flask, Django, Django REST framework) must answer the
same way, against a live Gatepass: each credential case, its exact status and challenge.

Each integration's tests serve ``GET /nql`` (guarded by ``nql``) and ``GET /open`` (no guard)
with realm ``tests`` and audience ``realm.audience``, send ``Sent`` through the framework's own
test client, and compare with the ``Case``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.sdk.realm import Realm, altered

REALM = "tests"
BARE = f'Bearer realm="{REALM}"'
INVALID_TOKEN = f'{BARE}, error="invalid_token"'
INVALID_REQUEST = f'{BARE}, error="invalid_request"'
INSUFFICIENT = f'{BARE}, error="insufficient_scope", scope="nql"'


@dataclass(frozen=True)
class Sent:
    """What a request carries; ``subject`` is who the API must say is calling, if accepted."""

    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    subject: str | None = None


def nothing(realm: Realm, other: Realm) -> Sent:
    return Sent()


def token(realm: Realm, other: Realm) -> Sent:
    client = realm.client()
    return Sent({"Authorization": f"Bearer {realm.token(client)}"}, subject=client.client_id)


def key_in(place: str) -> Callable[[Realm, Realm], Sent]:
    def sent(realm: Realm, other: Realm) -> Sent:
        key = realm.api_key()
        if place == "query":
            return Sent(query={"apikey": key.key}, subject=key.key_id)
        return Sent({place: key.key}, subject=key.key_id)

    return sent


def revoked_key(realm: Realm, other: Realm) -> Sent:
    key = realm.api_key()
    realm.revoke_key(key.key_id)
    return Sent({"X-API-Key": key.key})


def altered_key(realm: Realm, other: Realm) -> Sent:
    return Sent({"X-API-Key": altered(realm.api_key().key)})


def other_tenants_token(realm: Realm, other: Realm) -> Sent:
    return Sent({"Authorization": f"Bearer {other.token(other.client())}"})


def other_tenants_key(realm: Realm, other: Realm) -> Sent:
    return Sent({"X-API-Key": other.api_key().key})


def token_without_nql(realm: Realm, other: Realm) -> Sent:
    token = realm.token(realm.client(scopes=("workflows",)))
    return Sent({"Authorization": f"Bearer {token}"})


def key_without_nql(realm: Realm, other: Realm) -> Sent:
    return Sent({"Authorization-PSK": realm.api_key(scopes=("workflows",)).key})


def two_credentials(realm: Realm, other: Realm) -> Sent:
    key = realm.api_key()
    return Sent({"X-API-Key": key.key}, query={"apikey": key.key})


def malformed_token(realm: Realm, other: Realm) -> Sent:
    return Sent({"Authorization": "Bearer not.a-token"})


def altered_token(realm: Realm, other: Realm) -> Sent:
    return Sent({"Authorization": f"Bearer {altered(realm.token(realm.client()))}"})


@dataclass(frozen=True)
class Case:
    name: str
    sent: Callable[[Realm, Realm], Sent]
    status: int
    challenge: str | None  # the WWW-Authenticate header, None when there must be none

    @property
    def error(self) -> str | None:
        """The body's ``error``: the challenge's error code, ``unauthorized`` for a bare one."""
        if self.challenge is None:
            return None
        found = re.search(r'error="([^"]+)"', self.challenge)
        return found.group(1) if found else "unauthorized"


CASES = [
    Case("no credential", nothing, 401, BARE),
    Case("valid token", token, 200, None),
    Case("valid key in X-API-Key", key_in("X-API-Key"), 200, None),
    Case("valid key in Authorization-PSK", key_in("Authorization-PSK"), 200, None),
    Case("valid key in ?apikey=", key_in("query"), 200, None),
    Case("revoked key", revoked_key, 401, INVALID_TOKEN),
    Case("altered key", altered_key, 401, INVALID_TOKEN),
    Case("another tenant's token", other_tenants_token, 401, INVALID_TOKEN),
    Case("another tenant's key", other_tenants_key, 401, INVALID_TOKEN),
    Case("token without the permission", token_without_nql, 403, INSUFFICIENT),
    Case("key without the permission", key_without_nql, 403, INSUFFICIENT),
    Case("two credentials", two_credentials, 400, INVALID_REQUEST),
    Case("malformed token", malformed_token, 401, INVALID_TOKEN),
    Case("altered token", altered_token, 401, INVALID_TOKEN),
]
IDS = [case.name for case in CASES]
