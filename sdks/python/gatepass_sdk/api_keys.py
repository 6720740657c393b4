"""Asking Gatepass's verify endpoint about an API key, and reading its answer.

``POST {issuer}/api-keys/verify`` with ``{"key": ..., "ip": ...}`` (the caller's address, for
keys with an IP allowlist), authenticated with HTTP Basic as a client of the tenant holding
``api_keys:verify``. The answer's code becomes a ``Caller`` (``VALID``) or a refusal: 429 for
``RATE_LIMITED``, 401 ``invalid_token`` for every other code. A failure to ask (network, 5xx,
our own client refused) is a 503, never a verdict on the key. An answer that depends on the
caller's address (a key with ``allowed_ips``, ``IP_NOT_ALLOWED``) is never reused.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from gatepass_sdk.caller import Caller
from gatepass_sdk.errors import AuthError, InvalidTokenError, RateLimitedError, UnavailableError

log = logging.getLogger("gatepass_sdk")

MAX_KEY_LENGTH = 256  # as Gatepass: anything longer is not a key


@dataclass(frozen=True, slots=True)
class Rejection:
    """A cached refusal: raising builds a fresh exception each time (no traceback build-up)."""

    code: str
    retry_after_epoch: float | None = None

    def error(self) -> AuthError:
        if self.retry_after_epoch is not None:
            retry = math.ceil(self.retry_after_epoch - time.time())
            return RateLimitedError(self.code, retry_after=retry)
        return InvalidTokenError(self.code)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Gatepass's answer about one key, and how long it may be reused."""

    outcome: Caller | Rejection
    ttl: float


def is_plausible(key: str) -> bool:
    """Cheap local screening: an API key is short, printable ASCII."""
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


async def ask(
    http: httpx.AsyncClient, url: str, authorization: str, key: str, ip: str | None = None
) -> Mapping[str, Any]:
    """The verify endpoint's answer; ``authorization`` is the verify client's Basic header."""
    with _reaching():
        response = await http.post(
            url, json=body(key, ip), headers={"authorization": authorization}
        )
    return answer_of(response)


def ask_sync(
    http: httpx.Client, url: str, authorization: str, key: str, ip: str | None = None
) -> Mapping[str, Any]:
    """``ask`` for threaded code (WSGI servers), with a blocking client."""
    with _reaching():
        response = http.post(url, json=body(key, ip), headers={"authorization": authorization})
    return answer_of(response)


def body(key: str, ip: str | None) -> dict[str, str]:
    """The verify request. ``ip`` goes only when it is an address: a server may name its peer
    otherwise (Starlette's test client says "testclient", a Unix socket has none)."""
    return {"key": key, **({"ip": ip} if ip and _is_address(ip) else {})}


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


@contextmanager
def _reaching() -> Iterator[None]:
    """A failure to reach Gatepass is ``UnavailableError``: no verdict on the key."""
    try:
        yield
    except httpx.HTTPError as exc:
        log.warning("gatepass verify endpoint unreachable: %s", type(exc).__name__)
        raise UnavailableError("verify endpoint unreachable") from None


def answer_of(response: httpx.Response) -> Mapping[str, Any]:
    if response.status_code != 200:
        # 401/403 here mean our verify client is wrong: an operator problem, not the caller's.
        log.error("gatepass verify endpoint answered %d", response.status_code)
        raise UnavailableError(f"verify endpoint answered {response.status_code}")
    try:
        answer = response.json()
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("code"), str):
        raise UnavailableError("verify endpoint answered no code")
    return answer


def verdict(answer: Mapping[str, Any], *, positive_ttl: float, negative_ttl: float) -> Verdict:
    code = str(answer["code"])
    if answer.get("valid") is True and code == "VALID":
        return _valid(answer, positive_ttl)
    if code == "RATE_LIMITED":
        reset = _reset(answer)
        return Verdict(Rejection(code, reset), min(negative_ttl, reset - time.time()))
    if code == "IP_NOT_ALLOWED":
        return Verdict(Rejection(code), 0.0)  # the same key may come from an allowed address
    return Verdict(Rejection(code), negative_ttl)


def _valid(answer: Mapping[str, Any], positive_ttl: float) -> Verdict:
    caller = _caller(answer)
    ttl = positive_ttl
    if answer.get("rate_limit") is not None or answer.get("allowed_ips"):
        ttl = 0.0  # every use must reach Gatepass, which counts it or checks its address
    if caller.expires_at is not None:
        ttl = min(ttl, caller.expires_at - time.time())
    return Verdict(caller, ttl)


def _caller(answer: Mapping[str, Any]) -> Caller:
    scopes, groups = answer.get("scopes"), answer.get("groups")
    key_id = answer.get("key_id")
    if not isinstance(key_id, str) or not isinstance(scopes, list) or not isinstance(groups, list):
        raise UnavailableError("verify endpoint answered an incomplete VALID")
    owner = answer.get("owner")
    expires_at = answer.get("expires_at")
    return Caller(
        subject=key_id,
        kind="api_key",
        permissions=frozenset(str(s) for s in scopes),
        groups=tuple(str(g) for g in groups),
        name=str(answer.get("name") or "") or None,
        owner=str(owner["email"]) if isinstance(owner, dict) and owner.get("email") else None,
        expires_at=float(expires_at) if isinstance(expires_at, int | float) else None,
    )


def _reset(answer: Mapping[str, Any]) -> float:
    limit = answer.get("rate_limit")
    reset = limit.get("reset") if isinstance(limit, dict) else None
    return float(reset) if isinstance(reset, int | float) else time.time() + 1
