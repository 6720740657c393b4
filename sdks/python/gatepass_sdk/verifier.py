"""``GatepassVerifier``: who is calling, from a Gatepass JWT access token or an API key.

Tokens are verified locally (RFC 9068 §4) against the tenant's cached JWKS: no call to Gatepass
per request. API keys are verified by Gatepass's verify endpoint; its answers are cached for a
short time, keyed by a SHA-256 digest of the key (the key itself is never kept): a valid answer
for ``key_ttl`` seconds (so a revoked key may keep working that long here), a refusal for
``negative_ttl`` seconds. Keys with a rate limit are not cached, so that Gatepass counts each use.

``Verification`` holds all of that; ``GatepassVerifier`` (asyncio) and ``SyncGatepassVerifier``
(``gatepass_sdk.sync_verifier``, for WSGI code) add only the requests to Gatepass.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Required, TypedDict, Unpack

import httpx

from gatepass_sdk import access_tokens, api_keys, dpop
from gatepass_sdk.cache import TtlCache
from gatepass_sdk.caller import Caller
from gatepass_sdk.client_credentials import basic_authorization
from gatepass_sdk.errors import InvalidDPoPProofError, InvalidTokenError
from gatepass_sdk.jwks import KeySet
from gatepass_sdk.verification_keys import VerificationKey

Outcome = Caller | api_keys.Rejection
HTTP_TIMEOUT = 5.0


class Options(TypedDict, total=False):
    """What a verifier is told (see ``GatepassVerifier``)."""

    issuer: Required[str]
    audience: Required[str | Sequence[str]]
    verify_client: tuple[str, str] | None
    key_ttl: float
    negative_ttl: float
    cache_size: int
    leeway: float
    jwks_refetch_interval: float
    jwks_max_age: float
    jwks_url: str | None
    verify_url: str | None
    clock: Callable[[], float]


class Verification:
    """Everything a verifier decides, with no I/O: its subclasses fetch and ask."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str],
        verify_client: tuple[str, str] | None = None,
        key_ttl: float = 30.0,
        negative_ttl: float = 5.0,
        cache_size: int = 10_000,
        leeway: float = 10.0,
        jwks_refetch_interval: float = 1.0,
        jwks_max_age: float = 600.0,
        jwks_url: str | None = None,
        verify_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        issuer = issuer.rstrip("/")
        audiences = [audience] if isinstance(audience, str) else list(audience)
        self.audience = audiences[0]
        self.expected = access_tokens.Expected(issuer, frozenset(audiences), leeway)
        self.jwks_url = jwks_url or f"{issuer}/protocol/openid-connect/certs"
        self.jwks_timing = {"min_refetch_interval": jwks_refetch_interval, "max_age": jwks_max_age}
        self._verify_url = verify_url or f"{issuer}/api-keys/verify"
        self._verify_auth = basic_authorization(*verify_client) if verify_client else None
        self._ttls = (key_ttl, negative_ttl)
        self._answers: TtlCache[bytes, Outcome] = TtlCache(cache_size)
        self._clock = clock
        self._proofs = dpop.ProofChecker(clock=clock)

    def _token_caller(
        self,
        jws: access_tokens.Jws,
        key: VerificationKey | None,
        token: str,
        presentation: dpop.Presentation | None,
    ) -> Caller:
        if key is None:
            raise InvalidTokenError("unknown kid")
        claims = access_tokens.verified_claims(jws, key)
        access_tokens.check_claims(claims, self.expected, self._clock())
        self._check_binding(claims, token, presentation)
        return access_tokens.caller(claims)

    def _check_binding(
        self, claims: dict[str, Any], token: str, presentation: dpop.Presentation | None
    ) -> None:
        """A token bound to a key (``cnf``) needs a proof of it (RFC 9449 §7.1); a token sent
        as ``DPoP`` must be bound. ``presentation``: None for a ``Bearer`` token."""
        cnf = claims.get("cnf")
        if presentation is None:
            if cnf is not None:  # a bound token is never good as a bearer token
                raise InvalidTokenError("cnf")
            return
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if jkt is None:
            raise InvalidDPoPProofError("not bound")
        self._proofs.check(presentation, token, jkt)

    def _known(self, key: str) -> tuple[bytes, Outcome | None]:
        """The key's digest, and the answer about it still cached, if any: one hash, one
        lookup. Without a cached answer, a refusal that needs no question to Gatepass."""
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        outcome = self._answers.get(digest)
        if outcome is None and self._verify_auth is None:
            outcome = api_keys.Rejection("API keys are not accepted: no verify client")
        elif outcome is None and not api_keys.is_plausible(key):
            outcome = api_keys.Rejection("MALFORMED")
        return digest, outcome

    def _question(self, key: str, ip: str | None) -> tuple[str, str, str, str | None]:
        """What ``api_keys.ask`` needs: the URL, the verify client's header, the key, ``ip``."""
        if self._verify_auth is None:  # ``_known`` refuses keys without a verify client
            raise RuntimeError("no verify client to ask with")
        return self._verify_url, self._verify_auth, key, ip

    def _remember(self, digest: bytes, answer: Any) -> Outcome:
        verdict = api_keys.verdict(answer, positive_ttl=self._ttls[0], negative_ttl=self._ttls[1])
        self._answers.put(digest, verdict.outcome, verdict.ttl)
        return verdict.outcome


