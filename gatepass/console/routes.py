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
from gatepass.console import admin, apikeys, audit, credentials, links
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
from gatepass.tenants import service as tenants

router = APIRouter(prefix="/console", include_in_schema=False)

SIGN_IN_FAILED = "Wrong email or password."
TOO_MANY = "Too many sign-in attempts. Wait a few minutes and try again."
NO_TENANT = 0  # the throttle's account bucket for emails with no account anywhere
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
    offered when an email has accounts in several), else to the one where the email has one."""
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _sign_in_form(request, error="Your sign-in form expired. Try again.", status=400)
    svc = services(request)
    ip, agent = source(request)
    email = email.strip()
    chosen = await _organisation(request, tenant.strip(), email, password)
    if isinstance(chosen, Response):
        return chosen

    def work() -> sessions.SignedIn | None:
        with svc.db.transaction() as session:
            return sessions.sign_in(
                session,
                tenants.get_tenant(session, chosen),
                email=email,
                password=password,
                source_ip=ip,
                user_agent=agent,
                keys=keys(request),
            )

    signed_in = await threaded(work)
    if signed_in is None:
        return _sign_in_form(request, email=email, error=SIGN_IN_FAILED, status=401)
    response = redirect(f"/console/{chosen}/credentials")
    set_session_cookie(response, signed_in.token, secure=secure(request))
    response.delete_cookie(SIGN_IN_COOKIE, path="/console", httponly=True, samesite="strict")
    return response


async def _organisation(request: Request, slug: str, email: str, password: str) -> str | Response:
    """The tenant to sign in to, or the answer to send instead (throttled, refused, or the
    choice of organisation for an email with accounts in several)."""
    svc = services(request)
    ip, _ = source(request)
    if slug:
        return await _named(request, slug, email, password)

    def candidates() -> list[tuple[int, str]]:
        with svc.db.read() as session:
            return [(t.id, t.slug) for t in sessions.organisations_of(session, email)]

    found = await threaded(candidates)
    if not found:
        return await _no_account(request, email, password)
    for tenant_id, _ in found:
        if await sessions.throttled(svc.limiter, tenant_id, email, ip):
            return _sign_in_form(request, email=email, error=TOO_MANY, status=429)
    if len(found) == 1:
        return found[0][1]
    return await _choose(request, [s for _, s in found], email, password)


async def _choose(request: Request, slugs: list[str], email: str, password: str) -> str | Response:
    """Several accounts for one email: offer the organisations where the password is right."""
    choices = await threaded(lambda: _accepting(request, slugs, email, password))
    if not choices:
        return await _refuse_everywhere(request, slugs, email, password)
    if len(choices) == 1:
        return choices[0][0]
    return _sign_in_form(request, email=email, error=CHOOSE, choices=choices, status=409)


async def _no_account(request: Request, email: str, password: str) -> Response:
    """No such account: counted and timed like a wrong password, so that neither the throttle
    nor the clock tells a stranger whether the email has an account."""
    ip, _ = source(request)
    if await sessions.throttled(services(request).limiter, NO_TENANT, email, ip):
        return _sign_in_form(request, email=email, error=TOO_MANY, status=429)
    await threaded(lambda: sessions.dummy_verify(password))
    return _sign_in_form(request, email=email, error=SIGN_IN_FAILED, status=401)


async def _named(request: Request, slug: str, email: str, password: str) -> str | Response:
    entry = await threaded(lambda: _tenant_id(request, slug))
    if entry is None:
        return await _no_account(request, email, password)
    ip, _ = source(request)
    if await sessions.throttled(services(request).limiter, entry, email, ip):
        return _sign_in_form(request, email=email, error=TOO_MANY, status=429)
    return slug


def _accepting(
    request: Request, slugs: list[str], email: str, password: str
) -> list[tuple[str, str]]:
    with services(request).db.read() as session:
        found = [tenants.get_tenant(session, s) for s in slugs]
        return [
            (t.slug, t.name or t.slug) for t in sessions.accepting(session, found, email, password)
        ]


async def _refuse_everywhere(
    request: Request, slugs: list[str], email: str, password: str
) -> Response:
    """Wrong password for every account of this email: each tenant audits its failed attempt."""
    ip, agent = source(request)

    def work() -> None:
        with services(request).db.transaction() as session:
            for slug in slugs:
                sessions.sign_in(
                    session,
                    tenants.get_tenant(session, slug),
                    email=email,
                    password=password,
                    source_ip=ip,
                    user_agent=agent,
                    keys=keys(request),
                )

    await threaded(work)
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


def _tenant_id(request: Request, slug: str) -> int | None:
    with services(request).db.read() as session:
        found = sessions.organisation(session, slug)
        return found.id if found is not None else None


router.include_router(credentials.router)
router.include_router(apikeys.router)
router.include_router(audit.router)
router.include_router(admin.router)
router.include_router(links.router)
