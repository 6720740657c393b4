"""Who may see a new secret: only a caller whose role could grant everything the credential holds.

Creating a credential, rotating a client's secret, regenerating an API key and replaying a stored
answer under an ``Idempotency-Key`` each show a secret. Each is a matrix here, by the caller's
role (and how it signs in), the permissions the credential holds, and its kind. A refusal
is a 403 problem that names the permission, never a secret, and changes nothing stored: the same
secret versions, and no audit event of a credential made or a secret issued.

Personal API keys add one rule: only their owner (or the operator at the CLI) makes their secret
appear, by creating or regenerating them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from gatepass import provisioning
from gatepass.api.common import SECRET_FIELDS
from gatepass.api.schemas import ApiKeyIssued, ApiKeyOut, ClientIssued, ClientOut
from gatepass.apikeys import service as apikeys
from gatepass.apikeys.kind import API_KEY
from gatepass.audit.service import Actor
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.errors import ForbiddenError
from gatepass.tenants import service as tenants
from tests.api.routes import audit_after, audit_mark, snapshot
from tests.api.support import Caller, api, assert_problem, bearer_caller, session_caller
from tests.factories import ACTOR, Factory
from tests.http.support import tenant_session
from tests.keypairs import key_pair

ROLES = ("admin", "credentials_manager", "viewer")
WAYS = ("token", "session")
KINDS = ("client", "api_key")
# The permissions a credential holds: a product permission alone, with the manager's own
# permission, and with the administrator's.
HELD = {
    "product": ("nql",),
    "manage": ("nql", "credentials:manage"),
    "admin": ("nql", "tenant:admin"),
}
# What each role may be shown (PRODUCT.md: nobody hands out more than they hold), written out
# rather than read from the code.
MAY_SEE = {
    "admin": {"product", "manage", "admin"},
    "credentials_manager": {"product", "manage"},
    "viewer": set(),
}
SECRET_OF = {"client": "client_secret", "api_key": "key"}
COLLECTION = {"client": "/clients", "api_key": "/api-keys"}
NEW_SECRET = {"client": "/rotate-secret", "api_key": "/regenerate"}
# Audit actions that mean a secret was issued.
ISSUING = {"client.create", "client.rotate_secret", "apikey.create", "apikey.regenerate"}
DEV = "dev@acme.example.com"


@dataclass(frozen=True)
class Case:
    """One cell of a matrix: a kind of credential, who acts, and what the credential holds."""

    kind: str
    role: str
    way: str
    held: str


def cells(kinds: tuple[str, ...], roles: tuple[str, ...], ways: tuple[str, ...]) -> list[Any]:
    return [
        pytest.param(Case(*cell), id="-".join(cell)) for cell in product(kinds, roles, ways, HELD)
    ]


def caller_of(http: TestClient, factory: Factory, role: str, way: str) -> Caller:
    if way == "token":
        return bearer_caller(http, factory, "acme", role)
    return session_caller(http, factory, "acme", role)


def email_of(role: str) -> str:
    """The email ``session_caller`` gives a console user of ``role``."""
    return f"{role.replace('_', '-')}@acme.example.com"


def make_target(
    factory: Factory,
    kind: str,
    scopes: tuple[str, ...],
    owner: str | None = None,
    *,
    tenant: str = "acme",
) -> str:
    """A credential made by the operator; returns its client ID or key ID."""
    if kind == "client":
        return factory.client(
            tenant, scopes=scopes, client_id="target-client", name="target"
        ).client_id
    spec = apikeys.NewApiKey(name="target key", scopes=list(scopes), owner_email=owner)
    with tenant_session(factory, tenant) as (session, made_in):
        key, _ = apikeys.create_key(session, made_in, spec, actor=ACTOR, hasher=factory.hasher)
        return key.key_id


def versions(factory: Factory, kind: str, ident: str) -> list[tuple[Any, ...]]:
    """Every stored version of the credential's secret: hash, hint, created, expires."""
    with factory.db.read() as session:
        tenant = tenants.get_tenant(session, "acme")
        if kind == "client":
            found = lifecycle.get(session, tenant, CLIENT, ident).secrets
            return [(s.digest, s.hint, s.created_at, s.expires_at) for s in found]
        held = lifecycle.get(session, tenant, API_KEY, ident).secrets
        return [(s.digest, s.hint, s.created_at, s.expires_at) for s in held]


def issuing_events(factory: Factory, mark: int) -> list[str]:
    return [e.action for e in audit_after(factory, mark) if e.action in ISSUING]


