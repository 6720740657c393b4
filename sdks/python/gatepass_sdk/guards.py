"""``requires(...)``: a FastAPI dependency that hands the handler its ``Caller``.

No caller: 401 with a bare ``Bearer`` challenge (RFC 6750 §3.1: no error code when the request
had no credential). A caller without every named permission: 403 ``insufficient_scope`` with
the needed ``scope`` in the challenge. Needs ``GatepassMiddleware`` in front of the route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request

from gatepass_sdk.caller import Caller, permitted
from gatepass_sdk.middleware import CALLER_KEY


def requires(*permissions: str) -> Callable[[Request], Awaitable[Caller]]:
    """``Depends(requires("nql"))``: the caller, holding every one of ``permissions``."""
    needed = tuple(permissions)

    # A coroutine, so that FastAPI runs it inline rather than in a worker thread.
    async def caller(request: Request) -> Caller:
        return authorize(request, needed)

    return caller


def authorize(request: Request, needed: tuple[str, ...]) -> Caller:
    if CALLER_KEY not in request.scope:
        raise RuntimeError("GatepassMiddleware is not installed in front of this route")
    return permitted(request.scope[CALLER_KEY], needed)
