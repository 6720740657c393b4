"""Editing an OAuth client or an API key in the console: the credential form, filled with what
the credential holds, posting to the same edit services as the management API and the CLI.

Only what the form changes is sent as a change: a date that still names the stored expiry's
day, or a rate limit as stored, leaves the stored value exactly as it was. A permission the
credential holds that the editor could not grant is shown checked and kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gatepass.api.auth import threaded
from gatepass.api.schemas import SecretVersionOut
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.console import forms
from gatepass.console.credentials import FormPage, form_page, refusal_status
from gatepass.console.web import (
    Viewer,
    actor_of,
    failed,
    field,
    posted,
    redirect,
    services,
    signed_in,
)
from gatepass.credentials import grace, lifecycle
from gatepass.db import utcnow
from gatepass.errors import DomainError, InvalidInputError
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant

router = APIRouter()


@dataclass(frozen=True)
class Editable:
    """One kind of credential as its edit page sees it."""

    kind: lifecycle.Kind[Any]
    listing: str  # "credentials", "api-keys": the page it is listed on
    edit: Callable[..., Any]  # (session, tenant, ref, changes, actor=)
    changes: Callable[[forms.CredentialForm, Any], Any]  # the form, the row -> changes
    rate_limit: bool = False


def _shared(values: forms.CredentialForm, row: Any) -> dict[str, Any]:
    stored = forms.date_of(row.expires_at)
    expires_at = values.shared()["expires_at"] if values.expires_on != stored else None
    return {
        "name": values.name,
        "description": values.description,
        "scopes": values.scopes,
        "groups": values.groups,
        "expires_at": expires_at,
        "clear_expiry": not values.expires_on and row.expires_at is not None,
        "allowed_ips": values.shared()["allowed_ips"],
    }


def _key_changes(values: forms.CredentialForm, key: Any) -> apikeys.ApiKeyChanges:
    stored = forms.CredentialForm.rate_of(key.rate_limit, key.rate_period)
    unchanged = (values.rate_requests, values.rate_period) == stored
    return apikeys.ApiKeyChanges(
        **_shared(values, key),
        rate_limit=None if unchanged else values.rate_limit(),
        clear_rate_limit=not unchanged and not values.rate_requests,
    )


KINDS = {
    "credentials": Editable(
        CLIENT,
        "credentials",
        clients.edit_client,
        lambda values, row: clients.ClientChanges(**_shared(values, row)),
    ),
    "api-keys": Editable(API_KEY, "api-keys", apikeys.edit_key, _key_changes, rate_limit=True),
}


def _page(viewer: Viewer, editable: Editable, ref: str, name: str) -> FormPage:
    base = f"/console/{viewer.tenant_slug}/{editable.listing}"
    return FormPage(
        heading=f"Edit “{name}”",
        action=f"{base}/{ref}/edit",
        submit="Save changes",
        back=base,
        active=editable.listing,
        rate_limit=editable.rate_limit,
        editing=True,
    )


async def edit_page(request: Request, tenant: str, listing: str, ref: str) -> Response:
    viewer = await signed_in(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    editable = KINDS[listing]

    def load() -> tuple[str, forms.CredentialForm, list[SecretVersionOut]]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            row = lifecycle.get(session, found, editable.kind, ref)
            versions = SecretVersionOut.all_of(row.secrets, utcnow())
            return row.name, forms.CredentialForm.of(row), versions

    try:
        name, values, versions = await threaded(load)
    except DomainError as exc:
        back = f"/console/{tenant}/{listing}"
        return failed(request, viewer, str(exc), back, status=refusal_status(exc, missing=404))
    page = _page(viewer, editable, ref, name)
    return await form_page(request, viewer, page, values, None, versions=versions)


async def save(request: Request, tenant: str, listing: str, ref: str) -> Response:
    viewer, form = await posted(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    editable = KINDS[listing]
    values = forms.CredentialForm.read(form)
    actor = actor_of(request, viewer)

    def work() -> None:
        with services(request).db.transaction() as session:
            found: Tenant = tenants.get_tenant(session, viewer.tenant_slug)
            row = lifecycle.get(session, found, editable.kind, ref)
            editable.edit(session, found, ref, editable.changes(values, row), actor=actor)

    try:
        await threaded(work)
    except DomainError as exc:
        page = _page(viewer, editable, ref, values.name or ref)
        return await form_page(request, viewer, page, values, str(exc), status=refusal_status(exc))
    return redirect(f"/console/{tenant}/{listing}")


# What the edit page offers for "retire unused older secrets": minutes unused.
IDLE_CHOICES = {"15": 15, "60": 60, "1440": 1440}


async def retire(request: Request, tenant: str, listing: str, ref: str) -> Response:
    """End the older secrets still in a grace period that have gone unused (``grace``)."""
    viewer, form = await posted(request, tenant, "manage")
    if isinstance(viewer, Response):
        return viewer
    editable = KINDS[listing]
    back = f"/console/{tenant}/{listing}/{ref}/edit"
    actor = actor_of(request, viewer)
    minutes = IDLE_CHOICES.get(field(form, "idle"))
    services(request).cache.flush_uses()  # this process's uses not yet written count too

    def work() -> None:
        if minutes is None:
            raise InvalidInputError("choose 15 minutes, 1 hour or 24 hours")
        with services(request).db.transaction() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            grace.retire_unused(
                session, found, editable.kind, ref, idle=timedelta(minutes=minutes), actor=actor
            )

    try:
        await threaded(work)
    except DomainError as exc:
        return failed(request, viewer, str(exc), back, status=refusal_status(exc, missing=404))
    return redirect(back)


def _edit_routes(listing: str) -> None:
    async def show(request: Request, tenant: str, ref: str) -> Response:
        return await edit_page(request, tenant, listing, ref)

    async def submit(request: Request, tenant: str, ref: str) -> Response:
        return await save(request, tenant, listing, ref)

    async def retire_unused(request: Request, tenant: str, ref: str) -> Response:
        return await retire(request, tenant, listing, ref)

    path = f"/{{tenant}}/{listing}/{{ref}}/edit"
    router.add_api_route(path, show, methods=["GET"])
    router.add_api_route(path, submit, methods=["POST"])
    router.add_api_route(
        f"/{{tenant}}/{listing}/{{ref}}/retire-unused", retire_unused, methods=["POST"]
    )


for _listing in KINDS:
    _edit_routes(_listing)
