"""Tenants are sealed from each other in the management API.

Two tenants, ``acme`` and ``globex``, hold objects with the same names: the same client ID, key
names, user emails, group and permission names. Each route of the table is called across the
boundary by acme's admin (token and console session); it must answer 401, 403 or 404 and leave
both tenants' stored rows as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute
from starlette.testclient import TestClient

from gatepass.apikeys.models import ApiKey
from gatepass.audit.models import AuditEvent
from gatepass.clients.models import OAuthClient
from gatepass.groups.models import ClientGroup
from gatepass.permissions.models import Permission
from gatepass.users.models import User
from tests.api.routes import (
    NEW_CLIENT_ID,
    NEW_GROUP,
    NEW_PERMISSION,
    NEW_USER_EMAIL,
    ROLE_ROUTES,
    ROUTES,
    SIGN_IN_EMAIL,
    Dump,
    Targets,
    audit_after,
    audit_mark,
    make_key,
    make_webhook,
    snapshot,
    tenant_id,
    user_id,
)
from tests.api.support import PASSWORD, Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import CATALOG, Factory

WAYS = ("token", "session")
# What a refused or failed attempt may leave behind: a record of the attempt, nothing else.
ATTEMPT_RECORDS = {"api.auth_failed", "api.access_denied", "session.sign_in_failed"}


@dataclass(frozen=True)
class World:
    callers: dict[tuple[str, str], Caller]  # (tenant, way) -> that tenant's admin
    acme: Targets  # acme's objects, named like globex's
    globex: Targets  # globex's objects, named like acme's
    globex_only: Targets  # objects that exist in globex alone

    def caller(self, tenant: str, way: str) -> Caller:
        return self.callers[tenant, way]


@pytest.fixture
def world(client: TestClient, factory: Factory) -> World:
    factory.tenant("acme", catalog=(*CATALOG, "acme-reports"), groups_=("emea", "acme-group"))
    # Globex already holds what the table's POST bodies create in acme.
    factory.tenant(
        "globex",
        catalog=(*CATALOG, NEW_PERMISSION, "globex-reports"),
        groups_=("emea", NEW_GROUP, "globex-group"),
    )
    keys: dict[str, str] = {}
    for slug in ("acme", "globex"):
        factory.client(slug, client_id="shared-id", scopes=("nql",), groups_=("emea",))
        factory.client(slug, client_id=f"{slug}-only", name=f"{slug} only")
        keys[slug] = make_key(factory, slug, "ci key")
        factory.user(slug, email="ada@example.com", role="admin", password=f"{slug} password!")
    factory.client("globex", client_id=NEW_CLIENT_ID, name="new integration")
    factory.user("globex", email=NEW_USER_EMAIL, role="viewer")
    factory.user("globex", email="only@globex.example.com", role="viewer")
    callers = {
        (slug, way): (
            bearer_caller(client, factory, slug)
            if way == "token"
            else session_caller(client, factory, slug)
        )
        for slug in ("acme", "globex")
        for way in WAYS
    }
    # Each tenant's audit log also holds events written through the API, with the same target.
    for slug in ("acme", "globex"):
        for way in WAYS:
            group = {"name": f"team-{way}"}
            response = callers[slug, way].request(client, "POST", api(slug, "/groups"), json=group)
            assert response.status_code == 201, response.text
    hooks = {slug: make_webhook(factory, slug) for slug in ("acme", "globex")}
    return World(
        callers=callers,
        acme=Targets(
            "shared-id",
            keys["acme"],
            user_id(factory, "acme", "ada@example.com"),
            "nql",
            *hooks["acme"],
        ),
        globex=Targets(
            "shared-id",
            keys["globex"],
            user_id(factory, "globex", "ada@example.com"),
            "nql",
            *hooks["globex"],
        ),
        globex_only=Targets(
            "globex-only",
            keys["globex"],
            user_id(factory, "globex", "only@globex.example.com"),
            "globex-reports",
            *hooks["globex"],
        ),
    )


def both(factory: Factory) -> tuple[Dump, Dump]:
    return snapshot(factory, "acme"), snapshot(factory, "globex")


def owned(factory: Factory, slug: str, column: InstrumentedAttribute[Any]) -> set[Any]:
    """The values of ``column`` over the rows of one tenant."""
    tid = tenant_id(factory, slug)
    with factory.db.read() as session:
        return set(session.scalars(select(column).where(column.class_.tenant_id == tid)))


def collect(http: TestClient, caller: Caller, url: str, field: str, **query: str) -> list[Any]:
    """``field`` of every item of a listing, following cursors through small pages."""
    found: list[Any] = []
    params: dict[str, Any] = {**query, "limit": 3}
    for _ in range(200):
        response = caller.request(http, "GET", url, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(item[field] for item in page["items"])
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]
    raise AssertionError(f"{url}: the listing does not end")


@pytest.mark.parametrize("way", WAYS)
def test_acme_admin_reaches_nothing_on_globex_path(
    client: TestClient, factory: Factory, world: World, way: str
) -> None:
    caller = world.caller("acme", way)
    before = both(factory)
    mark = audit_mark(factory)
    for route in ROUTES:
        response = route.call(caller, client, "globex", world.globex)
        assert response.status_code in {401, 403, 404}, f"{route}: {response.text}"
        assert_problem(response, response.status_code)
    assert both(factory) == before
    assert {e.action for e in audit_after(factory, mark)} <= ATTEMPT_RECORDS


@pytest.mark.parametrize("way", WAYS)
def test_acme_admin_cannot_name_globex_objects_on_its_own_path(
    client: TestClient, factory: Factory, world: World, way: str
) -> None:
    caller = world.caller("acme", way)
    naming = [r for r in ROLE_ROUTES if r.names_object]
    assert naming
    before = both(factory)
    mark = audit_mark(factory)
    for route in naming:
        response = route.call(caller, client, "acme", world.globex_only)
        assert response.status_code == 404, f"{route}: {response.text}"
        assert_problem(response, 404)
    assert both(factory) == before
    assert audit_after(factory, mark) == []


def test_acting_on_shared_names_changes_only_acme(
    client: TestClient, factory: Factory, world: World
) -> None:
    caller = world.caller("acme", "token")
    acme_before, globex_before = both(factory)
    for route in ROLE_ROUTES:
        response = route.call(caller, client, "acme", world.acme)
        assert response.status_code == route.ok, f"{route}: {response.text}"
    acme_after, globex_after = both(factory)
    assert globex_after == globex_before
    assert acme_after != acme_before
    # Globex's namesakes are untouched and its own admin still gets in.
    globex = world.caller("globex", "token")
    response = globex.request(client, "GET", api("globex", "/clients/shared-id"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert response.json()["secrets"][0]["active"] is True
    response = globex.request(client, "GET", api("globex", f"/users/{world.globex.user_id}"))
    assert response.json()["display_name"] == ""
    response = globex.request(client, "GET", api("globex"))
    assert response.json()["name"] == "Globex"


def test_mixed_credentials_of_two_tenants_do_not_combine(
    client: TestClient, factory: Factory, world: World
) -> None:
    acme_token, acme_session = world.caller("acme", "token"), world.caller("acme", "session")
    globex_token, globex_session = (
        world.caller("globex", "token"),
        world.caller("globex", "session"),
    )

    def mix(token: Caller | None, session: Caller, csrf: Caller) -> Caller:
        headers = {**(token.headers if token else {}), "x-csrf-token": csrf.headers["x-csrf-token"]}
        return Caller("mixed", headers, session.cookies)

    body = {"name": "mixed", "client_id": "mixed-client", "scopes": ["nql"]}
    attempts = [
        # (caller, tenant of the path, expected status, expected code)
        (mix(globex_token, acme_session, acme_session), "acme", 401, "unauthenticated"),
        (mix(acme_token, globex_session, globex_session), "globex", 401, "unauthenticated"),
        (mix(None, acme_session, globex_session), "acme", 403, "csrf_failed"),
        (mix(None, globex_session, acme_session), "globex", 403, "csrf_failed"),
        (mix(None, acme_session, globex_session), "globex", 401, "unauthenticated"),
        (mix(None, globex_session, acme_session), "acme", 401, "unauthenticated"),
    ]
    before = both(factory)
    for caller, slug, status, code in attempts:
        response = caller.request(client, "POST", api(slug, "/clients"), json=body)
        assert_problem(response, status, code)
        if status == 401:
            assert caller.request(client, "GET", api(slug, "/clients")).status_code == 401
    assert both(factory) == before

    # A valid token decides who calls; another tenant's cookie beside it changes nothing.
    caller = mix(globex_token, acme_session, acme_session)
    listed = collect(client, caller, api("globex", "/clients"), "client_id")
    assert set(listed) == owned(factory, "globex", OAuthClient.client_id)
    assert "acme-only" not in listed

    # Signing in at globex with acme's credentials fails, even where globex has the same email.
    for email, password in [(SIGN_IN_EMAIL, PASSWORD), ("ada@example.com", "acme password!")]:
        response = client.post(
            api("globex", "/session"), json={"email": email, "password": password}
        )
        assert_problem(response, 401, "sign_in_failed")
        assert "gatepass_session" not in response.cookies
    assert both(factory) == before


LISTINGS: list[tuple[str, str, InstrumentedAttribute[Any]]] = [
    ("/clients", "client_id", OAuthClient.client_id),
    ("/api-keys", "id", ApiKey.key_id),
    ("/users", "id", User.id),
    ("/groups", "name", ClientGroup.name),
    ("/permissions", "name", Permission.name),
    ("/audit-events", "id", AuditEvent.id),
]


def test_listings_show_only_the_tenants_own_objects(
    client: TestClient, factory: Factory, world: World
) -> None:
    for (slug, way), caller in world.callers.items():
        other = "globex" if slug == "acme" else "acme"
        for path, field, column in LISTINGS:
            listed = collect(client, caller, api(slug, path), field)
            assert len(listed) == len(set(listed)), (slug, way, path)
            assert set(listed) == owned(factory, slug, column), (slug, way, path)
        # Names the other tenant alone has never show up.
        assert f"{other}-only" not in collect(client, caller, api(slug, "/clients"), "client_id")
        assert f"{other}-reports" not in collect(client, caller, api(slug, "/permissions"), "name")
        assert f"{other}-group" not in collect(client, caller, api(slug, "/groups"), "name")


def test_audit_log_of_each_tenant_is_its_own(
    client: TestClient, factory: Factory, world: World
) -> None:
    # Leave a trace in globex's log from acme's side: a failed attempt with acme's token.
    acme = world.caller("acme", "token")
    assert acme.request(client, "GET", api("globex", "/clients")).status_code == 401
    seen: dict[str, set[int]] = {}
    for slug in ("acme", "globex"):
        caller = world.caller(slug, "session")
        seen[slug] = set(collect(client, caller, api(slug, "/audit-events"), "id"))
        assert seen[slug] == owned(factory, slug, AuditEvent.id)
        # Filtering on a target both tenants have still shows only the tenant's own events.
        events = api(slug, "/audit-events")
        ids = set(collect(client, caller, events, "id", target="shared-id"))
        assert ids
        assert ids <= seen[slug]
        failed = collect(client, caller, events, "id", action="api.auth_failed")
        assert (len(failed) == 1) == (slug == "globex")
    assert not seen["acme"] & seen["globex"]
