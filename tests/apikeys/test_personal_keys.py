"""Personal keys never grant more than their owner holds right now."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gatepass.apikeys.kind import API_KEY
from gatepass.audit.service import Actor
from gatepass.credentials import lifecycle
from gatepass.errors import ForbiddenError, InvalidInputError
from tests.apikeys.support import (
    create_key,
    create_user,
    set_role,
    verifier,
    verify,
    verify_until,
)
from tests.cli.harness import dump_tables
from tests.factories import Factory
from tests.http.support import tenant_session


def test_viewer_personal_key_cannot_carry_permissions(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    viewer = create_user(factory, "viewer@acme.example", "viewer")
    before = dump_tables(factory.settings.effective_database_url)

    with pytest.raises(InvalidInputError, match="viewer"):
        create_key(factory, owner=viewer, scopes=("nql",))

    assert dump_tables(factory.settings.effective_database_url) == before
    # Without permissions the viewer may hold a personal key (restricted to client groups).
    key = create_key(factory, owner=viewer, groups=("emea",))
    answer = verify(client, verifier(factory), key.secret)
    assert answer["code"] == "VALID"
    assert (answer["scopes"], answer["groups"]) == ([], ["emea"])
    assert answer["owner"] == {"email": viewer}


def test_key_of_an_owner_demoted_to_viewer_loses_its_scopes(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    owner = create_user(factory, "lead@acme.example", "admin")
    key = create_key(factory, owner=owner, scopes=("nql", "workflows"), groups=("emea",))
    caller = verifier(factory)
    assert sorted(verify(client, caller, key.secret)["scopes"]) == ["nql", "workflows"]

    set_role(factory, owner, "viewer")

    answer = verify_until(client, caller, key.secret, lambda a: a.get("scopes") == [])
    assert answer["code"] == "VALID"
    assert answer["scopes"] == []
    assert answer["groups"] == ["emea"]

    set_role(factory, owner, "credentials_manager")

    answer = verify_until(client, caller, key.secret, lambda a: a.get("scopes") != [])
    assert sorted(answer["scopes"]) == ["nql", "workflows"]


def test_only_the_owner_or_the_operator_regenerates_a_personal_key(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    owner = create_user(factory, "root@acme.example", "admin")
    key = create_key(factory, owner=owner, scopes=("tenant:admin",))
    before = dump_tables(factory.settings.effective_database_url)

    for other in (
        Actor(kind="user", id="cam@acme.example", role="credentials_manager"),
        Actor(kind="user", id="ada@acme.example", role="admin"),
        Actor(kind="client", id="automation", role="admin"),
    ):
        with (
            tenant_session(factory, "acme") as (session, tenant),
            pytest.raises(ForbiddenError, match="only its owner"),
        ):
            lifecycle.rotate(
                session, tenant, API_KEY, key.key_id, grace=None, actor=other, hasher=factory.hasher
            )
    assert dump_tables(factory.settings.effective_database_url) == before
    assert verify(client, verifier(factory), key.secret)["code"] == "VALID"

    for allowed in (Actor(kind="user", id=owner, role="admin"), Actor.cli()):
        with tenant_session(factory, "acme") as (session, tenant):
            _, secret = lifecycle.rotate(
                session,
                tenant,
                API_KEY,
                key.key_id,
                grace=None,
                actor=allowed,
                hasher=factory.hasher,
            )
        answer = verify_until(client, verifier(factory), secret.reveal(), lambda a: a["valid"])
        assert answer["owner"] == {"email": owner}
