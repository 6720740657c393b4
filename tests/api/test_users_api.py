"""Console users through the management API: roles, status, and what follows from them."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.support import PASSWORD, Caller, api, assert_problem, bearer_caller, session_caller
from tests.apikeys.support import code_is, verifier, verify, verify_until
from tests.factories import Factory

NEW_PASSWORD = "a long enough passphrase"


def add_user(
    http: TestClient, caller: Caller, email: str, role: str = "viewer", **fields: Any
) -> dict[str, Any]:
    body = {"email": email, "role": role, "password": NEW_PASSWORD, **fields}
    response = caller.request(http, "POST", api("acme", "/users"), json=body)
    assert response.status_code == 201, response.text
    user: dict[str, Any] = response.json()
    return user


def patch(http: TestClient, caller: Caller, user_id: int, **changes: Any) -> Any:
    return caller.request(http, "PATCH", api("acme", f"/users/{user_id}"), json=changes)


def user_id(http: TestClient, caller: Caller, email: str) -> int:
    response = caller.request(http, "GET", api("acme", "/users"), params={"email": email})
    assert response.status_code == 200, response.text
    found: int = response.json()["items"][0]["id"]
    return found


def emails(http: TestClient, caller: Caller, **params: str) -> list[str]:
    response = caller.request(http, "GET", api("acme", "/users"), params=params)
    assert response.status_code == 200, response.text
    return [u["email"] for u in response.json()["items"]]


def test_an_admin_creates_a_user_who_can_sign_in(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    response = admin.request(
        client,
        "POST",
        api("acme", "/users"),
        json={
            "email": "Grace@Acme.example.com",
            "display_name": "Grace H.",
            "role": "credentials_manager",
            "password": NEW_PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == {"id", "email", "display_name", "role", "status", "created_at"}
    assert user["email"] == "grace@acme.example.com"
    assert user["display_name"] == "Grace H."
    assert user["role"] == "credentials_manager"
    assert user["status"] == "active"
    assert NEW_PASSWORD not in response.text

    signed_in = client.post(
        api("acme", "/session"),
        json={"email": "grace@acme.example.com", "password": NEW_PASSWORD},
    )
    client.cookies.clear()
    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["user"]["id"] == user["id"]
    shown = admin.request(client, "GET", api("acme", f"/users/{user['id']}"))
    assert shown.json() == user


def test_only_an_admin_manages_users(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.user("acme", email="someone@acme.example.com", role="viewer")
    for role in ("credentials_manager", "viewer"):
        caller = bearer_caller(client, factory, "acme", role)
        created = caller.request(
            client,
            "POST",
            api("acme", "/users"),
            json={"email": "new@acme.example.com", "role": "viewer", "password": NEW_PASSWORD},
        )
        assert_problem(created, 403, "forbidden")
        assert_problem(caller.request(client, "GET", api("acme", "/users")), 403, "forbidden")
        assert_problem(caller.request(client, "GET", api("acme", "/users/1")), 403, "forbidden")
        assert_problem(patch(client, caller, 1, role="admin"), 403, "forbidden")
    admin = bearer_caller(client, factory, "acme")
    assert emails(client, admin) == ["someone@acme.example.com"]
    assert admin.request(client, "GET", api("acme", "/users/1")).json()["role"] == "viewer"


def test_list_and_filter_users(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    add_user(client, admin, "ada@acme.example.com", "admin")
    add_user(client, admin, "bob@acme.example.com", "credentials_manager")
    carol = add_user(client, admin, "carol@other.example.com", "viewer")
    dave = add_user(client, admin, "dave@acme.example.com", "viewer")
    assert patch(client, admin, dave["id"], status="disabled").status_code == 200

    assert emails(client, admin) == [
        "dave@acme.example.com",
        "carol@other.example.com",
        "bob@acme.example.com",
        "ada@acme.example.com",
    ]
    assert emails(client, admin, role="viewer") == [
        "dave@acme.example.com",
        "carol@other.example.com",
    ]
    assert emails(client, admin, status="disabled") == ["dave@acme.example.com"]
    assert emails(client, admin, status="active", role="viewer") == ["carol@other.example.com"]
    assert emails(client, admin, email="OTHER.example") == ["carol@other.example.com"]
    assert emails(client, admin, email="_") == []
    shown = admin.request(client, "GET", api("acme", f"/users/{carol['id']}"))
    assert shown.status_code == 200
    assert shown.json() == carol
    invalid = admin.request(client, "GET", api("acme", "/users"), params={"role": "owner"})
    assert_problem(invalid, 422, "invalid_input")


def test_unknown_user_is_a_404(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    assert_problem(admin.request(client, "GET", api("acme", "/users/4242")), 404, "not_found")
    assert_problem(patch(client, admin, 4242, display_name="x"), 404, "not_found")


def test_patch_changes_display_name_and_role(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    user = add_user(client, admin, "eve@acme.example.com", "viewer")

    response = patch(client, admin, user["id"], display_name="Eve", role="credentials_manager")
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Eve"
    assert response.json()["role"] == "credentials_manager"
    shown = admin.request(client, "GET", api("acme", f"/users/{user['id']}")).json()
    assert shown["display_name"] == "Eve"
    assert shown["role"] == "credentials_manager"
    assert shown["status"] == "active"


def test_disabling_a_user_ends_their_session_and_disables_their_keys(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    member = session_caller(client, factory, "acme", "credentials_manager")
    email = "credentials-manager@acme.example.com"
    assert member.request(client, "GET", api("acme", "/clients")).status_code == 200
    key = member.request(  # a personal key is created by its owner
        client,
        "POST",
        api("acme", "/api-keys"),
        json={"name": "laptop", "owner": email, "scopes": ["nql"]},
    ).json()
    assert verify(client, checker, key["key"])["code"] == "VALID"

    response = patch(client, admin, user_id(client, admin, email), status="disabled")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "disabled"
    ended = member.request(client, "GET", api("acme", "/clients"))
    assert_problem(ended, 401, "unauthenticated")
    answer = verify_until(client, checker, key["key"], code_is("DISABLED"))
    assert answer == {"valid": False, "code": "DISABLED"}
    shown = admin.request(client, "GET", api("acme", f"/api-keys/{key['id']}")).json()
    assert shown["status"] == "disabled"
    signed_in = client.post(api("acme", "/session"), json={"email": email, "password": PASSWORD})
    client.cookies.clear()
    assert_problem(signed_in, 401, "sign_in_failed")

    enabled = patch(client, admin, user_id(client, admin, email), status="active")
    assert enabled.json()["status"] == "active"
    assert verify_until(client, checker, key["key"], code_is("VALID"))["code"] == "VALID"
    assert member.request(client, "GET", api("acme", "/clients")).status_code == 401


def test_a_demoted_owner_s_personal_key_loses_what_the_owner_lost(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    dev = session_caller(
        client, factory, "acme", "credentials_manager", email="dev@acme.example.com"
    )
    admin = bearer_caller(client, factory, "acme")
    checker = verifier(factory)
    key = dev.request(  # a personal key is created by its owner
        client,
        "POST",
        api("acme", "/api-keys"),
        json={"name": "laptop", "owner": "dev@acme.example.com", "scopes": ["nql"]},
    ).json()
    assert verify(client, checker, key["key"])["scopes"] == ["nql"]

    demoted = patch(client, admin, user_id(client, admin, "dev@acme.example.com"), role="viewer")
    assert demoted.status_code == 200, demoted.text
    answer = verify_until(client, checker, key["key"], lambda a: a["scopes"] == [])
    assert answer["code"] == "VALID"
    assert answer["scopes"] == []


def test_the_last_active_admin_stays(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.user("acme", email="root@acme.example.com", role="admin")
    factory.user("acme", email="spare@acme.example.com", role="admin")
    admin = bearer_caller(client, factory, "acme")
    spare = user_id(client, admin, "spare@acme.example.com")
    root = user_id(client, admin, "root@acme.example.com")
    assert patch(client, admin, spare, status="disabled").status_code == 200

    for change in ({"status": "disabled"}, {"role": "viewer"}, {"role": "credentials_manager"}):
        assert_problem(patch(client, admin, root, **change), 409, "conflict")
        shown = admin.request(client, "GET", api("acme", f"/users/{root}")).json()
        assert shown["role"] == "admin"
        assert shown["status"] == "active"
    assert patch(client, admin, spare, status="active").status_code == 200
    assert patch(client, admin, root, role="viewer").json()["role"] == "viewer"


def test_an_admin_may_step_down_while_another_remains(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    root = session_caller(client, factory, "acme", "admin", email="root@acme.example.com")
    factory.user("acme", email="spare@acme.example.com", role="admin")
    me = user_id(client, root, "root@acme.example.com")
    spare = user_id(client, root, "spare@acme.example.com")
    response = patch(client, root, me, role="viewer")
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "viewer"
    # Now a viewer, the same session can no longer manage users.
    assert_problem(patch(client, root, spare, role="viewer"), 403, "forbidden")


def test_a_duplicate_email_is_a_409(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    add_user(client, admin, "taken@acme.example.com")
    for email in ("taken@acme.example.com", "TAKEN@acme.example.com", " taken@acme.example.com "):
        response = admin.request(
            client,
            "POST",
            api("acme", "/users"),
            json={"email": email, "role": "admin", "password": NEW_PASSWORD},
        )
        assert_problem(response, 409, "conflict")
    assert emails(client, admin) == ["taken@acme.example.com"]


def test_a_weak_password_is_a_422_that_does_not_echo_it(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    weak = "Hunter2!xyz"
    response = admin.request(
        client,
        "POST",
        api("acme", "/users"),
        json={"email": "weak@acme.example.com", "role": "viewer", "password": weak},
    )
    body = assert_problem(response, 422, "invalid_input")
    assert [e["pointer"] for e in body["errors"]] == ["body/password"]
    assert weak not in response.text
    assert emails(client, admin) == []
