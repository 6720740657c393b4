"""Console sessions over the API: sign in, the cookie and its CSRF token, sign out, tenants."""

from __future__ import annotations

from typing import Any

import httpx2
from starlette.testclient import TestClient

from tests.api.support import (
    PASSWORD,
    Caller,
    api,
    assert_problem,
    bearer_caller,
    flush_failures,
    session_caller,
)
from tests.factories import Factory

EMAIL = "ada@acme.example.com"


def sign_in(http: TestClient, email: str, password: str, tenant: str = "acme") -> httpx2.Response:
    try:
        return http.post(
            api(tenant, "/session"),
            json={"email": email, "password": password},
            headers={"user-agent": "console-tests/1.0"},
        )
    finally:
        http.cookies.clear()


def cookie_caller(response: httpx2.Response) -> Caller:
    return Caller(
        "session",
        {"x-csrf-token": response.json()["csrf_token"]},
        {"gatepass_session": response.cookies["gatepass_session"]},
    )


def failed_sign_ins(http: TestClient, factory: Factory) -> list[dict[str, Any]]:
    reader = bearer_caller(http, factory, "acme", "viewer")
    response = reader.request(
        http, "GET", api("acme", "/audit-events"), params={"action": "session.sign_in_failed"}
    )
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["items"]
    return events


def test_sign_in_sets_a_protected_cookie_and_returns_the_csrf_token(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    factory.user("acme", email=EMAIL, role="credentials_manager")
    response = sign_in(client, "Ada@Acme.example.com", PASSWORD)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["user"]["email"] == EMAIL
    assert body["user"]["role"] == "credentials_manager"
    assert body["csrf_token"]
    assert body["expires_at"]

    cookie = response.headers["set-cookie"]
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert attributes[0].startswith("gatepass_session=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http in tests; https sets it
    token = response.cookies["gatepass_session"]
    assert len(token) >= 32
    assert token not in response.text
    assert body["csrf_token"] != token


def test_wrong_password_and_unknown_email_fail_alike(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.user("acme", email=EMAIL, role="admin")
    wrong_password = "not the password at all"
    unknown_password = "another guess entirely"
    bad = sign_in(client, EMAIL, wrong_password)
    unknown = sign_in(client, "nobody@acme.example.com", unknown_password)

    for response in (bad, unknown):
        assert_problem(response, 401, "sign_in_failed")
        assert "set-cookie" not in response.headers
    assert bad.json() == unknown.json()
    assert bad.headers.get("www-authenticate") == unknown.headers.get("www-authenticate")

    events = failed_sign_ins(client, factory)
    assert sorted(e["target"] for e in events) == [EMAIL, "nobody@acme.example.com"]
    for event in events:
        assert event["action"] == "session.sign_in_failed"
        assert event["user_agent"] == "console-tests/1.0"
        assert event["source_ip"]
    text = str(events)
    for secret in (wrong_password, unknown_password, PASSWORD):
        assert secret not in text


def test_a_password_typed_as_the_email_is_not_audited(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.user("acme", email=EMAIL, role="admin")
    response = sign_in(client, PASSWORD, PASSWORD)
    assert_problem(response, 401, "sign_in_failed")
    events = failed_sign_ins(client, factory)
    assert len(events) == 1
    assert PASSWORD not in str(events)
    assert PASSWORD not in response.text


def test_get_session_describes_the_signed_in_user(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    factory.user("acme", email=EMAIL, role="viewer")
    signed_in = sign_in(client, EMAIL, PASSWORD)
    member = cookie_caller(signed_in)
    response = member.request(client, "GET", api("acme", "/session"))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["user"] == signed_in.json()["user"]
    assert response.json()["csrf_token"] == signed_in.json()["csrf_token"]


def test_get_session_with_a_bearer_token_is_not_a_session(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant()
    admin = bearer_caller(client, factory, "acme")
    assert_problem(admin.request(client, "GET", api("acme", "/session")), 404, "no_session")
    assert_problem(client.get(api("acme", "/session")), 401, "unauthenticated")


def test_sign_out_ends_the_session(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    member = session_caller(client, factory, "acme", "viewer")
    assert member.request(client, "GET", api("acme", "/session")).status_code == 200

    response = member.request(client, "DELETE", api("acme", "/session"))
    assert response.status_code == 204
    cleared = response.headers["set-cookie"].lower()
    assert cleared.startswith("gatepass_session=")
    assert "max-age=0" in cleared
    for path in ("/session", "/clients"):
        assert_problem(member.request(client, "GET", api("acme", path)), 401, "unauthenticated")
    admin = bearer_caller(client, factory, "acme")
    events = admin.request(
        client, "GET", api("acme", "/audit-events"), params={"action": "session."}
    ).json()["items"]
    assert [e["action"] for e in events] == ["session.sign_out", "session.sign_in"]


def test_a_change_without_the_csrf_token_is_refused(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    member = session_caller(client, factory, "acme", "admin")
    forged = Caller("forged", {}, member.cookies)
    wrong = Caller("wrong", {"x-csrf-token": "not-the-token"}, member.cookies)
    for caller in (forged, wrong):
        created = caller.request(client, "POST", api("acme", "/clients"), json={"name": "csrf"})
        assert_problem(created, 403, "csrf_failed")
        assert_problem(
            caller.request(client, "DELETE", api("acme", "/session")), 403, "csrf_failed"
        )
    # Reads need no CSRF token, and the session survived the refused sign-out.
    listed = forged.request(client, "GET", api("acme", "/clients"))
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    flush_failures(client)
    denied = forged.request(
        client, "GET", api("acme", "/audit-events"), params={"action": "api.access_denied"}
    ).json()["items"]
    assert sum(e["count"] for e in denied) == 4  # in one row, or two across a minute boundary
    assert {e["details"]["reason"] for e in denied} == {"csrf"}


def test_a_session_of_one_tenant_is_refused_by_another(
    factory: Factory, client: TestClient
) -> None:
    factory.tenant("acme")
    factory.tenant("globex")
    factory.user("globex", email=EMAIL, role="admin")
    member = session_caller(client, factory, "acme", "admin", email=EMAIL)
    assert member.request(client, "GET", api("acme", "/clients")).status_code == 200
    for method, path in (("GET", "/clients"), ("GET", "/session"), ("DELETE", "/session")):
        refused = member.request(client, method, api("globex", path))
        assert_problem(refused, 401, "unauthenticated")
    assert member.request(client, "GET", api("acme", "/session")).status_code == 200


def test_a_made_up_cookie_is_refused(factory: Factory, client: TestClient) -> None:
    factory.tenant()
    for token in ("x" * 43, "y" * 500):
        stranger = Caller("stranger", {}, {"gatepass_session": token})
        assert_problem(stranger.request(client, "GET", api("acme", "/session")), 401)
