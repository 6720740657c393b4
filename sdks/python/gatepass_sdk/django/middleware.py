"""``GatepassMiddleware`` for Django, and ``@requires(...)`` for function views.

Add ``"gatepass_sdk.django.middleware.GatepassMiddleware"`` to ``MIDDLEWARE``. Each request's
credential is checked before the view (``Authorization: Bearer``, ``Authorization-PSK``,
``X-API-Key`` or ``?apikey=``); the caller (a ``Caller``, or ``None``) is
``request.gatepass_caller``. A credential that is not valid is answered at once, per RFC 6750
§3, with a JSON body: 401 ``invalid_token``, 400 ``invalid_request`` for two credentials.
``?apikey=`` is removed from the query string before anything reads it (``request.GET``,
error reports), and the development server's request log (``django.server``) masks it.

``@requires("nql")`` answers 401 with a bare challenge without a caller, 403
``insufficient_scope`` without the permissions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec

from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase

from gatepass_sdk.caller import Caller, permitted
from gatepass_sdk.django.conf import gatepass
from gatepass_sdk.errors import AuthError
from gatepass_sdk.redaction import install_log_filter
from gatepass_sdk.wsgi import CALLER_KEY, Refusal, authenticate

__all__ = ["GatepassMiddleware", "request_caller", "requires"]

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponseBase]
DEVELOPMENT_SERVER_LOGGER = "django.server"


class GatepassMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        install_log_filter(DEVELOPMENT_SERVER_LOGGER)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            request_caller(request)
        except AuthError as error:
            return refused(error)
        return self.get_response(request)


def request_caller(request: HttpRequest) -> Caller | None:
    """The request's caller, authenticated once per request (``AuthError`` if its credential
    is not valid); also ``request.gatepass_caller``."""
    if CALLER_KEY not in request.META:
        query = request.META.get("QUERY_STRING", "")
        # the URL as Django builds it: SECURE_PROXY_SSL_HEADER and USE_X_FORWARDED_HOST apply
        url_of = lambda: request.build_absolute_uri(request.path)  # noqa: E731
        caller = authenticate(gatepass().verifier, request.META, url_of=url_of)
        if request.META.get("QUERY_STRING", "") != query:
            # ``?apikey=`` was removed; ``request.GET`` may have been read already (DRF's
            # content negotiation does, before authentication): it must not keep the key.
            kept = str(request.META["QUERY_STRING"]).encode("latin-1")
            request.GET = QueryDict(kept, encoding=request.encoding)
        request.META[CALLER_KEY] = caller
        request.gatepass_caller = caller  # type: ignore[attr-defined]
    found = request.META[CALLER_KEY]
    return found if isinstance(found, Caller) else None


def requires(*permissions: str) -> Callable[[View[P]], View[P]]:
    """Guards a function view: it runs only for a caller holding every one of
    ``permissions`` (none: any caller). Needs ``GatepassMiddleware``."""
    needed = tuple(permissions)

    def decorate(view: View[P]) -> View[P]:
        def guarded(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponseBase:
            if CALLER_KEY not in request.META:
                raise RuntimeError("GatepassMiddleware is not in settings.MIDDLEWARE")
            try:
                permitted(request_caller(request), needed)
            except AuthError as error:
                return refused(error)
            return view(request, *args, **kwargs)

        functools.update_wrapper(guarded, view)
        return guarded

    return decorate


def refused(error: AuthError) -> HttpResponse:
    refusal = Refusal.of(error, gatepass().realm)
    return HttpResponse(refusal.body, status=refusal.status, headers=dict(refusal.headers))
