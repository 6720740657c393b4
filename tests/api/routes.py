"""Every management-API route as one table, and dumps of what one tenant has stored.

The table is the reference for the role and isolation matrices: each row names the HTTP method,
the path template exactly as the OpenAPI document spells it, the capability the route needs and
a body that the route accepts, and the status it answers when an admin runs the rows one after
the other in this order: reads first, then administration, then the credential lifecycle, and
"revoke all clients" last, because it also ends the calling client's own token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2
from sqlalchemy import Table, func, select
from starlette.testclient import TestClient

from gatepass.apikeys import service as apikeys
from gatepass.audit.models import AuditEvent
from gatepass.destinations import Rules
from gatepass.models import Base
from gatepass.tenants import service as tenants
from gatepass.tenants.models import Tenant
from gatepass.users.models import User
from gatepass.users.roles import Capability
from gatepass.webhooks import service as webhooks
from gatepass.webhooks.signing import SecretBox
from tests.api.support import PASSWORD, Caller
from tests.factories import ACTOR, Factory

READ = Capability.READ
MANAGE = Capability.MANAGE
ADMINISTER = Capability.ADMINISTER

BASE = "/api/v1/realms/{tenant}"
# The console user whom ``support.session_caller`` signs in as acme's admin.
SIGN_IN_EMAIL = "admin@acme.example.com"
# What the table's POST bodies create; the isolation tests give another tenant the same names.
NEW_CLIENT_ID = "fresh-client"
NEW_PERMISSION = "reports"
NEW_GROUP = "apac"
NEW_USER_EMAIL = "new.user@example.com"
NEW_WEBHOOK_URL = "https://hooks.example.com/new"


@dataclass(frozen=True)
class Targets:
    """The objects that routes with a path parameter act on."""

    client_id: str
    key_id: str
    user_id: int
    permission: str
    endpoint_id: str = "ep_none"
    message_id: str = "msg_none"


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # as in the OpenAPI document
    needs: Capability | None  # None: the console-session routes, which need no role
    body: dict[str, Any] | None = None
    ok: int = 200  # what an allowed caller gets when running the table in order

    def url(self, tenant: str, targets: Targets) -> str:
        return self.template.format(
            tenant=tenant,
            client_id=targets.client_id,
            key_id=targets.key_id,
            user_id=targets.user_id,
            name=targets.permission,
            endpoint_id=targets.endpoint_id,
            message_id=targets.message_id,
        )

    @property
    def names_object(self) -> bool:
        """Whether the path names one object (a client, key, user, permission or webhook)."""
        return "{" in self.template.removeprefix(BASE)

    @property
    def changes_data(self) -> bool:
        return self.method in {"POST", "PATCH", "DELETE"}

    def __str__(self) -> str:
        return f"{self.method} {self.template.removeprefix(BASE) or '/'}"

    def call(
        self, caller: Caller, http: TestClient, tenant: str, targets: Targets
    ) -> httpx2.Response:
        kwargs: dict[str, Any] = {} if self.body is None else {"json": self.body}
        return caller.request(http, self.method, self.url(tenant, targets), **kwargs)


def _route(
    method: str,
    path: str,
    needs: Capability | None,
    body: dict[str, Any] | None = None,
    ok: int | None = None,
) -> Route:
    if ok is None:
        ok = {"POST": 201 if body is not None else 200, "DELETE": 204}.get(method, 200)
    return Route(method, BASE + path, needs, body, ok)


SESSION_ROUTES = (
    _route("POST", "/session", None, {"email": SIGN_IN_EMAIL, "password": PASSWORD}),
    _route("GET", "/session", None),
    _route("DELETE", "/session", None),
)

ROUTES: tuple[Route, ...] = (
    *SESSION_ROUTES,
    # READ
    _route("GET", "", READ),
    _route("GET", "/permissions", READ),
    _route("GET", "/permissions/{name}", READ),
    _route("GET", "/groups", READ),
    _route("GET", "/audit-events", READ),
    _route("GET", "/clients", READ),
    _route("GET", "/clients/{client_id}", READ),
    _route("GET", "/api-keys", READ),
    _route("GET", "/api-keys/{key_id}", READ),
    _route("GET", "/dormant-credentials", READ),
    # ADMINISTER
    _route("PATCH", "", ADMINISTER, {"name": "Renamed Ltd"}),
    _route("POST", "/permissions", ADMINISTER, {"name": NEW_PERMISSION, "label": "Reports"}),
    _route("PATCH", "/permissions/{name}", ADMINISTER, {"label": "Relabelled"}),
    _route("POST", "/groups", ADMINISTER, {"name": NEW_GROUP}),
    _route("GET", "/users", ADMINISTER),
    _route(
        "POST",
        "/users",
        ADMINISTER,
        {"email": NEW_USER_EMAIL, "role": "viewer", "password": "a long enough password"},
    ),
    _route("GET", "/users/{user_id}", ADMINISTER),
    _route("PATCH", "/users/{user_id}", ADMINISTER, {"display_name": "Renamed User"}),
    _route("GET", "/webhooks", ADMINISTER),
    _route("GET", "/webhooks/{endpoint_id}", ADMINISTER),
    _route("GET", "/webhooks/{endpoint_id}/deliveries", ADMINISTER),
    _route("POST", "/webhooks", ADMINISTER, {"url": NEW_WEBHOOK_URL}),
    _route("PATCH", "/webhooks/{endpoint_id}", ADMINISTER, {"description": "edited"}),
    _route("POST", "/webhooks/{endpoint_id}/rotate-secret", ADMINISTER),
    _route("POST", "/webhooks/{endpoint_id}/test", ADMINISTER, ok=202),
    _route("POST", "/webhooks/{endpoint_id}/deliveries/{message_id}/redeliver", ADMINISTER, ok=202),
    _route("DELETE", "/webhooks/{endpoint_id}", ADMINISTER),
    # MANAGE
    _route(
        "POST",
        "/clients",
        MANAGE,
        {"name": "new integration", "client_id": NEW_CLIENT_ID, "scopes": ["nql"]},
    ),
    _route("POST", "/clients/{client_id}/rotate-secret", MANAGE, {"grace_seconds": 60}, ok=200),
    _route("PATCH", "/clients/{client_id}", MANAGE, {"description": "edited"}, ok=200),
    _route("POST", "/clients/{client_id}/retire-unused", MANAGE, {"idle_minutes": 5}, ok=200),
    _route("POST", "/clients/{client_id}/suspend", MANAGE),
    _route("POST", "/clients/{client_id}/resume", MANAGE),
    _route("POST", "/clients/{client_id}/revoke", MANAGE),
    _route("DELETE", "/clients/{client_id}", MANAGE),
    _route("POST", "/api-keys", MANAGE, {"name": "new key", "scopes": ["nql"]}),
    _route("POST", "/api-keys/{key_id}/regenerate", MANAGE, {"grace_seconds": 0}, ok=200),
    _route("PATCH", "/api-keys/{key_id}", MANAGE, {"description": "edited"}, ok=200),
    _route("POST", "/api-keys/{key_id}/retire-unused", MANAGE, {"idle_minutes": 5}, ok=200),
    _route("POST", "/api-keys/{key_id}/suspend", MANAGE),
    _route("POST", "/api-keys/{key_id}/resume", MANAGE),
    _route("POST", "/api-keys/{key_id}/revoke", MANAGE),
    _route("DELETE", "/api-keys/{key_id}", MANAGE),
    _route("POST", "/api-keys/revoke-all", MANAGE),
    _route("POST", "/clients/revoke-all", MANAGE),
)

ROLE_ROUTES = tuple(r for r in ROUTES if r.needs is not None)
# Routes of no tenant and no role: a report of leaked secrets is signed by its reporter
# (GitHub's key, or the operator's shared secret); tests/leaks covers who may call them.
SIGNED_ROUTES = frozenset({("POST", "/api/v1/leaks/github"), ("POST", "/api/v1/leaks/report")})


def of_class(capability: Capability) -> tuple[Route, ...]:
    return tuple(r for r in ROUTES if r.needs is capability)


def openapi_operations(http: TestClient) -> set[tuple[str, str]]:
    """(method, path) of every operation under /api/v1 that the app's OpenAPI document lists."""
    spec = http.get("/openapi.json").json()
    return {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
    }


