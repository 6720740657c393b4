"""The console: signing in and out here; each page family in its own module.

Every page is rendered on the server; every form posts back with the session's CSRF token; every
action calls the same service function as the management API and the CLI.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from gatepass.api.auth import SESSION_COOKIE, set_session_cookie, source, threaded
from gatepass.console import (
    admin,
    apikeys,
    audit,
    credentials,
    dormant,
    editing,
    links,
    policy,
    webhooks,
)
from gatepass.console.web import (
    SIGN_IN_COOKIE,
    actor_of,
    csrf_ok,
    current_viewer,
    keys,
    redirect,
    render,
    secure,
    services,
)
from gatepass.sessions import service as sessions
from gatepass.sessions.signing_in import Outcome, Result
from gatepass.text import is_plain

router = APIRouter(prefix="/console", include_in_schema=False)

SIGN_IN_FAILED = "Wrong email or password."
TOO_MANY = "Too many sign-in attempts. Wait a few minutes and try again."
BUSY = "The server is busy signing other people in. Try again in a moment."
NOT_PLAIN = "The email address must not contain control characters or line separators."
CHOOSE = "Your email has an account in several organisations. Choose one and sign in again."


@router.get("")
async def home(request: Request) -> Response:
    return redirect("/console/sign-in")


@router.get("/sign-in")
async def sign_in_page(request: Request, tenant: str | None = None) -> Response:
    return _sign_in_form(request, tenant=tenant)


@router.post("/sign-in")
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    tenant: Annotated[str, Form(max_length=63)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Sign in to the organisation named by ``tenant`` (a link's ``?tenant=``, or the choice
    offered when an email has accounts in several), else to the one where the email has one.

    The same attempt, throttle and password check as the management API's sign-in."""
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _sign_in_form(request, error="Your sign-in form expired. Try again.", status=400)
    # Refused before any query (PostgreSQL cannot compare a NUL), and before ``strip``, which
    # would quietly drop the controls that Python counts as white space (U+001C-U+001F, U+0085).
    if not (is_plain(email) and is_plain(tenant)):
        return _sign_in_form(request, error=NOT_PLAIN, status=400)
    email, slug = email.strip(), tenant.strip()
    svc = services(request)
    ip, agent = source(request)
    attempt = sessions.Attempt(email, password, ip, agent, slug=slug or None)
    result = await svc.sign_ins.attempt(svc.db, keys(request), attempt)
    if result.signed_in is not None:
        response = redirect(f"/console/{result.slug}/credentials")
        set_session_cookie(response, result.signed_in.token, secure=secure(request))
        response.delete_cookie(SIGN_IN_COOKIE, path="/console", httponly=True, samesite="strict")
        return response
    return _refused(request, email, result)


def _refused(request: Request, email: str, result: Result) -> Response:
    """The sign-in form again, saying why (and, for several organisations, offering them)."""
    if result.outcome is Outcome.CHOOSE:
        choices = list(result.choices)
        return _sign_in_form(request, email=email, error=CHOOSE, choices=choices, status=409)
    if result.outcome in (Outcome.THROTTLED, Outcome.BUSY):
        throttled = result.outcome is Outcome.THROTTLED
        page = _sign_in_form(
            request,
            email=email,
            error=TOO_MANY if throttled else BUSY,
            status=429 if throttled else 503,
        )
        page.headers["retry-after"] = str(result.retry_after)
        return page
    return _sign_in_form(request, email=email, error=SIGN_IN_FAILED, status=401)


@router.post("/{tenant}/sign-out")
async def sign_out(
    request: Request, tenant: str, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    viewer = await current_viewer(request, tenant)
    if viewer is not None and csrf_ok(request, viewer, csrf_token):

        def work() -> None:
            with services(request).db.transaction() as session:
                row = sessions.resolve(session, viewer.tenant_id, viewer.token, keys=keys(request))
                if row is not None:
                    sessions.sign_out(session, row, actor=actor_of(request, viewer))

        await threaded(work)
    response = redirect("/console/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


def _sign_in_form(
    request: Request,
    *,
    email: str = "",
    tenant: str | None = None,
    error: str | None = None,
    choices: list[tuple[str, str]] | None = None,
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        {
            "viewer": None,
            "email": email,
            "tenant": tenant or "",
            "error": error,
            "csrf": token,
            "choices": choices or [],
        },
        status=status,
    )
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        max_age=3600,
        path="/console",
        secure=secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


# Before the credential pages: their POST /{ref}/{action} would take /{ref}/edit.
router.include_router(editing.router)
router.include_router(credentials.router)
router.include_router(apikeys.router)
router.include_router(audit.router)
router.include_router(admin.router)
router.include_router(dormant.router)
router.include_router(policy.router)
router.include_router(links.router)
router.include_router(webhooks.router)
