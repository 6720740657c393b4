"""Webhook endpoints over HTTP: administrators only. The signing secret is in the answers of
creation and rotation only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass.api import webhook_schemas as schemas
from gatepass.api.auth import Admin
from gatepass.api.common import (
    Cursor,
    Limit,
    json_response,
    page_of,
    page_request,
    read,
    services,
    write,
)
from gatepass.api.problems import responses
from gatepass.api.schemas import Page
from gatepass.destinations import Rules
from gatepass.tenants.models import Tenant
from gatepass.webhooks import service
from gatepass.webhooks.signing import SecretBox

router = APIRouter(tags=["Webhooks"])

EndpointId = Annotated[str, Path(max_length=40, pattern=r"^ep_[A-Za-z0-9_-]+$")]
MessageId = Annotated[str, Path(max_length=300, pattern=r"^msg_[\x21-\x7e]+$")]


def _rules(request: Request) -> Rules:
    return Rules.of(services(request).settings)


def _box(request: Request) -> SecretBox:
    return SecretBox.from_master_key(services(request).settings.master_key())


@router.get("/webhooks", response_model=list[schemas.WebhookOut], responses=responses())
def list_webhooks(request: Request, principal: Admin) -> Response:
    """The tenant's webhook endpoints, oldest first."""
    body = read(
        request,
        principal,
        lambda s, t: [
            schemas.WebhookOut.of(e).model_dump(mode="json") for e in service.list_endpoints(s, t)
        ],
    )
    return json_response(body)


@router.post(
    "/webhooks", status_code=201, response_model=schemas.WebhookIssued, responses=responses(409)
)
def create_webhook(request: Request, principal: Admin, body: schemas.WebhookIn) -> Response:
    """Add an endpoint; the answer holds its signing secret, shown this once."""
    spec = service.EndpointSpec(
        url=body.url, description=body.description, events=body.events, enabled=body.enabled
    )
    rules, box = _rules(request), _box(request)

    def work(session: Session, tenant: Tenant) -> schemas.WebhookIssued:
        endpoint, secret = service.create_endpoint(
            session, tenant, spec, actor=principal.actor, rules=rules, box=box
        )
        return schemas.WebhookIssued.issued(endpoint, secret.reveal())

    return write(request, principal, work, status=201)


@router.get("/webhooks/{endpoint_id}", response_model=schemas.WebhookOut, responses=responses())
def get_webhook(request: Request, principal: Admin, endpoint_id: EndpointId) -> Response:
    """One endpoint (never its secret)."""
    body = read(
        request,
        principal,
        lambda s, t: schemas.WebhookOut.of(service.get_endpoint(s, t, endpoint_id)).model_dump(
            mode="json"
        ),
    )
    return json_response(body)


@router.patch("/webhooks/{endpoint_id}", response_model=schemas.WebhookOut, responses=responses())
def update_webhook(
    request: Request, principal: Admin, endpoint_id: EndpointId, body: schemas.WebhookPatch
) -> Response:
    """Change the URL, description, event types, or enable or disable the endpoint."""
    spec = service.EndpointSpec(
        url=body.url, description=body.description, events=body.events, enabled=body.enabled
    )
    rules = _rules(request)

    def work(session: Session, tenant: Tenant) -> schemas.WebhookOut:
        endpoint = service.update_endpoint(
            session, tenant, endpoint_id, spec, actor=principal.actor, rules=rules
        )
        return schemas.WebhookOut.of(endpoint)

    return write(request, principal, work)


@router.delete("/webhooks/{endpoint_id}", status_code=204, responses=responses())
def delete_webhook(request: Request, principal: Admin, endpoint_id: EndpointId) -> Response:
    """Delete the endpoint, with its messages not yet sent and its delivery log."""

    def work(session: Session, tenant: Tenant) -> None:
        service.delete_endpoint(session, tenant, endpoint_id, actor=principal.actor)

    return write(request, principal, work, status=204)


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret",
    response_model=schemas.WebhookIssued,
    responses=responses(),
)
def rotate_webhook_secret(request: Request, principal: Admin, endpoint_id: EndpointId) -> Response:
    """A new signing secret, shown this once; the next attempts are signed with it."""
    box = _box(request)

    def work(session: Session, tenant: Tenant) -> schemas.WebhookIssued:
        endpoint, secret = service.rotate_secret(
            session, tenant, endpoint_id, actor=principal.actor, box=box
        )
        return schemas.WebhookIssued.issued(endpoint, secret.reveal())

    return write(request, principal, work)


@router.post(
    "/webhooks/{endpoint_id}/test",
    status_code=202,
    response_model=schemas.MessageQueued,
    responses=responses(409),
)
def test_webhook(request: Request, principal: Admin, endpoint_id: EndpointId) -> Response:
    """Queue a `webhook.test` event for this endpoint."""

    def work(session: Session, tenant: Tenant) -> schemas.MessageQueued:
        message_id = service.send_test(session, tenant, endpoint_id, actor=principal.actor)
        return schemas.MessageQueued(message_id=message_id)

    return write(request, principal, work, status=202)


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response_model=Page[schemas.DeliveryOut],
    responses=responses(),
)
def list_deliveries(
    request: Request,
    principal: Admin,
    endpoint_id: EndpointId,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """The delivery log of the endpoint: each attempt, newest first."""
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(service.attempts(s, t, endpoint_id, req), schemas.DeliveryOut.of),
    )
    return json_response(body)


@router.post(
    "/webhooks/{endpoint_id}/deliveries/{message_id}/redeliver",
    status_code=202,
    response_model=schemas.MessageQueued,
    responses=responses(),
)
def redeliver(
    request: Request, principal: Admin, endpoint_id: EndpointId, message_id: MessageId
) -> Response:
    """Send a message again now, with the same `webhook-id`, whatever became of it."""

    def work(session: Session, tenant: Tenant) -> schemas.MessageQueued:
        service.redeliver(session, tenant, endpoint_id, message_id, actor=principal.actor)
        return schemas.MessageQueued(message_id=message_id)

    return write(request, principal, work, status=202)
