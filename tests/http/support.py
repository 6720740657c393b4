"""Helpers shared by the HTTP tests: endpoint paths, token calls, polling, JWKS verification."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import httpx2
import jwt
from sqlalchemy.orm import Session
from starlette.testclient import TestClient
from starlette.types import Message

from gatepass import provisioning
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from tests.factories import ACTOR, Credential, Factory

T = TypeVar("T")
BASE = "http://testserver"
FORM = "application/x-www-form-urlencoded"


def issuer(tenant: str = "acme") -> str:
    return f"{BASE}/realms/{tenant}"


def token_path(tenant: str = "acme") -> str:
    return f"/realms/{tenant}/protocol/openid-connect/token"


def introspect_path(tenant: str = "acme") -> str:
    return f"/realms/{tenant}/protocol/openid-connect/token/introspect"


def revoke_path(tenant: str = "acme") -> str:
    return f"/realms/{tenant}/protocol/openid-connect/revoke"


def certs_path(tenant: str = "acme") -> str:
    return f"/realms/{tenant}/protocol/openid-connect/certs"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def post(
    client: TestClient,
    body: bytes,
    *,
    authorization: str | bytes | None = None,
    content_type: str | None = FORM,
    tenant: str = "acme",
) -> httpx2.Response:
    headers: list[tuple[bytes, bytes]] = []
    if authorization is not None:
        raw = authorization if isinstance(authorization, bytes) else authorization.encode()
        headers.append((b"authorization", raw))
    if content_type is not None:
        headers.append((b"content-type", content_type.encode()))
    return client.post(token_path(tenant), content=body, headers=headers)


def assert_oauth_error(response: httpx2.Response, status: int, error: str) -> None:
    """An RFC 6749 §5.2 error: the status, a JSON body of error and description, no-store."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert isinstance(body["error_description"], str)
    assert body["error_description"]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def request_token(
    client: TestClient, cred: Credential, *, tenant: str | None = None, **form: str
) -> httpx2.Response:
    data = {"grant_type": "client_credentials", **form}
    return client.post(
        token_path(tenant or cred.tenant), data=data, headers={"Authorization": cred.basic}
    )


def request_token_by_post(client: TestClient, cred: Credential, **form: str) -> httpx2.Response:
    """The same request with client_secret_post: id and secret in the form body."""
    data = {
        "grant_type": "client_credentials",
        "client_id": cred.client_id,
        "client_secret": cred.secret,
        **form,
    }
    return client.post(token_path(cred.tenant), data=data)


def issue_token(client: TestClient, cred: Credential, **form: str) -> str:
    response = request_token(client, cred, **form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def gatepass_token(client: TestClient, cred: Credential, **form: str) -> str:
    """A token for Gatepass's own audience (the issuer), as the management API and the verify
    endpoint take."""
    return issue_token(client, cred, resource=issuer(cred.tenant), **form)


def introspect(
    client: TestClient, caller: Credential, token: str, *, tenant: str | None = None
) -> httpx2.Response:
    return client.post(
        introspect_path(tenant or caller.tenant),
        data={"token": token},
        headers={"Authorization": caller.basic},
    )


def raw_asgi_post(
    client: TestClient, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, dict[bytes, bytes], bytes]:
    """POST straight to the running ASGI app, with header bytes exactly as given."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    messages: list[Message] = []
    requests: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return requests.pop(0) if requests else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    async def run() -> None:
        await client.app(scope, receive, send)

    assert client.portal is not None, "use the client fixture (a started TestClient)"
    client.portal.call(run)
    start = next(m for m in messages if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


def poll(fetch: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 3.0) -> T:
    """Call ``fetch`` until ``done`` holds or the deadline passes; return the last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result) or time.monotonic() >= deadline:
            return result
        time.sleep(0.02)


def status_is(status: int) -> Callable[[httpx2.Response], bool]:
    return lambda response: response.status_code == status


def inactive(response: httpx2.Response) -> bool:
    return response.status_code == 200 and response.json() == {"active": False}


def jwks_key(client: TestClient, tenant: str, token: str) -> jwt.PyJWK:
    """The published JWK that the token's ``kid`` names (fails if it is not published)."""
    kid = jwt.get_unverified_header(token)["kid"]
    response = client.get(certs_path(tenant))
    assert response.status_code == 200, response.text
    keys = [k for k in response.json()["keys"] if k["kid"] == kid]
    assert len(keys) == 1, f"kid {kid} is published {len(keys)} times"
    return jwt.PyJWK(keys[0])


def verify_with_jwks(
    client: TestClient, tenant: str, token: str, *, audience: str | None = None
) -> dict[str, Any]:
    """Verify the token as a resource server would: with the published JWKS and PyJWT only."""
    key = jwks_key(client, tenant, token)
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[key.algorithm_name],
        audience=audience or f"api://{tenant}",
        issuer=issuer(tenant),
        options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
    )
    return claims


@contextmanager
def tenant_session(factory: Factory, slug: str) -> Iterator[tuple[Session, Tenant]]:
    """A committed transaction and the tenant's model, for service-level changes."""
    with factory.db.transaction() as session:
        yield session, tenants.get_tenant(session, slug)


def revoke(factory: Factory, cred: Credential) -> None:
    with tenant_session(factory, cred.tenant) as (session, tenant):
        lifecycle.revoke(session, tenant, CLIENT, cred.client_id, actor=ACTOR)


def delete(factory: Factory, cred: Credential) -> None:
    with tenant_session(factory, cred.tenant) as (session, tenant):
        lifecycle.delete(session, tenant, CLIENT, cred.client_id, actor=ACTOR)


def rotate(factory: Factory, cred: Credential, grace: timedelta | None) -> Credential:
    with tenant_session(factory, cred.tenant) as (session, tenant):
        _, secret = lifecycle.rotate(
            session, tenant, CLIENT, cred.client_id, grace=grace, actor=ACTOR, hasher=factory.hasher
        )
        return Credential(cred.tenant, cred.client_id, secret.reveal())


def drain_changes(factory: Factory, client: TestClient, tenant: str) -> None:
    """Wait until the app's cache has applied every change published so far.

    Changes are applied in order, so once a revocation made now is visible, so is everything
    before it. Tests use this before changing something whose propagation they check.
    """
    probe = factory.client(tenant, scopes=(), name="cache probe")
    assert request_token(client, probe).status_code == 200
    revoke(factory, probe)
    assert poll(lambda: request_token(client, probe), status_is(401)).status_code == 401


def update_tenant(factory: Factory, slug: str, changes: tenants.TenantSettings) -> None:
    with tenant_session(factory, slug) as (session, tenant):
        provisioning.update_settings(session, tenant, changes, actor=ACTOR, cipher=factory.cipher)
