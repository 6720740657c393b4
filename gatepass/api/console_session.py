"""Signing in to the console over the API: a session cookie and its CSRF token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from gatepass.api import schemas
from gatepass.api.auth import (
    SESSION_COOKIE,
    Principal,
    TenantSlug,
    authenticate,
    set_session_cookie,
    source,
    tenant_entry,
    threaded,
)
from gatepass.api.common import NO_STORE, json_response, services
from gatepass.api.problems import ProblemError, responses
from gatepass.sessions import service as sessions
from gatepass.sessions.models import ConsoleSession
from gatepass.sessions.signing_in import Outcome

router = APIRouter(tags=["Console session"])

SIGN_IN_FAILED = "wrong email or password"


@router.post(
    "/session", status_code=201, response_model=schemas.SessionOut, responses=responses(429)
)
async def sign_in(request: Request, tenant: TenantSlug, body: schemas.SignInIn) -> Response:
    """Sign in with email and password. Sets an HttpOnly session cookie; the answer holds the
    CSRF token to send as `X-CSRF-Token` with every request that changes data.

    Too many attempts from one address (for any email, or for this one) are answered 429 with
    `Retry-After`; an email tried from many addresses is only slowed down, never locked. When
    the server is busy checking other passwords the answer is 503 with `Retry-After`."""
    svc = services(request)
    keys: sessions.SessionKeys = request.app.state.session_keys
    ip, agent = source(request)
    entry = await tenant_entry(request, tenant)
    attempt = sessions.Attempt(body.email, body.password, ip, agent, slug=entry.slug)
    result = await svc.sign_ins.attempt(svc.db, keys, attempt)
    if result.outcome is Outcome.THROTTLED:
        raise ProblemError(
            429,
            "too_many_attempts",
            "too many sign-in attempts; try again later",
            headers={"retry-after": str(result.retry_after)},
        )
    if result.outcome is Outcome.BUSY:
        raise ProblemError(
            503,
            "busy",
            "the server is busy with other sign-ins; retry shortly",
            headers={"retry-after": str(result.retry_after)},
        )
    if result.signed_in is None:
        raise ProblemError(401, "sign_in_failed", SIGN_IN_FAILED)
    token = result.signed_in.token
    view = _view(result.signed_in.session, keys, token)
    response = json_response(view.model_dump(mode="json"), status=201)
    set_session_cookie(response, token, secure=svc.settings.public_url.startswith("https://"))
    return response


@router.get("/session", response_model=schemas.SessionOut, responses=responses())
async def current_session(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Response:
    """The signed-in user and the session's CSRF token."""
    row = await threaded(lambda: _load(request, principal))
    keys: sessions.SessionKeys = request.app.state.session_keys
    return json_response(_view(row, keys, _session_token(principal)).model_dump(mode="json"))


@router.delete("/session", status_code=204, response_class=Response, responses=responses())
async def sign_out(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Response:
    """Sign out: the session ends on the server and the cookie is cleared."""
    svc = services(request)
    keys: sessions.SessionKeys = request.app.state.session_keys
    token = _session_token(principal)

    def work() -> None:
        with svc.db.transaction() as session:
            row = sessions.resolve(session, principal.tenant_id, token, keys=keys)
            if row is not None:
                sessions.sign_out(session, row, actor=principal.actor)

    await threaded(work)
    response = Response(status_code=204, headers=NO_STORE)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def _session_token(principal: Principal) -> str:
    if principal.session_token is None:
        raise ProblemError(404, "no_session", "this request was not made with a console session")
    return principal.session_token


def _load(request: Request, principal: Principal) -> ConsoleSession:
    keys: sessions.SessionKeys = request.app.state.session_keys
    with services(request).db.transaction() as session:
        row = sessions.resolve(session, principal.tenant_id, _session_token(principal), keys=keys)
        if row is None:
            raise ProblemError(401, "unauthenticated", "the session has ended: sign in again")
        return row


def _view(row: ConsoleSession, keys: sessions.SessionKeys, token: str) -> schemas.SessionOut:
    return schemas.SessionOut(
        user=schemas.UserOut.of(row.user),
        csrf_token=keys.csrf_token(token),
        expires_at=row.expires_at,
    )
