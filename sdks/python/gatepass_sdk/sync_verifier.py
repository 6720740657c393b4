"""``SyncGatepassVerifier``: ``GatepassVerifier`` for WSGI code (Django, Flask, any thread).

The same decisions (``gatepass_sdk.verifier.Verification``): tokens checked locally against
the cached JWKS, API keys asked of the verify endpoint with the same short cache, made with a
blocking ``httpx.Client``. One instance serves every thread of the server: the caches are
locked, and concurrent requests for one new ``kid`` share one JWKS fetch.
"""

from __future__ import annotations

from types import TracebackType
from typing import Unpack

import httpx

from gatepass_sdk import access_tokens, api_keys, dpop
from gatepass_sdk.caller import Caller
from gatepass_sdk.credentials import Credential
from gatepass_sdk.jwks import SyncKeySet
from gatepass_sdk.verifier import HTTP_TIMEOUT, Options, Verification, caller_of

NO_PROOF = dpop.Presentation((), "", "")  # a DPoP token with nothing to prove it


class SyncGatepassVerifier(Verification):
    """Takes the options of ``GatepassVerifier``; ``http`` is an ``httpx.Client`` (then not
    closed by ``close``)."""

    def __init__(self, *, http: httpx.Client | None = None, **options: Unpack[Options]):
        super().__init__(**options)
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=HTTP_TIMEOUT)
        self._keys = SyncKeySet(self.jwks_url, self._http, **self.jwks_timing)

    def verify_token(self, token: str, presentation: dpop.Presentation | None = None) -> Caller:
        """The caller behind a JWT access token; ``InvalidTokenError`` if it is not valid
        (``presentation``: as for ``GatepassVerifier.verify_token``)."""
        jws = access_tokens.parse(token)
        key = self._keys.cached(jws.kid) or self._keys.get(jws.kid)
        return self._token_caller(jws, key, token, presentation)

    def verify_api_key(self, key: str, *, ip: str | None = None) -> Caller:
        """The caller behind an API key sent from ``ip`` (needed for a key with an IP
        allowlist). A cached answer costs one hash and one lookup."""
        digest, outcome = self._known(key)
        if outcome is None:
            answer = api_keys.ask_sync(self._http, *self._question(key, ip))
            outcome = self._remember(digest, answer)
        return caller_of(outcome)

    def verify(
        self,
        credential: Credential,
        *,
        ip: str | None = None,
        presentation: dpop.Presentation | None = None,
    ) -> Caller:
        """The caller behind a credential found in a request (``presentation``: its DPoP
        proof, method and URL, used for a token sent as ``DPoP``)."""
        if credential.kind == "bearer":
            return self.verify_token(credential.value)
        if credential.kind == "dpop":
            return self.verify_token(credential.value, presentation or NO_PROOF)
        return self.verify_api_key(credential.value, ip=ip)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SyncGatepassVerifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
