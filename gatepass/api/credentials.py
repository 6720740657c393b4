"""OAuth clients and API keys: the credential lifecycle over HTTP.

Each route calls the same service function as the CLI and the console; the service writes the
audit event in the route's transaction and publishes the change to every process's cache.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from gatepass.api import schemas
from gatepass.api.auth import Manager, Reader
from gatepass.api.common import (
    Cursor,
    Filter,
    IdempotencyKey,
    Limit,
    json_response,
    page_of,
    page_request,
    read,
    write,
)
from gatepass.api.problems import responses
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.credentials import lifecycle
from gatepass.settings import Settings
from gatepass.tenants.models import Tenant

router = APIRouter()

ClientIdPath = Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9._~-]+$")]
KeyIdPath = Annotated[str, Path(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
Status = Annotated[Literal["active", "expired", "revoked"] | None, Query()]
KeyStatus = Annotated[Literal["active", "expired", "revoked", "disabled"] | None, Query()]
Kind = Annotated[Literal["service", "personal"] | None, Query()]


def _grace(seconds: int) -> timedelta | None:
    return timedelta(seconds=seconds) if seconds else None


def _token_endpoint(request: Request, slug: str) -> str:
    settings: Settings = request.app.state.services.settings
    return f"{settings.public_url}/realms/{slug}/protocol/openid-connect/token"


# --- OAuth clients ---------------------------------------------------------------------------


@router.get(
    "/clients",
    response_model=schemas.Page[schemas.ClientOut],
    responses=responses(),
    tags=["OAuth clients"],
)
def list_clients(
    request: Request,
    principal: Reader,
    status: Status = None,
    name: Filter = None,
    created_by: Filter = None,
    permission: Filter = None,
    group: Filter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """OAuth client credentials, newest first."""
    where = lifecycle.CredentialFilter(
        status=status, name=name, created_by=created_by, permission=permission, group=group
    )
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(lifecycle.search(s, t, CLIENT, where, req), schemas.ClientOut.of),
    )
    return json_response(body)


@router.post(
    "/clients",
    status_code=201,
    response_model=schemas.ClientIssued,
    responses=responses(409),
    tags=["OAuth clients"],
)
def create_client(
    request: Request,
    principal: Manager,
    body: schemas.ClientIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create a client. The answer holds its secret: shown this once, never again."""
    spec = clients.NewClient(
        name=body.name,
        description=body.description,
        scopes=body.scopes,
        groups=body.groups,
        client_id=body.client_id,
        expires_at=body.expires_at,
        token_lifetime=body.token_lifetime,
    )

    def work(session: Session, tenant: Tenant) -> schemas.ClientIssued:
        client, secret = clients.create_client(
            session, tenant, spec, actor=principal.actor, hasher=request.app.state.services.hasher
        )
        return _issued_client(request, tenant.slug, client, secret.reveal())

    return write(
        request, principal, work, status=201, payload=body, idempotency_key=idempotency_key
    )


@router.post(
    "/clients/revoke-all",
    response_model=schemas.Count,
    responses=responses(409),
    tags=["OAuth clients"],
)
def revoke_all_clients(
    request: Request, principal: Manager, idempotency_key: IdempotencyKey = None
) -> Response:
    """Revoke every active client of the tenant at once (seed 004's "Revoke all")."""
    return write(
        request,
        principal,
        lambda s, t: schemas.Count(count=lifecycle.revoke_all(s, t, CLIENT, actor=principal.actor)),
        idempotency_key=idempotency_key,
    )


@router.get(
    "/clients/{client_id}",
    response_model=schemas.ClientOut,
    responses=responses(),
    tags=["OAuth clients"],
)
def get_client(request: Request, principal: Reader, client_id: ClientIdPath) -> Response:
    """One client: its permissions, groups, status, and each secret version's hint and last use."""
    body = read(
        request,
        principal,
        lambda s, t: schemas.ClientOut.of(lifecycle.get(s, t, CLIENT, client_id)).model_dump(
            mode="json"
        ),
    )
    return json_response(body)


