"""OAuth clients and API keys: the credential lifecycle over HTTP.

Each route calls the same service function as the CLI and the console; the service writes the
audit event in the route's transaction and publishes the change to every process's cache.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy import ColumnElement

from gatepass.api import schemas
from gatepass.api.common import Filter, services
from gatepass.api.lifecycle_routes import KindRoutes, add_routes
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.apikeys.models import ApiKey
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.clients.models import OAuthClient
from gatepass.destinations import Rules
from gatepass.settings import Settings
from gatepass.tenants.models import Tenant

router = APIRouter()
KEEP_DOC = (
    "\n\nWith no body, or `keep_management` false, every one is revoked (of clients, the"
    ' calling client too). With `{"keep_management": true}` those holding `api_keys:verify` or a'
    " management permission are kept. The answer counts those revoked; each has a `revoke`"
    " event in its own audit history, and the tenant one `revoke_all` event with the count."
)

Status = Annotated[Literal["active", "expired", "suspended", "revoked"] | None, Query()]
KeyStatus = Annotated[
    Literal["active", "expired", "suspended", "revoked", "disabled"] | None, Query()
]
KeyKind = Annotated[Literal["service", "personal"] | None, Query()]


def _token_endpoint(request: Request, slug: str) -> str:
    settings: Settings = request.app.state.services.settings
    return f"{settings.public_url}/realms/{slug}/protocol/openid-connect/token"


# --- OAuth clients ---------------------------------------------------------------------------


def client_status(status: Status = None) -> str | None:
    return status


def _issued_client(
    request: Request, tenant: Tenant, client: OAuthClient, secret: str | None
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
    body=schemas.ClientIn,
    create=clients.create_client,
    spec_of=lambda body: clients.NewClient(
        **{**dict(body), "federation": schemas.dumped(body.federation)}
    ),
    patch=schemas.ClientPatch,
    edit=clients.edit_client,
    changes_of=lambda body: clients.ClientChanges(
        **body.shared(),
        token_lifetime=body.token_lifetime,
        clear_token_lifetime=body.cleared("token_lifetime"),
        jwks=body.jwks,
        jwks_uri=body.jwks_uri,
        federation=schemas.dumped(body.federation),
    ),
    settings_of=lambda request: {"key_rules": Rules.for_keys(services(request).settings)},
    status=client_status,
    own_filters=lambda: (),
    ref="client_id",
    ref_rule=Path(alias="client_id", max_length=100, pattern=r"^[A-Za-z0-9._~-]+$"),
    tag="OAuth clients",
    out=schemas.ClientOut,
    issued=schemas.ClientIssued,
    issue=_issued_client,
    rotate_path="rotate-secret",
    names=("client", "clients", "rotate_client_secret"),
    docs={
        "list": "OAuth client credentials, newest first.",
        "create": "Create a client. The answer holds its secret: shown this once, never again."
        " A client created with `jwks` (its public keys) or `jwks_uri` (where it publishes them)"
        " has no secret: it authenticates with `private_key_jwt` (RFC 7523). So does one given"
        " `federation` rules: tokens of the tenant's trusted issuers (a GitHub Actions job, a"
        " Kubernetes service account) sent as `client_assertion` with `client_id`.",
        "revoke_all": "Revoke every active or suspended client of the tenant at once"
        ' (seed 004\'s "Revoke all").' + KEEP_DOC,
        "get": "One client: its permissions, groups, status, and each secret version's hint and"
        " last use.",
        "edit": "Edit a client: fields left out stay as they are. A permission it gains must be"
        " yours to grant.\nA client with keys may be given new `jwks` or a new `jwks_uri`."
        "\nThe change reaches every process like a revocation.",
        "rotate": "Issue a new secret (shown once); older secrets stop now or after"
        " `grace_seconds`.",
        "retire": "End now the older secrets still in a grace period that have not been used for"
        " `idle_minutes`;\nthe newest secret is never ended.",
        "suspend": "Suspend a client until it is resumed: the token endpoint refuses it"
        " (`invalid_client`) and\nits tokens stop being accepted by introspection, at once.",
        "resume": "Resume a suspended client: its secrets and unexpired tokens work again.",
        "revoke": "Revoke a client: its tokens stop being accepted by introspection at once.",
        "delete": "Delete a client for good. This cannot be undone.",
    },
)
add_routes(router, CLIENT_ROUTES)


# --- API keys --------------------------------------------------------------------------------


def key_status(status: KeyStatus = None) -> str | None:
    return status


def key_filters(owner: Filter = None, kind: KeyKind = None) -> tuple[ColumnElement[bool], ...]:
    return apikeys.owner_filters(owner=owner, personal=None if kind is None else kind == "personal")


def _new_key(body: schemas.ApiKeyIn) -> apikeys.NewApiKey:
    rate = body.rate_limit
    return apikeys.NewApiKey(
        **body.model_dump(
            include={"name", "description", "scopes", "groups", "expires_at", "allowed_ips"}
        ),
        owner_email=body.owner,
        rate_limit=apikeys.RateLimit(rate.limit, rate.period) if rate else None,
    )


def _key_changes(body: schemas.ApiKeyPatch) -> apikeys.ApiKeyChanges:
    rate = body.rate_limit
    return apikeys.ApiKeyChanges(
        **body.shared(),
        rate_limit=apikeys.RateLimit(rate.limit, rate.period) if rate else None,
        clear_rate_limit=body.cleared("rate_limit"),
    )


def _issued_key(request: Request, tenant: Tenant, key: ApiKey, secret: str) -> schemas.ApiKeyIssued:
    return schemas.ApiKeyIssued(**schemas.ApiKeyOut.of(key).model_dump(), key=secret)


KEY_ROUTES = KindRoutes(
    kind=API_KEY,
    path="/api-keys",
    body=schemas.ApiKeyIn,
    create=apikeys.create_key,
    spec_of=_new_key,
    patch=schemas.ApiKeyPatch,
    edit=apikeys.edit_key,
    changes_of=_key_changes,
    status=key_status,
    own_filters=key_filters,
    ref="key_id",
    ref_rule=Path(alias="key_id", max_length=40, pattern=r"^[A-Za-z0-9_-]+$"),
    tag="API keys",
    out=schemas.ApiKeyOut,
    issued=schemas.ApiKeyIssued,
    issue=_issued_key,
    rotate_path="regenerate",
    names=("key", "keys", "regenerate_key"),
    docs={
        "list": "API keys, newest first.",
        "create": "Create an API key. The answer holds the key: shown this once, never again.",
        "revoke_all": "Revoke every active or suspended API key of the tenant at once." + KEEP_DOC,
        "get": "One API key: its permissions, groups, owner, status, hint and last use.",
        "edit": "Edit a key: fields left out stay as they are. A permission it gains must be yours"
        " to grant\n(and, for a personal key, its owner's role's to hold).",
        "rotate": "The same key with a new secret (shown once). Anything using the old one"
        " stops working,\nat once or after `grace_seconds`.",
        "retire": "End now the older versions of the key still in a grace period that have not"
        " been used for\n`idle_minutes`; the newest is never ended.",
        "suspend": "Suspend a key until it is resumed: the verify endpoint answers SUSPENDED for it"
        " at once.",
        "resume": "Resume a suspended key: the verify endpoint answers VALID for it again.",
        "revoke": "Revoke a key: the verify endpoint answers REVOKED for it at once.",
        "delete": "Delete a key for good. This cannot be undone.",
    },
)
add_routes(router, KEY_ROUTES)
