"""Gatepass for WSGI applications: what the Flask and Django integrations share.

``authenticate`` finds the request's credential in the WSGI environ (the same places as the
ASGI middleware: ``Authorization: Bearer``, ``Authorization-PSK``, ``X-API-Key``, ``?apikey=``;
two credentials are ``invalid_request``), removes ``?apikey=`` from the query string the
application sees (and from the raw request URI some servers add), and verifies it, sending the
caller's address (``REMOTE_ADDR``) with an API key. ``GatepassWSGIMiddleware`` does that in
front of any WSGI application and answers a credential that is not valid at once.
``verifier_from_settings`` builds a verifier from upper-case settings (Django's ``GATEPASS``
dict, Flask's ``GATEPASS_*`` config).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast
from wsgiref.util import request_uri

from gatepass_sdk import credentials, dpop
from gatepass_sdk.caller import Caller
from gatepass_sdk.errors import AuthError
from gatepass_sdk.redaction import redact
from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from gatepass_sdk.verifier import Options

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("gatepass_sdk")

CALLER_KEY = "gatepass.caller"  # the environ key, as the ASGI scope key
# Servers that keep the request line as sent: gunicorn (RAW_URI), uWSGI and Apache (REQUEST_URI).
RAW_URI_KEYS = ("RAW_URI", "REQUEST_URI")
OPTIONS = frozenset(Options.__annotations__)
Environ = MutableMapping[str, Any]


def authenticate(
    verifier: SyncGatepassVerifier,
    environ: Environ,
    *,
    url_of: Callable[[], str] | None = None,
) -> Caller | None:
    """The caller behind the request's one credential, ``None`` without any; ``AuthError``
    if it is not valid. Safe to call twice on one request (the second finds no query key).
    ``url_of``: the request's URL as the framework knows it (its proxy settings applied), for
    a DPoP proof; without it, PEP 3333's reconstruction from ``environ``."""
    query = str(environ.get("QUERY_STRING", ""))
    keys, kept = credentials.split_query(query.encode("latin-1"))
    if keys:
        environ["QUERY_STRING"] = kept.decode("latin-1")
        for name in RAW_URI_KEYS:
            if isinstance(environ.get(name), str):
                environ[name] = redact(environ[name])
    found = credentials.one([*credentials.from_environ(environ), *keys])
    if found is None:
        return None
    ip = environ.get("REMOTE_ADDR") or None
    if found.kind != "dpop":
        return verifier.verify(found, ip=ip)
    return verifier.verify(found, ip=ip, presentation=presentation(environ, url_of))


def presentation(environ: Environ, url_of: Callable[[], str] | None = None) -> dpop.Presentation:
    """The request's DPoP proof, method and URL. A server joins repeated headers with commas,
    which a proof never holds: two proofs are refused."""
    sent = environ.get("HTTP_DPOP")
    proofs = tuple(sent.split(",")) if isinstance(sent, str) else ()
    if url_of is not None:
        url = url_of()
    else:  # a mapping that is not a whole WSGI environ (Django's META under ASGI) lacks some
        defaults = {"wsgi.url_scheme": "http", "SERVER_NAME": "localhost", "SERVER_PORT": "80"}
        url = request_uri({**defaults, **environ}, include_query=False)
    return dpop.Presentation(proofs, str(environ.get("REQUEST_METHOD", "")), url)


@dataclass(frozen=True, slots=True)
class Refusal:
    """An ``AuthError`` as a WSGI response: status, headers (``str``), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @classmethod
    def of(cls, error: AuthError, realm: str) -> Refusal:
        log.info("request refused: %s %s", error.status, error.reason or error.error)
        status, headers, body = error.render(realm)
        return cls(status, [(n.decode("latin-1"), v.decode("latin-1")) for n, v in headers], body)

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTPStatus(self.status).phrase}"


class GatepassWSGIMiddleware:
    """Authenticates every request in front of a WSGI application.

    The caller (or ``None``) is in ``environ["gatepass.caller"]``; a credential that is not
    valid is answered here per RFC 6750 §3, before the application runs.
    """

    def __init__(self, app: WSGIApplication, *, verifier: SyncGatepassVerifier, realm: str):
        self.app = app
        self.verifier = verifier
        self.realm = realm

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            environ[CALLER_KEY] = authenticate(self.verifier, environ)
        except AuthError as error:
            refusal = Refusal.of(error, self.realm)
            headers = [*refusal.headers, ("Content-Length", str(len(refusal.body)))]
            start_response(refusal.status_line, headers)
            return [refusal.body]
        return self.app(environ, start_response)


def verifier_from_settings(settings: Mapping[str, Any], *, source: str) -> SyncGatepassVerifier:
    """A verifier from upper-case options (``ISSUER``, ``AUDIENCE``, ``VERIFY_CLIENT``, and any
    other option of ``GatepassVerifier``); ``source`` names where they come from, for errors."""
    options = {name.lower(): value for name, value in settings.items() if name != "REALM"}
    unknown = sorted(name.upper() for name in set(options) - OPTIONS)
    if unknown:
        raise ValueError(f"{source}: unknown Gatepass option(s) {', '.join(unknown)}")
    for required in ("issuer", "audience"):
        if not options.get(required):
            raise ValueError(f"{source}: {required.upper()} is required")
    client = options.get("verify_client")
    if client is not None:
        options["verify_client"] = tuple(client)
    return SyncGatepassVerifier(**cast(Options, options))
