"""API keys: the tenant's keys page, and each user's own personal keys under "Settings"."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass.api.auth import threaded
from gatepass.api.schemas import ApiKeyOut
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.console import forms
from gatepass.console.credentials import (
    LISTED,
    FormPage,
    act,
    create_from_form,
    keeps_management,
    listing_context,
    new_form,
    revealer,
)
from gatepass.console.issuing import Issued
from gatepass.console.web import (
    Viewer,
    clear_reveal,
    failed,
    field,
    forbidden,
    posted,
    render,
    services,
    signed_in,
    take_reveal,
)
from gatepass.credentials import lifecycle
from gatepass.deliveries import mail
from gatepass.errors import NotFoundError
from gatepass.pagination import PageRequest
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant

router = APIRouter()
ACTIONS = ("regenerate", "suspend", "resume", "revoke", "delete", "revoke-all")
PERSONAL_ACTIONS = ("regenerate", "delete")
Work = Callable[[Session, Tenant], Issued]


def key_issued(key: ApiKey, secret: str, event: str = "created") -> Issued:
    return Issued(
        kind="api_key",
        target_type="api_key",
        target=key.key_id,
        name=key.name,
        secret=secret,
        event=event,
        shown={"key_id": key.key_id},
    )


def key_regenerated(key: ApiKey, secret: str) -> Issued:
    return key_issued(key, secret, "regenerated")


async def _listing(
    request: Request, viewer: Viewer, where: lifecycle.CredentialFilter
) -> tuple[list[ApiKeyOut], dict[str, object]]:
    """The keys ``where`` selects, and what the page shows beyond them (``listing_context``)."""

    def load() -> tuple[list[ApiKeyOut], dict[str, object]]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            page = lifecycle.search(session, found, API_KEY, where, PageRequest(limit=LISTED))
            return [ApiKeyOut.of(k) for k in page.items], listing_context(session, found, API_KEY)

    return await threaded(load)


def _page(request: Request, viewer: Viewer, template: str, context: dict[str, object]) -> Response:
    reveal = take_reveal(request, viewer)
    response = render(
        request,
        template,
        {"viewer": viewer, "reveal": reveal, "may_reveal": revealer(viewer), **context},
    )
    if reveal is not None:
        clear_reveal(response, viewer)
    return response


# --- the tenant's API keys -------------------------------------------------------------------


@router.get("/{tenant}/api-keys")
async def keys_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant)
    if isinstance(viewer, Response):
        return viewer
    listed, context = await _listing(request, viewer, lifecycle.CredentialFilter())
    return _page(
        request,
        viewer,
        "api_keys.html",
        {
            **context,
            "keys": listed,
            "more": len(listed) >= LISTED,
            "mail": mail.configured(services(request).settings),
        },
    )


def _key_form(viewer: Viewer) -> FormPage:
    base = f"/console/{viewer.tenant_slug}/api-keys"
    return FormPage(
        heading="New API key",
        action=base,
        submit="Create",
        back=base,
        active="api-keys",
        rate_limit=True,
    )


@router.get("/{tenant}/api-keys/new")
async def new_key_page(request: Request, tenant: str) -> Response:
    return await new_form(request, tenant, _key_form)


@router.post("/{tenant}/api-keys")
async def create_key(request: Request, tenant: str) -> Response:
    def spec_of(values: forms.CredentialForm, viewer: Viewer) -> apikeys.NewApiKey:
        return apikeys.NewApiKey(**values.shared(), rate_limit=values.rate_limit())

    return await create_from_form(
        request, tenant, _key_form, spec_of, apikeys.create_key, key_issued
    )


@router.post("/{tenant}/api-keys/{key_id}/{action}")
async def key_action(request: Request, tenant: str, key_id: str, action: str) -> Response:
    viewer, form = await posted(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    back = f"/console/{tenant}/api-keys"
    return await _act(
        request,
        viewer,
        key_id,
        action,
        ACTIONS,
        back,
        email_to=field(form, "email_to").strip(),
        keep_management=keeps_management(form),
        grace=field(form, "grace"),
    )


async def _act(
    request: Request,
    viewer: Viewer,
    key_id: str,
    action: str,
    allowed: tuple[str, ...],
    back: str,
    *,
    owner: str | None = None,
    email_to: str = "",
    keep_management: bool = False,
    grace: str = "",
) -> Response:
    """Regenerate (shown once, or emailed as a one-time link), suspend, resume, revoke, delete
    or revoke all; with ``owner``, only that user's own key."""
    if action not in allowed:
        return failed(request, viewer, f"Unknown action “{action}”.", back, status=404)

    def own(session: Session, found: Tenant) -> None:
        if owner is None:
            return
        key = lifecycle.get(session, found, API_KEY, key_id)
        if key.owner is None or key.owner.email != owner:
            raise NotFoundError(f"no personal API key '{key_id}' of yours")

    return await act(
        request,
        viewer,
        API_KEY,
        key_id,
        action,
        back,
        issued=key_regenerated,
        email_to=email_to,
        keep_management=keep_management,
        grace=grace,
        guard=own,
    )


# --- personal keys: Settings -----------------------------------------------------------------


@router.get("/{tenant}/settings")
async def settings_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant)
    if isinstance(viewer, Response):
        return viewer
    mine, context = await _listing(
        request,
        viewer,
        lifecycle.CredentialFilter(extra=apikeys.owner_filters(owner=viewer.email, personal=True)),
    )
    return _page(request, viewer, "settings.html", {**context, "keys": mine, "active": "settings"})


def _personal_form(viewer: Viewer) -> FormPage:
    base = f"/console/{viewer.tenant_slug}/settings"
    return FormPage(
        heading="New personal PSK",
        action=f"{base}/keys",
        submit="Create",
        back=base,
        active="settings",
        personal=True,
    )


@router.get("/{tenant}/settings/keys/new")
async def new_personal_key_page(request: Request, tenant: str) -> Response:
    return await new_form(request, tenant, _personal_form)


@router.post("/{tenant}/settings/keys")
async def create_personal_key(request: Request, tenant: str) -> Response:
    def spec_of(values: forms.CredentialForm, viewer: Viewer) -> apikeys.NewApiKey:
        return apikeys.NewApiKey(**values.shared(), owner_email=viewer.email)

    return await create_from_form(
        request, tenant, _personal_form, spec_of, apikeys.create_key, key_issued
    )


@router.post("/{tenant}/settings/keys/{key_id}/{action}")
async def personal_key_action(request: Request, tenant: str, key_id: str, action: str) -> Response:
    """A user's own key: anyone may delete theirs; regenerating needs a role that holds keys."""
    viewer, _ = await posted(request, tenant)
    if isinstance(viewer, Response):
        return viewer
    if action != "delete" and not viewer.can("manage"):
        return forbidden(request, viewer)
    back = f"/console/{tenant}/settings"
    return await _act(request, viewer, key_id, action, PERSONAL_ACTIONS, back, owner=viewer.email)
