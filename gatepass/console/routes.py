"""Console pages: sign in and out, and API credentials (OAuth clients).

Every page is rendered on the server; every form posts back with the session's CSRF token; every
action calls the same service function as the management API and the CLI.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.datastructures import FormData

from gatepass.api.auth import SESSION_COOKIE, set_session_cookie, source, threaded
from gatepass.api.common import cursor_of
from gatepass.api.common import page_request as page_request_of
from gatepass.api.problems import ProblemError
from gatepass.api.schemas import AuditEventOut, ClientOut
from gatepass.audit import service as audit
from gatepass.audit.service import Actor
from gatepass.clients import service as clients
from gatepass.console.web import (
    SIGN_IN_COOKIE,
    Viewer,
    clear_reveal,
    csrf_ok,
    keys,
    redirect,
    render,
    secure,
    services,
    set_reveal,
    take_reveal,
    viewer_from,
)
from gatepass.db import Database
from gatepass.errors import DomainError, InvalidInputError
from gatepass.groups import service as groups
from gatepass.pagination import PageRequest
from gatepass.permissions import service as permissions
from gatepass.permissions.models import Permission
from gatepass.sessions import service as sessions
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.users.models import User
from gatepass.users.roles import role_can_grant

router = APIRouter(prefix="/console", include_in_schema=False)

SIGN_IN_FAILED = "Wrong email or password."
TOO_MANY = "Too many sign-in attempts. Wait a few minutes and try again."
NOT_AVAILABLE = "Not available"
ADMINS_ONLY = "Only an administrator can grant this"


# --- signing in and out ----------------------------------------------------------------------


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
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        return _sign_in_form(request, error="Your sign-in form expired. Try again.", status=400)
    svc = services(request)
    ip, agent = source(request)
    email = email.strip()
    slug: str | None = tenant.strip() or None
    if slug is None:
        slug = await threaded(lambda: _tenant_of(svc.db, email))
    if slug is None:
        return _sign_in_form(request, email=email, error=SIGN_IN_FAILED, status=401)
    chosen = slug
    entry_id = await threaded(lambda: _tenant_id(svc.db, chosen))
    if entry_id is None:
        return _sign_in_form(request, email=email, error=SIGN_IN_FAILED, status=401)
    if await sessions.throttled(svc.limiter, entry_id, email, ip):
        return _sign_in_form(request, email=email, error=TOO_MANY, status=429)

    def work() -> sessions.SignedIn | None:
        with svc.db.transaction() as session:
            found = tenants.get_tenant(session, chosen)
            return sessions.sign_in(
                session,
                found,
                email=email,
                password=password,
                source_ip=ip,
                user_agent=agent,
                keys=keys(request),
            )

    signed_in = await threaded(work)
    if signed_in is None:
        return _sign_in_form(request, email=email, error=SIGN_IN_FAILED, status=401)
    response = redirect(f"/console/{slug}/credentials")
    set_session_cookie(response, signed_in.token, secure=secure(request))
    response.delete_cookie(SIGN_IN_COOKIE, path="/console", httponly=True, samesite="strict")
    return response


@router.post("/{tenant}/sign-out")
async def sign_out(
    request: Request, tenant: str, csrf_token: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    viewer = await _viewer(request, tenant)
    if viewer is not None and csrf_ok(request, viewer, csrf_token):

        def work() -> None:
            with services(request).db.transaction() as session:
                row = sessions.resolve(session, viewer.tenant_id, viewer.token, keys=keys(request))
                if row is not None:
                    sessions.sign_out(session, row, actor=_actor(request, viewer))

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
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "sign_in.html",
        {"email": email, "tenant": tenant or "", "error": error, "csrf": token},
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


def _tenant_of(db: Database, email: str) -> str | None:
    """The one tenant where this email has an account; ``None`` if none or several (a user
    with accounts in several tenants signs in through a link that names it: ``?tenant=``)."""
    with db.read() as session:
        slugs = list(
            session.scalars(
                select(Tenant.slug)
                .join(User, User.tenant_id == Tenant.id)
                .where(User.email == email.lower())
            )
        )
    return slugs[0] if len(slugs) == 1 else None


def _tenant_id(db: Database, slug: str) -> int | None:
    with db.read() as session:
        return session.scalar(select(Tenant.id).where(Tenant.slug == slug))


async def _viewer(request: Request, tenant: str) -> Viewer | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    db = services(request).db

    def load() -> Viewer | None:
        with db.transaction() as session:
            tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == tenant))
            if tenant_id is None:
                return None
            row = sessions.resolve(session, tenant_id, token, keys=keys(request))
            return viewer_from(row, token, request, tenant) if row is not None else None

    return await threaded(load)


def _actor(request: Request, viewer: Viewer) -> Actor:
    ip, agent = source(request)
    return Actor(kind="user", id=viewer.email, source_ip=ip, user_agent=agent, role=viewer.role)


# --- API credentials -------------------------------------------------------------------------


@router.get("/{tenant}/credentials")
async def credentials_page(request: Request, tenant: str) -> Response:
    viewer = await _viewer(request, tenant)
    if viewer is None:
        return redirect(f"/console/sign-in?tenant={tenant}")
    reveal = take_reveal(request, viewer)

    def load() -> dict[str, object]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, tenant)
            page = clients.search_clients(
                session, found, clients.ClientFilter(), PageRequest(limit=200)
            )
            return {"clients": [ClientOut.of(c) for c in page.items]}

    context = await threaded(load)
    response = render(
        request,
        "credentials.html",
        {
            "viewer": viewer,
            "reveal": reveal,
            "token_url": _token_url(request, tenant),
            **context,
        },
    )
    if reveal is not None:
        clear_reveal(response, viewer)
    return response


@router.get("/{tenant}/credentials/new")
async def new_credential_page(request: Request, tenant: str) -> Response:
    viewer = await _viewer(request, tenant)
    if viewer is None:
        return redirect(f"/console/sign-in?tenant={tenant}")
    if not viewer.can("manage"):
        return render(request, "forbidden.html", {"viewer": viewer}, status=403)
    return await _credential_form(request, viewer, {}, None)


@router.post("/{tenant}/credentials")
async def create_credential(request: Request, tenant: str) -> Response:
    viewer = await _viewer(request, tenant)
    if viewer is None:
        return redirect(f"/console/sign-in?tenant={tenant}")
    form = await request.form()
    if not viewer.can("manage") or not csrf_ok(request, viewer, _field(form, "csrf_token")):
        return render(request, "forbidden.html", {"viewer": viewer}, status=403)
    scopes = [str(v) for v in form.getlist("scopes")]
    chosen_groups = [str(v) for v in form.getlist("groups")]
    values: dict[str, object] = {
        "name": _field(form, "name"),
        "description": _field(form, "description"),
        "scopes": scopes,
        "groups": chosen_groups,
        "expires_on": _field(form, "expires_on"),
    }
    try:
        spec = clients.NewClient(
            name=_field(form, "name"),
            description=_field(form, "description"),
            scopes=scopes,
            groups=chosen_groups,
            expires_at=_end_of_day(_field(form, "expires_on")),
        )

        def work() -> tuple[str, str, str]:
            with services(request).db.transaction() as session:
                found = tenants.get_tenant(session, tenant)
                client, secret = clients.create_client(
                    session,
                    found,
                    spec,
                    actor=_actor(request, viewer),
                    hasher=services(request).hasher,
                )
                return client.client_id, client.name, secret.reveal()

        client_id, name, secret = await threaded(work)
    except DomainError as exc:
        return await _credential_form(request, viewer, values, str(exc), status=422)
    response = redirect(f"/console/{tenant}/credentials")
    set_reveal(
        request,
        response,
        viewer,
        {"kind": "client", "client_id": client_id, "name": name, "secret": secret},
    )
    return response


@router.post("/{tenant}/credentials/{client_id}/{action}")
async def credential_action(request: Request, tenant: str, client_id: str, action: str) -> Response:
    viewer = await _viewer(request, tenant)
    if viewer is None:
        return redirect(f"/console/sign-in?tenant={tenant}")
    form = await request.form()
    if not viewer.can("manage") or not csrf_ok(request, viewer, _field(form, "csrf_token")):
        return render(request, "forbidden.html", {"viewer": viewer}, status=403)
    if action not in ("rotate", "revoke", "delete", "revoke-all"):
        return render(request, "forbidden.html", {"viewer": viewer}, status=404)
    actor = _actor(request, viewer)
    svc = services(request)

    def work() -> tuple[str, str] | None:
        with svc.db.transaction() as session:
            found = tenants.get_tenant(session, tenant)
            if action == "revoke-all":
                clients.revoke_all(session, found, actor=actor)
            elif action == "revoke":
                clients.revoke_client(session, found, client_id, actor=actor)
            elif action == "delete":
                clients.delete_client(session, found, client_id, actor=actor)
            else:
                client, secret = clients.rotate_secret(
                    session, found, client_id, grace=None, actor=actor, hasher=svc.hasher
                )
                return client.name, secret.reveal()
        return None

    try:
        rotated = await threaded(work)
    except DomainError as exc:
        return render(request, "error.html", {"viewer": viewer, "message": str(exc)}, status=422)
    response = redirect(f"/console/{tenant}/credentials")
    if rotated is not None:
        name, secret = rotated
        set_reveal(
            request,
            response,
            viewer,
            {"kind": "client", "client_id": client_id, "name": name, "secret": secret},
        )
    return response


async def _credential_form(
    request: Request,
    viewer: Viewer,
    values: dict[str, object],
    error: str | None,
    *,
    status: int = 200,
) -> Response:
    def load() -> dict[str, object]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            listed = permissions.list_permissions(session, found)
            ordered = [p for p in listed if not p.builtin] + [p for p in listed if p.builtin]
            return {
                "permissions": [PermissionChoice.of(p, viewer.role) for p in ordered],
                "groups": groups.list_groups(session, found),
            }

    context = await threaded(load)
    return render(
        request,
        "credential_form.html",
        {"viewer": viewer, "values": values, "error": error, **context},
        status=status,
    )


@dataclass(frozen=True)
class PermissionChoice:
    """One permission checkbox of the form; ``reason`` says why it cannot be granted, if so."""

    name: str
    label: str
    description: str
    reason: str

    @classmethod
    def of(cls, permission: Permission, role: str) -> PermissionChoice:
        reason = ""
        if not permission.available:
            reason = permission.unavailable_reason or NOT_AVAILABLE
        elif not role_can_grant(role, permission.name):
            reason = ADMINS_ONLY
        return cls(permission.name, permission.label, permission.description, reason)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _end_of_day(value: str) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInputError("expiry must be a date such as 2027-01-31") from None
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


def _token_url(request: Request, tenant: str) -> str:
    return f"{services(request).settings.public_url}/realms/{tenant}/protocol/openid-connect/token"


# --- audit log -------------------------------------------------------------------------------


@router.get("/{tenant}/audit")
async def audit_page(
    request: Request,
    tenant: str,
    actor: Annotated[str, Query(max_length=320)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    target: Annotated[str, Query(max_length=200)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Who did what, when and from where; filtered by actor, action, credential and dates."""
    viewer = await _viewer(request, tenant)
    if viewer is None:
        return redirect(f"/console/sign-in?tenant={tenant}")
    filters = {"actor": actor, "action": action, "target": target, "since": since, "until": until}
    try:
        where = audit.AuditFilter(
            actor=actor.strip() or None,
            action=action.strip() or None,
            target=target.strip() or None,
            since=_start_of_day(since),
            until=_start_of_day(until, next_day=True),
        )
        page_request = page_request_of(cursor or None)
    except (DomainError, ProblemError) as exc:
        message = exc.detail if isinstance(exc, ProblemError) else str(exc)
        return _audit_render(
            request, viewer, filters=filters, events=[], next_url=None, error=message, status=422
        )

    def load() -> tuple[list[AuditEventOut], str | None]:
        with services(request).db.read() as session:
            page = audit.search_events(session, viewer.tenant_id, where, page_request)
        return [AuditEventOut.of(e) for e in page.items], cursor_of(page.next_after)

    events, next_cursor = await threaded(load)
    next_url = None
    if next_cursor is not None:
        next_url = f"/console/{tenant}/audit?" + urlencode({**filters, "cursor": next_cursor})
    return _audit_render(
        request, viewer, filters=filters, events=events, next_url=next_url, error=None
    )


def _audit_render(
    request: Request,
    viewer: Viewer,
    *,
    filters: dict[str, str],
    events: list[AuditEventOut],
    next_url: str | None,
    error: str | None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "audit.html",
        {
            "viewer": viewer,
            "filters": filters,
            "events": events,
            "next_url": next_url,
            "error": error,
        },
        status=status,
    )


def _start_of_day(value: str, *, next_day: bool = False) -> datetime | None:
    if not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInputError("dates look like 2026-11-22") from None
    start = datetime.combine(day, time(0, 0), tzinfo=UTC)
    return start + timedelta(days=1) if next_day else start