def post(
    http: TestClient, caller: Caller, path: str, body: dict[str, Any], key: str | None = None
) -> httpx2.Response:
    headers = {} if key is None else {"idempotency-key": key}
    return caller.request(http, "POST", api("acme", path), json=body, headers=headers)


def assert_refused(response: httpx2.Response, role: str, held: str) -> None:
    """A 403 problem that says why (naming the permission) and shows no secret."""
    body = assert_problem(response, 403, "forbidden")
    if role != "viewer":  # a viewer is refused the whole route, whatever the credential holds
        assert HELD[held][-1] in body["detail"], body
    assert not SECRET_FIELDS & body.keys()
    assert "gpcs_" not in response.text
    assert "gpk_" not in response.text


def test_secret_fields_are_what_the_issued_answers_add() -> None:
    added = (set(ClientIssued.model_fields) - set(ClientOut.model_fields)) | (
        set(ApiKeyIssued.model_fields) - set(ApiKeyOut.model_fields)
    )
    assert added - {"token_endpoint"} == SECRET_FIELDS


# --- create ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cells(KINDS, ROLES, WAYS))
def test_create(client: TestClient, factory: Factory, case: Case) -> None:
    kind, role, way, held = case.kind, case.role, case.way, case.held
    factory.tenant()
    caller = caller_of(client, factory, role, way)
    before, mark = snapshot(factory, "acme"), audit_mark(factory)

    response = post(client, caller, COLLECTION[kind], {"name": "new", "scopes": list(HELD[held])})

    if held in MAY_SEE[role]:
        assert response.status_code == 201, response.text
        assert response.json()[SECRET_OF[kind]]
        assert response.json()["scopes"] == sorted(HELD[held])
        assert issuing_events(factory, mark) == [
            f"{'client' if kind == 'client' else 'apikey'}.create"
        ]
        return
    assert_refused(response, role, held)
    assert snapshot(factory, "acme") == before
    assert issuing_events(factory, mark) == []


# --- rotate-secret / regenerate --------------------------------------------------------------


@pytest.mark.parametrize("case", cells(KINDS, ROLES, WAYS))
def test_new_secret(client: TestClient, factory: Factory, case: Case) -> None:
    kind, role, way, held = case.kind, case.role, case.way, case.held
    factory.tenant()
    caller = caller_of(client, factory, role, way)
    target = make_target(factory, kind, HELD[held])
    before, mark = snapshot(factory, "acme"), audit_mark(factory)
    held_versions = versions(factory, kind, target)

    # With a grace period the owner's integration keeps working and nobody notices a new secret.
    path = f"{COLLECTION[kind]}/{target}{NEW_SECRET[kind]}"
    response = post(client, caller, path, {"grace_seconds": 3600})

    if held in MAY_SEE[role]:
        assert response.status_code == 200, response.text
        assert response.json()[SECRET_OF[kind]]
        assert len(versions(factory, kind, target)) == len(held_versions) + 1
        assert len(issuing_events(factory, mark)) == 1
        return
    assert_refused(response, role, held)
    assert versions(factory, kind, target) == held_versions
    assert snapshot(factory, "acme") == before
    assert issuing_events(factory, mark) == []


# --- an idempotent replay after the caller was demoted ---------------------------------------


def demote(factory: Factory, email: str, role: str) -> None:
    with tenant_session(factory, "acme") as (session, tenant):
        provisioning.set_role(session, tenant, email, role=role, actor=ACTOR)


@dataclass(frozen=True)
class Replay:
    """An admin's session makes a secret appear (``action``), is demoted ``to``, then retries."""

    kind: str  # client, api_key or personal_key (the admin's own)
    action: str  # create or new secret
    to: str
    held: str


REPLAYS = [
    pytest.param(Replay(*cell), id="-".join(cell))
    for cell in product(
        ("client", "api_key", "personal_key"),
        ("create", "new secret"),
        ("credentials_manager", "viewer"),
        HELD,
    )
]


@pytest.mark.parametrize("case", REPLAYS)
def test_replay_after_a_demotion(client: TestClient, factory: Factory, case: Replay) -> None:
    kind, action, to, held = case.kind, case.action, case.to, case.held
    factory.tenant()
    caller = session_caller(client, factory, "acme", "admin")
    me = email_of("admin")
    shape = "client" if kind == "client" else "api_key"
    if action == "create":
        path = COLLECTION[shape]
        body: dict[str, Any] = {"name": "new", "scopes": list(HELD[held])}
        if kind == "personal_key":
            body["owner"] = me
    else:
        target = make_target(
            factory, shape, HELD[held], owner=me if kind == "personal_key" else None
        )
        path = f"{COLLECTION[shape]}/{target}{NEW_SECRET[shape]}"
        body = {"grace_seconds": 3600}
    first = post(client, caller, path, body, key="retry-me")
    assert first.status_code in (200, 201), first.text
    demote(factory, me, to)
    before, mark = snapshot(factory, "acme"), audit_mark(factory)

    again = post(client, caller, path, body, key="retry-me")

    assert snapshot(factory, "acme") == before
    assert issuing_events(factory, mark) == []
    if held in MAY_SEE[to]:
        assert again.status_code == first.status_code, again.text
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == first.json()
        return
    assert_refused(again, to, held)
    assert first.json()[SECRET_OF[shape]] not in again.text