def caller_of(outcome: Outcome) -> Caller:
    if isinstance(outcome, Caller):
        return outcome
    raise outcome.error()


class GatepassVerifier(Verification):
    """Verifies the credentials of one Gatepass tenant (one issuer) for one API (audience).

    - ``issuer``: ``{GATEPASS_PUBLIC_URL}/realms/{tenant}``; the JWKS and the verify endpoint are
      found under it unless ``jwks_url`` or ``verify_url`` say otherwise.
    - ``audience``: the ``aud`` this API accepts (one, or several).
    - ``verify_client``: ``(client_id, client_secret)`` of a client holding ``api_keys:verify``;
      without it, API keys are refused.
    - ``key_ttl`` / ``negative_ttl``: seconds a valid / refused API-key answer is reused;
      ``cache_size``: how many answers are kept at most.
    - ``leeway``: seconds of clock skew allowed on ``exp`` and ``nbf``.
    - ``jwks_refetch_interval``: the least time between two JWKS fetches for unknown key IDs;
      ``jwks_max_age``: the JWKS is fetched again when older than this.
    - ``http``: an ``httpx.AsyncClient`` to use (then not closed by ``aclose``).
    - ``clock``: wall time, for token expiry; the caches use a monotonic clock.

    Refusals are ``AuthError`` subclasses (``gatepass_sdk.errors``).
    """

    def __init__(self, *, http: httpx.AsyncClient | None = None, **options: Unpack[Options]):
        super().__init__(**options)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT)
        self._keys = KeySet(self.jwks_url, self._http, **self.jwks_timing)

    async def verify_token(
        self, token: str, presentation: dpop.Presentation | None = None
    ) -> Caller:
        """The caller behind a JWT access token; ``InvalidTokenError`` if it is not valid.
        ``presentation``: the request's DPoP proof, method and URL, for a token sent as
        ``Authorization: DPoP`` (a token bound to a key needs one)."""
        jws = access_tokens.parse(token)
        key = self._keys.cached(jws.kid) or await self._keys.get(jws.kid)
        return self._token_caller(jws, key, token, presentation)

    async def verify_api_key(self, key: str, *, ip: str | None = None) -> Caller:
        """The caller behind an API key sent from ``ip`` (needed for a key with an IP
        allowlist). A cached answer costs one hash and one lookup."""
        digest, outcome = self._known(key)
        if outcome is None:
            answer = await api_keys.ask(self._http, *self._question(key, ip))
            outcome = self._remember(digest, answer)
        return caller_of(outcome)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> GatepassVerifier:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
