"""Gatepass for Flask: the ``Gatepass`` extension and its ``requires`` decorator.

``Gatepass(app)`` (or ``gatepass.init_app(app)``) reads ``app.config``: ``GATEPASS_ISSUER``,
``GATEPASS_AUDIENCE``, ``GATEPASS_VERIFY_CLIENT`` (``(client_id, client_secret)`` of a client
holding ``api_keys:verify``), ``GATEPASS_REALM`` (the challenge's realm, the audience by
default) and any other option of ``GatepassVerifier`` as ``GATEPASS_<OPTION>``. It wraps
``app.wsgi_app`` in ``GatepassWSGIMiddleware``: every request's credential is checked before
Flask sees it, one that is not valid is answered 401 ``invalid_token`` (400 ``invalid_request``
for two credentials), and ``?apikey=`` never reaches ``request.args`` nor werkzeug's log.

``@requires("nql")`` (also ``gatepass.requires``) guards a view: 401 with a bare ``Bearer``
challenge without a credential, 403 ``insufficient_scope`` without the permissions. The view
finds its caller in ``flask.g.gatepass_caller`` or with ``current_caller()``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import Flask, Response, g, request

from gatepass_sdk.caller import Caller, permitted
from gatepass_sdk.errors import AuthError
from gatepass_sdk.redaction import install_log_filter
from gatepass_sdk.sync_verifier import SyncGatepassVerifier
from gatepass_sdk.wsgi import CALLER_KEY, GatepassWSGIMiddleware, Refusal, verifier_from_settings

__all__ = ["Gatepass", "current_caller", "requires"]

P = ParamSpec("P")
R = TypeVar("R")
EXTENSION = "gatepass"
CONFIG_PREFIX = "GATEPASS_"
WERKZEUG_LOGGER = "werkzeug"  # the development server's request log


class Gatepass:
    """The Flask extension; ``verifier`` replaces the one built from the config."""

    def __init__(
        self, app: Flask | None = None, *, verifier: SyncGatepassVerifier | None = None
    ) -> None:
        self._verifier = verifier
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        settings = {
            name.removeprefix(CONFIG_PREFIX): value
            for name, value in app.config.items()
            if name.startswith(CONFIG_PREFIX)
        }
        verifier = self._verifier or verifier_from_settings(settings, source="app.config")
        realm = str(settings.get("REALM") or verifier.audience)
        app.extensions[EXTENSION] = verifier
        app.wsgi_app = GatepassWSGIMiddleware(app.wsgi_app, verifier=verifier, realm=realm)  # type: ignore[method-assign]
        app.before_request(_expose_caller)
        app.register_error_handler(AuthError, functools.partial(_refused, realm=realm))
        install_log_filter(WERKZEUG_LOGGER)

    @staticmethod
    def requires(*permissions: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """``@gatepass.requires("nql")``: the module's ``requires``."""
        return requires(*permissions)


def requires(*permissions: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Guards a view: it runs only for a caller holding every one of ``permissions``."""
    needed = tuple(permissions)

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            if CALLER_KEY not in request.environ:
                raise RuntimeError("the Gatepass extension is not installed on this app")
            g.gatepass_caller = permitted(request.environ[CALLER_KEY], needed)
            return view(*args, **kwargs)

        return guarded

    return decorate


def current_caller() -> Caller | None:
    """The caller of the request being handled, ``None`` for an anonymous one."""
    found = request.environ.get(CALLER_KEY)
    return found if isinstance(found, Caller) else None


def _expose_caller() -> None:
    g.gatepass_caller = current_caller()


def _refused(error: AuthError, *, realm: str) -> Response:
    refusal = Refusal.of(error, realm)
    return Response(refusal.body, status=refusal.status, headers=refusal.headers)