def test_a_replay_to_a_caller_who_may_still_see_it_is_the_first_answer(
    client: TestClient, factory: Factory
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme", "admin")
    body = {"name": "root", "scopes": ["tenant:admin"]}
    first = post(client, admin, "/clients", body, key="once")
    again = post(client, admin, "/clients", body, key="once")
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


# --- personal keys: their owner makes their secret appear ------------------------------------


@dataclass(frozen=True)
class Owner:
    """Who acts on a personal key (role and way in), whose key it is, and whether they may."""

    role: str
    way: str
    whose: str  # "own" or "another user's"
    allowed: bool


def owner_cells(*rows: tuple[str, str, str, bool]) -> list[Any]:
    return [pytest.param(Owner(*row), id="-".join(map(str, row[:3]))) for row in rows]


# A token is nobody's own; a viewer holds no key.
CREATORS = owner_cells(
    ("admin", "token", "another user's", False),
    ("credentials_manager", "token", "another user's", False),
    ("admin", "session", "own", True),
    ("admin", "session", "another user's", False),
    ("credentials_manager", "session", "own", True),
    ("credentials_manager", "session", "another user's", False),
    ("viewer", "session", "own", False),
    ("viewer", "session", "another user's", False),
)
REGENERATORS = owner_cells(
    ("admin", "token", "another user's", False),
    ("credentials_manager", "token", "another user's", False),
    ("admin", "session", "another user's", False),
    ("credentials_manager", "session", "another user's", False),
    ("admin", "session", "own", True),
    ("credentials_manager", "session", "own", True),
)


@pytest.mark.parametrize("case", CREATORS)
def test_who_creates_a_personal_key_for_whom(
    client: TestClient, factory: Factory, case: Owner
) -> None:
    role, way, allowed = case.role, case.way, case.allowed
    factory.tenant()
    factory.user("acme", email=DEV, role="credentials_manager")
    caller = caller_of(client, factory, role, way)
    owner = email_of(role) if case.whose == "own" else DEV
    before, mark = snapshot(factory, "acme"), audit_mark(factory)

    response = post(client, caller, "/api-keys", {"name": "laptop", "scopes": [], "owner": owner})

    if allowed:
        assert response.status_code == 201, response.text
        assert (response.json()["kind"], response.json()["owner"]) == ("personal", owner)
        assert response.json()["key"]
        return
    body = assert_problem(response, 403, "forbidden")
    assert owner not in body["detail"]
    assert "gpk_" not in response.text
    assert snapshot(factory, "acme") == before
    assert issuing_events(factory, mark) == []


@pytest.mark.parametrize("case", REGENERATORS)
def test_who_regenerates_a_personal_key(client: TestClient, factory: Factory, case: Owner) -> None:
    role, way, allowed = case.role, case.way, case.allowed
    factory.tenant()
    factory.user("acme", email=DEV, role="credentials_manager")
    caller = caller_of(client, factory, role, way)
    owner = email_of(role) if case.whose == "own" else DEV
    target = make_target(factory, "api_key", ("nql",), owner=owner)
    before, mark = snapshot(factory, "acme"), audit_mark(factory)
    held_versions = versions(factory, "api_key", target)

    response = post(client, caller, f"/api-keys/{target}/regenerate", {"grace_seconds": 60})

    if allowed:
        assert response.status_code == 200, response.text
        assert response.json()["key"]
        return
    assert_problem(response, 403, "forbidden")
    assert "gpk_" not in response.text
    assert versions(factory, "api_key", target) == held_versions
    assert snapshot(factory, "acme") == before
    assert issuing_events(factory, mark) == []


def test_a_demoted_owner_no_longer_regenerates_a_key_beyond_their_role(
    client: TestClient, factory: Factory
) -> None:
    """A personal key's use is capped by its owner's role; its stored permissions still count."""
    factory.tenant()
    caller = session_caller(client, factory, "acme", "admin")
    target = make_target(factory, "api_key", HELD["admin"], owner=email_of("admin"))
    demote(factory, email_of("admin"), "credentials_manager")
    before = versions(factory, "api_key", target)

    response = post(client, caller, f"/api-keys/{target}/regenerate", {})

    assert_refused(response, "credentials_manager", "admin")
    assert versions(factory, "api_key", target) == before


def test_the_operator_makes_any_secret_appear(factory: Factory) -> None:
    """The CLI acts as the operator (``Actor.role is None``): not bounded by any role."""
    factory.tenant()
    factory.user("acme", email=DEV, role="admin")
    operator = Actor.cli()
    with tenant_session(factory, "acme") as (session, tenant):
        spec = apikeys.NewApiKey(name="for dev", scopes=["tenant:admin"], owner_email=DEV)
        key, _ = apikeys.create_key(session, tenant, spec, actor=operator, hasher=factory.hasher)
        lifecycle.rotate(
            session, tenant, API_KEY, key.key_id, grace=None, actor=operator, hasher=factory.hasher
        )
        made, _ = clients.create_client(
            session,
            tenant,
            clients.NewClient(name="root", scopes=["tenant:admin"]),
            actor=operator,
            hasher=factory.hasher,
        )
        lifecycle.rotate(
            session,
            tenant,
            CLIENT,
            made.client_id,
            grace=None,
            actor=operator,
            hasher=factory.hasher,
        )


def test_an_oauth_client_never_creates_a_personal_key_at_the_service(factory: Factory) -> None:
    factory.tenant()
    factory.user("acme", email=DEV, role="admin")
    robot = Actor(kind="client", id=DEV, role="admin")  # even under a user's name
    spec = apikeys.NewApiKey(name="for dev", scopes=["nql"], owner_email=DEV)
    with (
        tenant_session(factory, "acme") as (session, tenant),
        pytest.raises(ForbiddenError, match="owner only"),
    ):
        apikeys.create_key(session, tenant, spec, actor=robot, hasher=factory.hasher)


# --- choosing a client's key -----------------------------------------------------------------

# Choosing the key a client signs with, or the outside identity whose tokens it accepts, holds
# the client as seeing its secret does: the same rule.
OLD_KEY, NEW_KEY = key_pair("ES256", kid="old"), key_pair("ES256", kid="new")
CLUSTER = "https://kubernetes.default.svc.cluster.local"
KEY_CHANGES = {
    "jwks": {"jwks": NEW_KEY.jwks()},
    "jwks_uri": {"jwks_uri": "https://keys.example.com/jwks.json"},
    "federation": {"federation": [{"issuer": CLUSTER, "subject": "system:serviceaccount:a:b"}]},
}


def make_keyed_target(factory: Factory, scopes: tuple[str, ...]) -> str:
    spec = clients.NewClient(name="keyed target", scopes=list(scopes), jwks=OLD_KEY.jwks())
    with tenant_session(factory, "acme") as (session, tenant):
        tenant.trusted_issuers = [{"issuer": CLUSTER, "jwks": NEW_KEY.jwks()}]
        made, _ = clients.create_client(session, tenant, spec, actor=ACTOR, hasher=factory.hasher)
        return made.client_id


def stored_keys(factory: Factory, client_id: str) -> tuple[str | None, ...]:
    with factory.db.read() as session:
        tenant = tenants.get_tenant(session, "acme")
        found = lifecycle.get(session, tenant, CLIENT, client_id)
        return found.jwks, found.jwks_uri, found.federation


@pytest.mark.parametrize("change", list(KEY_CHANGES))
@pytest.mark.parametrize("case", cells(("client",), ROLES, WAYS))
def test_changing_a_client_s_keys(
    client: TestClient, factory: Factory, case: Case, change: str
) -> None:
    role, way, held = case.role, case.way, case.held
    factory.tenant()
    caller = caller_of(client, factory, role, way)
    target = make_keyed_target(factory, HELD[held])
    before, mark = snapshot(factory, "acme"), audit_mark(factory)
    keys_before = stored_keys(factory, target)

    path = api("acme", f"/clients/{target}")
    response = caller.request(client, "PATCH", path, json=KEY_CHANGES[change])

    if held in MAY_SEE[role]:
        assert response.status_code == 200, response.text
        assert stored_keys(factory, target) != keys_before
        assert [e.action for e in audit_after(factory, mark)] == ["client.update"]
        return
    assert_refused(response, role, held)
    assert stored_keys(factory, target) == keys_before
    assert snapshot(factory, "acme") == before
    assert "client.update" not in [e.action for e in audit_after(factory, mark)]