# --- stored data --------------------------------------------------------------------------------

# Usage telemetry: written behind the scenes by token use and session activity.
VOLATILE = frozenset({"last_used_at", "last_seen_at"})

Dump = dict[str, list[tuple[Any, ...]]]


def tenant_id(factory: Factory, slug: str) -> int:
    with factory.db.read() as session:
        found = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    assert found is not None, slug
    return found


def snapshot(factory: Factory, slug: str) -> Dump:
    """Every stored row that belongs to the tenant, table by table (audit events aside)."""
    tid = tenant_id(factory, slug)
    dump: Dump = {}
    with factory.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == AuditEvent.__tablename__ or not _of_tenants(table):
                continue
            query = select(*(c for c in table.columns if c.name not in VOLATILE))
            if table.name == Tenant.__tablename__:
                query = query.where(table.c.id == tid)
            elif "tenant_id" in table.c:
                query = query.where(table.c.tenant_id == tid)
            else:  # a child of a tenant's row: secrets, links between credentials and grants
                fk = next(fk for fk in table.foreign_keys if "tenant_id" in fk.column.table.c)
                parent = fk.column.table
                query = query.join_from(table, parent, fk.parent == fk.column).where(
                    parent.c.tenant_id == tid
                )
            rows = connection.execute(query).all()
            dump[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return dump


def _of_tenants(table: Table) -> bool:
    """Whether ``table`` holds tenants' data (not, e.g., the background jobs' leases)."""
    return table.name == Tenant.__tablename__ or "tenant_id" in table.c or bool(table.foreign_keys)


@dataclass(frozen=True)
class Event:
    tenant_id: int | None
    actor: str
    action: str
    details: dict[str, Any]
    count: int = 1  # how many failures a failure's row counts


def audit_mark(factory: Factory) -> int:
    """The id of the newest audit event so far (0 if none)."""
    with factory.db.read() as session:
        return int(session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0)


def audit_after(factory: Factory, mark: int) -> list[Event]:
    """The audit events written after ``mark``, oldest first."""
    with factory.db.read() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.id > mark).order_by(AuditEvent.id)
        )
        return [Event(r.tenant_id, r.actor, r.action, dict(r.details), r.count) for r in rows]


