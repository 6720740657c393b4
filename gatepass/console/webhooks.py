"""Administrators' Webhooks page: endpoints, their one-time secret, and each delivery log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass.api.auth import threaded
from gatepass.api.webhook_schemas import DeliveryOut, WebhookOut
from gatepass.console.web import (
    Viewer,
    actor_of,
    clear_reveal,
    failed,
    field,
    posted,
    redirect,
    render,
    services,
    set_reveal,
    signed_in,
    take_reveal,
)
from gatepass.destinations import Rules
from gatepass.errors import DomainError
from gatepass.pagination import PageRequest
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.webhooks import service
from gatepass.webhooks.events import EVENT_TYPES
from gatepass.webhooks.signing import SecretBox

router = APIRouter()
ACTIONS = ("enable", "disable", "test", "rotate", "delete")
Work = Callable[[Session, Tenant], Any]


@router.get("/{tenant}/webhooks")
async def webhooks_page(request: Request, tenant: str) -> Response:
    viewer = await signed_in(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    return await _page(request, viewer, {}, None)


async def _page(
    request: Request, viewer: Viewer, values: dict[str, Any], error: str | None, status: int = 200
) -> Response:
    def load() -> list[WebhookOut]:
        with services(request).db.read() as session:
            found = tenants.get_tenant(session, viewer.tenant_slug)
            return [WebhookOut.of(e) for e in service.list_endpoints(session, found)]

    reveal = take_reveal(request, viewer)
    context = {
        "viewer": viewer,
        "endpoints": await threaded(load),
        "event_types": EVENT_TYPES,
        "values": values,
        "error": error,
        "reveal": reveal if reveal and reveal.get("kind") == "webhook" else None,
    }
    response = render(request, "webhooks.html", context, status=status)
    if reveal is not None:
        clear_reveal(response, viewer)
    return response


@router.post("/{tenant}/webhooks")
async def add_webhook(request: Request, tenant: str) -> Response:
    viewer, form = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    values = {"url": field(form, "url"), "description": field(form, "description")}
    events = [e for e in form.getlist("events") if isinstance(e, str)]
    spec = service.EndpointSpec(url=values["url"], description=values["description"], events=events)
    settings = services(request).settings
    box = SecretBox.from_master_key(settings.master_key())

    def work(session: Session, found: Tenant) -> dict[str, str]:
        endpoint, secret = service.create_endpoint(
            session, found, spec, actor=actor_of(request, viewer), rules=Rules.of(settings), box=box
        )
        return {"kind": "webhook", "name": endpoint.url, "secret": secret.reveal()}

    try:
        shown = await _run(request, viewer, work)
    except DomainError as exc:
        return await _page(request, viewer, {**values, "events": events}, str(exc), status=422)
    return _revealing(request, viewer, shown)


@router.post("/{tenant}/webhooks/{endpoint_id}/{action}")
async def webhook_action(request: Request, tenant: str, endpoint_id: str, action: str) -> Response:
    viewer, _ = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    back = f"/console/{tenant}/webhooks"
    if action not in ACTIONS:
        return failed(request, viewer, "Unknown action.", back, status=404)
    try:
        shown = await _run(request, viewer, _action(request, viewer, endpoint_id, action))
    except DomainError as exc:
        return failed(request, viewer, str(exc), back)
    if isinstance(shown, dict):
        return _revealing(request, viewer, shown)
    return redirect(f"{back}/{endpoint_id}" if action == "test" else back)


def _action(request: Request, viewer: Viewer, endpoint_id: str, action: str) -> Work:
    actor = actor_of(request, viewer)
    settings = services(request).settings

    def work(session: Session, found: Tenant) -> object:
        if action == "rotate":
            box = SecretBox.from_master_key(settings.master_key())
            endpoint, secret = service.rotate_secret(
                session, found, endpoint_id, actor=actor, box=box
            )
            return {"kind": "webhook", "name": endpoint.url, "secret": secret.reveal()}
        if action == "test":
            return service.send_test(session, found, endpoint_id, actor=actor)
        if action == "delete":
            service.delete_endpoint(session, found, endpoint_id, actor=actor)
            return None
        spec = service.EndpointSpec(enabled=action == "enable")
        return service.update_endpoint(
            session, found, endpoint_id, spec, actor=actor, rules=Rules.of(settings)
        )

    return work


@router.get("/{tenant}/webhooks/{endpoint_id}")
async def deliveries_page(request: Request, tenant: str, endpoint_id: str) -> Response:
    viewer = await signed_in(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer

    def load(session: Session, found: Tenant) -> tuple[WebhookOut, list[DeliveryOut]]:
        endpoint = service.get_endpoint(session, found, endpoint_id)
        page = service.attempts(session, found, endpoint_id, PageRequest(limit=100))
        return WebhookOut.of(endpoint), [DeliveryOut.of(a) for a in page.items]

    try:
        endpoint, log = await _run(request, viewer, load)
    except DomainError as exc:
        return failed(request, viewer, str(exc), f"/console/{tenant}/webhooks", status=404)
    context = {"viewer": viewer, "endpoint": endpoint, "deliveries": log}
    return render(request, "webhook_deliveries.html", context)


@router.post("/{tenant}/webhooks/{endpoint_id}/deliveries/{message_id}/redeliver")
async def redeliver(request: Request, tenant: str, endpoint_id: str, message_id: str) -> Response:
    viewer, _ = await posted(request, tenant, "administer")
    if isinstance(viewer, Response):
        return viewer
    back = f"/console/{tenant}/webhooks/{endpoint_id}"
    actor = actor_of(request, viewer)
    try:
        await _run(
            request,
            viewer,
            lambda s, t: service.redeliver(s, t, endpoint_id, message_id, actor=actor),
        )
    except DomainError as exc:
        return failed(request, viewer, str(exc), back)
    return redirect(back)


async def _run(request: Request, viewer: Viewer, work: Work) -> Any:
    def run() -> Any:
        with services(request).db.transaction() as session:
            return work(session, tenants.get_tenant(session, viewer.tenant_slug))

    return await threaded(run)


def _revealing(request: Request, viewer: Viewer, shown: dict[str, str]) -> Response:
    """Back to the page, which shows the new secret once (sealed in a cookie, never a URL)."""
    response = redirect(f"/console/{viewer.tenant_slug}/webhooks")
    set_reveal(request, response, viewer, shown)
    return response
