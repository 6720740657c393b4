"""The Gatepass SDK for Python APIs (resource servers) and their callers.

- ``GatepassVerifier``: verifies Gatepass JWT access tokens locally (RFC 9068, cached JWKS) and
  API keys through the verify endpoint (short, bounded cache).
- ``GatepassMiddleware`` (ASGI) finds the credential (``Authorization: Bearer``,
  ``Authorization-PSK``, ``X-API-Key`` or ``?apikey=``) and answers RFC 6750 errors;
  ``requires("nql")`` is the FastAPI dependency that hands a handler its ``Caller``.
- ``SyncGatepassVerifier``: the same for WSGI code; ``gatepass_sdk.flask`` (the ``flask`` extra)
  and ``gatepass_sdk.django`` (the ``django`` extra, with Django REST framework classes) build
  on it.
- ``ClientCredentialsAuth``: an ``httpx.Auth`` that gets and renews client-credentials tokens.
- ``ApiKeyLogFilter`` keeps ``?apikey=`` values out of server logs; ``GatepassMiddleware``
  installs it on uvicorn's access log by itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gatepass_sdk.caller import Caller
from gatepass_sdk.client_credentials import ClientCredentialsAuth
from gatepass_sdk.errors import AuthError
from gatepass_sdk.redaction import ApiKeyLogFilter
from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from gatepass_sdk.verifier import GatepassVerifier

if TYPE_CHECKING:
    from gatepass_sdk.guards import requires
    from gatepass_sdk.middleware import GatepassMiddleware

__version__ = "0.1.0"  # the one place the gatepass-sdk distribution's version is written

__all__ = [
    "ApiKeyLogFilter",
    "AuthError",
    "Caller",
    "ClientCredentialsAuth",
    "GatepassMiddleware",
    "GatepassVerifier",
    "SyncGatepassVerifier",
    "requires",
]

# Built on Starlette (the ``starlette`` extra): imported on first use, so that the rest of the
# SDK works without it.
_ON_STARLETTE = {"GatepassMiddleware": "gatepass_sdk.middleware", "requires": "gatepass_sdk.guards"}


def __getattr__(name: str) -> Any:
    if name in _ON_STARLETTE:
        return getattr(importlib.import_module(_ON_STARLETTE[name]), name)
    raise AttributeError(f"module 'gatepass_sdk' has no attribute {name!r}")