@router.post(
    "/clients/{client_id}/rotate-secret",
    response_model=schemas.ClientIssued,
    responses=responses(409),
    tags=["OAuth clients"],
)
def rotate_client_secret(
    request: Request,
    principal: Manager,
    client_id: ClientIdPath,
    body: schemas.RotateIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Issue a new secret (shown once); older secrets stop now or after `grace_seconds`."""
    grace = _grace(body.grace_seconds if body else 0)

    def work(session: Session, tenant: Tenant) -> schemas.ClientIssued:
        client, secret = lifecycle.rotate(
            session,
            tenant,
            CLIENT,
            client_id,
            grace=grace,
            actor=principal.actor,
            hasher=request.app.state.services.hasher,
        )
        return _issued_client(request, tenant.slug, client, secret.reveal())

    return write(request, principal, work, payload=body, idempotency_key=idempotency_key)


@router.post(
    "/clients/{client_id}/revoke",
    response_model=schemas.ClientOut,
    responses=responses(409),
    tags=["OAuth clients"],
)
def revoke_client(
    request: Request,
    principal: Manager,
    client_id: ClientIdPath,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Revoke a client: its tokens stop being accepted by introspection at once."""
    return write(
        request,
        principal,
        lambda s, t: schemas.ClientOut.of(
            lifecycle.revoke(s, t, CLIENT, client_id, actor=principal.actor)
        ),
        idempotency_key=idempotency_key,
    )


@router.delete(
    "/clients/{client_id}",
    status_code=204,
    response_class=Response,
    responses=responses(),
    tags=["OAuth clients"],
)
def delete_client(request: Request, principal: Manager, client_id: ClientIdPath) -> Response:
    """Delete a client for good. This cannot be undone."""
    return write(
        request,
        principal,
        lambda s, t: lifecycle.delete(s, t, CLIENT, client_id, actor=principal.actor),
        status=204,
    )


def _issued_client(
    request: Request, slug: str, client: OAuthClient, secret: str
) -> schemas.ClientIssued:
    view = schemas.ClientOut.of(client)
    return schemas.ClientIssued(
        **view.model_dump(), client_secret=secret, token_endpoint=_token_endpoint(request, slug)
    )


# --- API keys --------------------------------------------------------------------------------


@router.get(
    "/api-keys",
    response_model=schemas.Page[schemas.ApiKeyOut],
    responses=responses(),
    tags=["API keys"],
)
def list_keys(
    request: Request,
    principal: Reader,
    status: KeyStatus = None,
    name: Filter = None,
    created_by: Filter = None,
    permission: Filter = None,
    group: Filter = None,
    owner: Filter = None,
    kind: Kind = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """API keys, newest first."""
    where = lifecycle.CredentialFilter(
        status=status,
        name=name,
        created_by=created_by,
        permission=permission,
        group=group,
        extra=apikeys.owner_filters(
            owner=owner, personal=None if kind is None else kind == "personal"
        ),
    )
    req = page_request(cursor, limit)
    body = read(
        request,
        principal,
        lambda s, t: page_of(lifecycle.search(s, t, API_KEY, where, req), schemas.ApiKeyOut.of),
    )
    return json_response(body)


@router.post(
    "/api-keys",
    status_code=201,
    response_model=schemas.ApiKeyIssued,
    responses=responses(409),
    tags=["API keys"],
)
def create_key(
    request: Request,
    principal: Manager,
    body: schemas.ApiKeyIn,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Create an API key. The answer holds the key: shown this once, never again."""
    spec = apikeys.NewApiKey(
        name=body.name,
        description=body.description,
        scopes=body.scopes,
        groups=body.groups,
        owner_email=body.owner,
        expires_at=body.expires_at,
        rate_limit=(
            apikeys.RateLimit(body.rate_limit.limit, body.rate_limit.period)
            if body.rate_limit
            else None
        ),
    )

    def work(session: Session, tenant: Tenant) -> schemas.ApiKeyIssued:
        key, secret = apikeys.create_key(
            session, tenant, spec, actor=principal.actor, hasher=request.app.state.services.hasher
        )
        return schemas.ApiKeyIssued(**schemas.ApiKeyOut.of(key).model_dump(), key=secret.reveal())

    return write(
        request, principal, work, status=201, payload=body, idempotency_key=idempotency_key
    )


@router.post(
    "/api-keys/revoke-all",
    response_model=schemas.Count,
    responses=responses(409),
    tags=["API keys"],
)
def revoke_all_keys(
    request: Request, principal: Manager, idempotency_key: IdempotencyKey = None
) -> Response:
    """Revoke every active API key of the tenant at once."""
    return write(
        request,
        principal,
        lambda s, t: schemas.Count(
            count=lifecycle.revoke_all(s, t, API_KEY, actor=principal.actor)
        ),
        idempotency_key=idempotency_key,
    )


@router.get(
    "/api-keys/{key_id}",
    response_model=schemas.ApiKeyOut,
    responses=responses(),
    tags=["API keys"],
)
def get_key(request: Request, principal: Reader, key_id: KeyIdPath) -> Response:
    """One API key: its permissions, groups, owner, status, hint and last use."""
    body = read(
        request,
        principal,
        lambda s, t: schemas.ApiKeyOut.of(lifecycle.get(s, t, API_KEY, key_id)).model_dump(
            mode="json"
        ),
    )
    return json_response(body)


@router.post(
    "/api-keys/{key_id}/regenerate",
    response_model=schemas.ApiKeyIssued,
    responses=responses(409),
    tags=["API keys"],
)
def regenerate_key(
    request: Request,
    principal: Manager,
    key_id: KeyIdPath,
    body: schemas.RotateIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """The same key with a new secret (shown once). Anything using the old one stops working,
    at once or after `grace_seconds`."""
    grace = _grace(body.grace_seconds if body else 0)

    def work(session: Session, tenant: Tenant) -> schemas.ApiKeyIssued:
        key, secret = lifecycle.rotate(
            session,
            tenant,
            API_KEY,
            key_id,
            grace=grace,
            actor=principal.actor,
            hasher=request.app.state.services.hasher,
        )
        return schemas.ApiKeyIssued(**schemas.ApiKeyOut.of(key).model_dump(), key=secret.reveal())

    return write(request, principal, work, payload=body, idempotency_key=idempotency_key)


@router.post(
    "/api-keys/{key_id}/revoke",
    response_model=schemas.ApiKeyOut,
    responses=responses(409),
    tags=["API keys"],
)
def revoke_key(
    request: Request, principal: Manager, key_id: KeyIdPath, idempotency_key: IdempotencyKey = None
) -> Response:
    """Revoke a key: the verify endpoint answers REVOKED for it at once."""
    return write(
        request,
        principal,
        lambda s, t: schemas.ApiKeyOut.of(
            lifecycle.revoke(s, t, API_KEY, key_id, actor=principal.actor)
        ),
        idempotency_key=idempotency_key,
    )


@router.delete(
    "/api-keys/{key_id}",
    status_code=204,
    response_class=Response,
    responses=responses(),
    tags=["API keys"],
)
def delete_key(request: Request, principal: Manager, key_id: KeyIdPath) -> Response:
    """Delete a key for good. This cannot be undone."""
    return write(
        request,
        principal,
        lambda s, t: lifecycle.delete(s, t, API_KEY, key_id, actor=principal.actor),
        status=204,
    )
