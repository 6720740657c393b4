"""OAuth clients and API keys: the credential lifecycle over HTTP.

Each route calls the same service function as the CLI and the console; the service writes the
audit event in the route's transaction and publishes the change to every process's cache.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from gatepass.api import schemas
from gatepass.api.auth import Manager, Reader
from gatepass.api.common import (
    Cursor,
    Filter,
    IdempotencyKey,
    Limit,
)
from gatepass.api.lifecycle_routes import KindRoutes, add_routes, created, listed
from gatepass.api.problems import responses
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.credentials import lifecycle
from gatepass.settings import Settings
from gatepass.tenants.models import Tenant

router = APIRouter()

Status = Annotated[Literal["active", "expired", "revoked"] | None, Query()]
KeyStatus = Annotated[Literal["active", "expired", "revoked", "disabled"] | None, Query()]
Kind = Annotated[Literal["service", "personal"] | None, Query()]


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
    return listed(request, principal, CLIENT_ROUTES, where, cursor, limit)


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
    return created(
        request,
        principal,
        CLIENT_ROUTES,
        partial(clients.create_client, spec=spec),
        payload=body,
        idempotency_key=idempotency_key,
    )


def _issued_client(
    request: Request, tenant: Tenant, client: OAuthClient, secret: str
) -> schemas.ClientIssued:
    view = schemas.ClientOut.of(client)
    return schemas.ClientIssued(
        **view.model_dump(),
        client_secret=secret,
        token_endpoint=_token_endpoint(request, tenant.slug),
    )


CLIENT_ROUTES = KindRoutes(
    kind=CLIENT,
    path="/clients",
    ref="client_id",
    ref_rule=Path(alias="client_id", max_length=100, pattern=r"^[A-Za-z0-9._~-]+$"),
    tag="OAuth clients",
    out=schemas.ClientOut,
    issued=schemas.ClientIssued,
    issue=_issued_client,
    rotate_path="rotate-secret",
    names={
        "revoke_all": "revoke_all_clients",
        "get": "get_client",
        "rotate": "rotate_client_secret",
        "revoke": "revoke_client",
        "delete": "delete_client",
    },
    docs={
        "revoke_all": "Revoke every active client of the tenant at once"
        ' (seed 004\'s "Revoke all").',
        "get": "One client: its permissions, groups, status, and each secret version's hint and"
        " last use.",
        "rotate": "Issue a new secret (shown once); older secrets stop now or after"
        " `grace_seconds`.",
        "revoke": "Revoke a client: its tokens stop being accepted by introspection at once.",
        "delete": "Delete a client for good. This cannot be undone.",
    },
)
add_routes(router, CLIENT_ROUTES)


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
    return listed(request, principal, KEY_ROUTES, where, cursor, limit)


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

    return created(
        request,
        principal,
        KEY_ROUTES,
        partial(apikeys.create_key, spec=spec),
        payload=body,
        idempotency_key=idempotency_key,
    )


def _issued_key(request: Request, tenant: Tenant, key: ApiKey, secret: str) -> schemas.ApiKeyIssued:
    return schemas.ApiKeyIssued(**schemas.ApiKeyOut.of(key).model_dump(), key=secret)


KEY_ROUTES = KindRoutes(
    kind=API_KEY,
    path="/api-keys",
    ref="key_id",
    ref_rule=Path(alias="key_id", max_length=40, pattern=r"^[A-Za-z0-9_-]+$"),
    tag="API keys",
    out=schemas.ApiKeyOut,
    issued=schemas.ApiKeyIssued,
    issue=_issued_key,
    rotate_path="regenerate",
    names={
        "revoke_all": "revoke_all_keys",
        "get": "get_key",
        "rotate": "regenerate_key",
        "revoke": "revoke_key",
        "delete": "delete_key",
    },
    docs={
        "revoke_all": "Revoke every active API key of the tenant at once.",
        "get": "One API key: its permissions, groups, owner, status, hint and last use.",
        "rotate": "The same key with a new secret (shown once). Anything using the old one"
        " stops working,\nat once or after `grace_seconds`.",
        "revoke": "Revoke a key: the verify endpoint answers REVOKED for it at once.",
        "delete": "Delete a key for good. This cannot be undone.",
    },
)
add_routes(router, KEY_ROUTES)
