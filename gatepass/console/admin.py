"""Administrators' pages: the tenant's users and its permission catalog."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass import provisioning
from gatepass.api.auth import threaded
from gatepass.api.schemas import PermissionOut, UserOut
from gatepass.console.web import (
    Viewer,
    actor_of,
    failed,
    field,
    posted,
    redirect,
    render,
    services,
    signed_in,
)
from gatepass.errors import DomainError
from gatepass.pagination import PageRequest
from gatepass.permissions import service as permissions
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.users import service as users

router = APIRouter()
ROLE_LABELS = {
    "admin": "Administrator",
    "credentials_manager": "Manage API credentials",
    "viewer": "Viewer (read-only)",
}
USER_ACTIONS = ("role", "disable", "enable")


async def _change(
    request: Request, viewer: Viewer, work: Callable[[Session, Tenant], object], back: str
) -> Response:
    def run() -> None:
        with services(request).db.transaction() as session:
            work(session, tenants.get_tenant(session, viewer.tenant_slug))

    try:
        await threaded(run)
    except DomainError as exc:
        return failed(request, viewer, str(exc), back)
    return redirect(back)


# --- users -----------------------------------------------------------------------------------


@router.get("/{tenant}/users")
async def users_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    return await _users(request, viewer, {}, None)


async def _users(
    request: Request, viewer: Viewer, values: dict[str, str], error: str | None, status: int = 200
) -> Response:
    def load() -> list[UserOut]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            page = users.search_users(session, found, users.UserFilter(), PageRequest(limit=200))
            return [UserOut.of(u) for u in page.items]

    return render(
        request,
        "users.html",
        {
            "viewer": viewer,
            "users": await threaded(load),
            "roles": ROLE_LABELS,
            "values": values,
            "error": error,
        },
        status=status,
    )


@router.post("/{tenant}/users")
async def add_user(request: Request, tenant: str) -> Response:
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    values = {k: field(form, k) for k in ("email", "display_name", "role")}
    actor = actor_of(request, viewer)

    def work() -> None:
        with services(request).db.transaction() as session:
            users.create_user(
                session,
                tenants.get_tenant(session, tenant),
                email=values["email"],
                role=values["role"],
                password=field(form, "password"),
                display_name=values["display_name"],
                actor=actor,
            )

    try:
        await threaded(work)
    except DomainError as exc:
        return await _users(request, viewer, values, str(exc), status=422)
    return redirect(f"/console/{tenant}/users")


@router.post("/{tenant}/users/{user_id}/{action}")
async def user_action(request: Request, tenant: str, user_id: str, action: str) -> Response:
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    back = f"/console/{tenant}/users"
    if action not in USER_ACTIONS or not (
        user_id.isascii() and user_id.isdigit() and len(user_id) <= 18
    ):
        return failed(request, viewer, "No such user or action.", back, status=404)
    actor = actor_of(request, viewer)
    role = field(form, "role")

    def work(session: Session, found: Tenant) -> object:
        email = users.get_user_by_id(session, found, int(user_id)).email
        if action == "role":
            return provisioning.set_role(session, found, email, role=role, actor=actor)
        return provisioning.set_status(
            session, found, email, active=action == "enable", actor=actor
        )

    return await _change(request, viewer, work, back)


# --- permissions -----------------------------------------------------------------------------


@router.get("/{tenant}/permissions")
async def permissions_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    return await _permissions(request, viewer, {}, None)


async def _permissions(
    request: Request, viewer: Viewer, values: dict[str, str], error: str | None, status: int = 200
) -> Response:
    def load() -> list[PermissionOut]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            return [PermissionOut.of(p) for p in permissions.list_permissions(session, found)]

    return render(
        request,
        "permissions.html",
        {
            "viewer": viewer,
            "permissions": await threaded(load),
            "values": values,
            "error": error,
        },
        status=status,
    )


@router.post("/{tenant}/permissions")
async def add_permission(request: Request, tenant: str) -> Response:
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    values = {k: field(form, k) for k in ("name", "label", "description")}
    actor = actor_of(request, viewer)

    def work() -> None:
        with services(request).db.transaction() as session:
            permissions.create_permission(
                session,
                tenants.get_tenant(session, tenant),
                name=values["name"].strip(),
                label=values["label"] or None,
                description=values["description"],
                available=True,
                actor=actor,
            )

    try:
        await threaded(work)
    except DomainError as exc:
        return await _permissions(request, viewer, values, str(exc), status=422)
    return redirect(f"/console/{tenant}/permissions")


@router.post("/{tenant}/permissions/edit")
async def edit_permission(request: Request, tenant: str) -> Response:
    """Change how a permission reads (label, description); its name, the scope, never changes."""
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    actor = actor_of(request, viewer)

    def work(session: Session, found: Tenant) -> object:
        return permissions.update_permission(
            session,
            found,
            field(form, "name"),
            label=field(form, "label"),
            description=field(form, "description"),
            actor=actor,
        )

    return await _change(request, viewer, work, f"/console/{tenant}/permissions")