def audit_ids(factory: Factory, slug: str) -> set[int]:
    tid = tenant_id(factory, slug)
    with factory.db.read() as session:
        return set(session.scalars(select(AuditEvent.id).where(AuditEvent.tenant_id == tid)))


# --- making objects -----------------------------------------------------------------------------


def make_key(factory: Factory, slug: str, name: str, scopes: tuple[str, ...] = ("nql",)) -> str:
    """A service API key of the tenant; returns its id."""
    with factory.db.transaction() as session:
        tenant = tenants.get_tenant(session, slug)
        key, _ = apikeys.create_key(
            session,
            tenant,
            apikeys.NewApiKey(name=name, scopes=list(scopes)),
            actor=ACTOR,
            hasher=factory.hasher,
        )
        return key.key_id


def make_webhook(factory: Factory, slug: str) -> tuple[str, str]:
    """A webhook endpoint of the tenant with one message queued; returns both their ids."""
    with factory.db.transaction() as session:
        tenant = tenants.get_tenant(session, slug)
        box = SecretBox.from_master_key(factory.settings.master_key())
        spec = webhooks.EndpointSpec(url=f"https://hooks.example.com/{slug}")
        endpoint, _ = webhooks.create_endpoint(
            session, tenant, spec, actor=ACTOR, rules=Rules(), box=box
        )
        return endpoint.endpoint_id, webhooks.send_test(
            session, tenant, endpoint.endpoint_id, actor=ACTOR
        )


def user_id(factory: Factory, slug: str, email: str) -> int:
    tid = tenant_id(factory, slug)
    with factory.db.read() as session:
        found = session.scalar(select(User.id).where(User.tenant_id == tid, User.email == email))
    assert found is not None, email
    return found
