"""The gateway check (``/realms/{tenant}/gateway/check``): one test per outcome, every place a
credential can travel, every way a gateway says what a route needs, and the rules that keep a
caller from loosening them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx2
import pytest
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from gatepass.apikeys import service as apikeys
from gatepass.tenants import service as tenants
from tests.apikeys.support import Key, create_key
from tests.apikeys.support import revoke as revoke_key
from tests.factories import Credential, Factory
from tests.http.support import issue_token, issuer, revoke_path, update_tenant
from tests.windows import wait_for_a_fresh_window

CHECK = "/realms/acme/gateway/check"
NQL_API = "https://nql.example.com"
REPORTS_API = "https://reports.example.com"
GROUPS = ("emea", "São Paulo")


@pytest.fixture
def acme(factory: Factory) -> Factory:
    factory.tenant(groups_=GROUPS)
    changes = tenants.TenantSettings(allowed_audiences=("api://acme", NQL_API, REPORTS_API))
    update_tenant(factory, "acme", changes)
    return factory


def check(
    client: TestClient, path: str = CHECK, method: str = "GET", **headers: str
) -> httpx2.Response:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return client.request(method, path, headers=named)


def assert_identity(response: httpx2.Response, subject: str, kind: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["x-gatepass-subject"] == subject
    assert response.headers["x-gatepass-kind"] == kind
    assert response.headers["cache-control"] == "no-store"
    assert response.content == b""


def assert_refused(response: httpx2.Response, status: int, error: str | None) -> None:
    assert response.status_code == status, response.text
    assert "x-gatepass-subject" not in response.headers
    if status in (401, 403):
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="acme"'), challenge
        assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)
    if error:
        assert response.json()["error"] == error


def nql_key(factory: Factory, **options: object) -> Key:
    return create_key(factory, scopes=("nql",), groups=GROUPS, **options)  # type: ignore[arg-type]


# -- where the credential travels ---------------------------------------------------------

KEY_PLACES: dict[str, Callable[[str], tuple[str, dict[str, str]]]] = {
    "Authorization-PSK": lambda k: (CHECK, {"authorization_psk": k}),
    "X-API-Key": lambda k: (CHECK, {"x_api_key": k}),
    "query, path appended (Envoy)": lambda k: (f"{CHECK}/v1/runs?a=1&apikey={quote(k)}", {}),
    "X-Original-URI (nginx)": lambda k: (CHECK, {"x_original_uri": f"/v1/runs?apikey={k}"}),
    "X-Forwarded-Uri (Traefik)": lambda k: (CHECK, {"x_forwarded_uri": f"/v1?apikey={k}&b=2"}),
}


@pytest.mark.parametrize("place", list(KEY_PLACES))
def test_an_api_key_is_found_wherever_the_caller_put_it(
    acme: Factory, client: TestClient, place: str
) -> None:
    key = nql_key(acme)
    path, headers = KEY_PLACES[place](key.secret)

    response = check(client, path, **headers)

    assert_identity(response, key.key_id, "api_key")
    assert response.headers["x-gatepass-scopes"] == "nql"
    assert set(response.headers["x-gatepass-groups"].split(",")) == {"emea", "S%C3%A3o Paulo"}


def test_a_token_gives_its_client_scopes_and_groups(acme: Factory, client: TestClient) -> None:
    cred = acme.client(scopes=("nql", "workflows"), groups_=("emea",))
    token = issue_token(client, cred)

    response = check(client, authorization=f"Bearer {token}")

    assert_identity(response, cred.client_id, "oauth_client")
    assert response.headers["x-gatepass-scopes"] == "nql workflows"
    assert response.headers["x-gatepass-groups"] == "emea"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_the_original_method_is_accepted(acme: Factory, client: TestClient, method: str) -> None:
    key = nql_key(acme)
    response = check(client, method=method, x_api_key=key.secret)
    assert response.status_code == 200
    assert response.headers["x-gatepass-subject"] == key.key_id


# -- refusals -----------------------------------------------------------------------------


def test_no_credential_is_a_bare_challenge(acme: Factory, client: TestClient) -> None:
    assert_refused(check(client), 401, None)


def test_two_credentials_are_a_bad_request(acme: Factory, client: TestClient) -> None:
    key = nql_key(acme)
    response = check(client, x_api_key=key.secret, x_original_uri=f"/?apikey={key.secret}")
    assert_refused(response, 400, "invalid_request")


def _expired(factory: Factory) -> str:
    # Expired by the clock of the check, not made expired: the lifecycle refuses a past date.
    key = nql_key(factory, expires_at=datetime.now(UTC) + timedelta(seconds=1))
    return key.secret


def _revoked(factory: Factory) -> str:
    key = nql_key(factory)
    revoke_key(factory, key)
    return key.secret


def _of_globex(factory: Factory) -> str:
    factory.tenant("globex")
    return create_key(factory, "globex", scopes=("nql",)).secret


BAD_KEYS: dict[str, Callable[[Factory], str]] = {
    "revoked": _revoked,
    "well-formed, unknown": lambda f: cs.generate(cs.SecretKind.API_KEY).reveal(),
    "malformed": lambda f: "not a key",
    "of another tenant": _of_globex,
}


@pytest.mark.parametrize("case", list(BAD_KEYS))
def test_a_key_that_is_not_good_is_invalid_token(
    acme: Factory, client: TestClient, case: str
) -> None:
    secret = BAD_KEYS[case](acme)
    response = check(client, x_api_key=secret)
    assert_refused(response, 401, "invalid_token")
    assert response.json()["error_description"] == "the credential is not valid"


def test_an_expired_key_is_invalid_token(acme: Factory, client: TestClient) -> None:
    secret = _expired(acme)
    deadline = datetime.now(UTC) + timedelta(seconds=8)
    response = check(client, x_api_key=secret)
    while response.status_code == 200 and datetime.now(UTC) < deadline:
        response = check(client, x_api_key=secret)
    assert_refused(response, 401, "invalid_token")


BAD_TOKENS: dict[str, Callable[[Factory, TestClient, Credential], str]] = {
    "garbage": lambda f, c, cred: "not.a.token",
    "for Gatepass itself": lambda f, c, cred: issue_token(c, cred, resource=issuer("acme")),
    "revoked": lambda f, c, cred: _revoked_token(c, cred),
    "of another tenant": lambda f, c, cred: _globex_token(f, c),
}


def _revoked_token(client: TestClient, cred: Credential) -> str:
    token = issue_token(client, cred)
    revoked = client.post(
        revoke_path(), data={"token": token}, headers={"authorization": cred.basic}
    )
    assert revoked.status_code == 200
    return token


def _globex_token(factory: Factory, client: TestClient) -> str:
    factory.tenant("globex")
    return issue_token(client, factory.client("globex", scopes=("nql",)))


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_a_token_that_is_not_good_is_invalid_token(
    acme: Factory, client: TestClient, case: str
) -> None:
    cred = acme.client(scopes=("nql",))
    token = BAD_TOKENS[case](acme, client, cred)
    assert_refused(check(client, authorization=f"Bearer {token}"), 401, "invalid_token")


def test_a_dpop_token_is_invalid_token(acme: Factory, client: TestClient) -> None:
    token = issue_token(client, acme.client(scopes=("nql",)))
    assert_refused(check(client, authorization=f"DPoP {token}"), 401, "invalid_token")


def test_an_unknown_realm_is_not_found(acme: Factory, client: TestClient) -> None:
    key = nql_key(acme)
    response = check(client, "/realms/nowhere/gateway/check", x_api_key=key.secret)
    assert response.status_code == 404


def test_a_spent_rate_limit_is_429_with_retry_after(acme: Factory, client: TestClient) -> None:
    key = nql_key(acme, rate_limit=apikeys.RateLimit(2, 3600))
    wait_for_a_fresh_window(3600)
    answers = [check(client, x_api_key=key.secret) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["error"] == "rate_limited"
    assert 1 <= int(answers[2].headers["retry-after"]) <= 3600
    assert "x-gatepass-subject" not in answers[2].headers


# -- what the route needs -----------------------------------------------------------------

NEEDS: dict[str, tuple[str, dict[str, str]]] = {
    "query": (f"{CHECK}?permission=workflows", {}),
    "two in one query value": (f"{CHECK}?permission=nql,workflows", {}),
    "header": (CHECK, {"x_gatepass_permission": "workflows"}),
}


@pytest.mark.parametrize("where", list(NEEDS))
@pytest.mark.parametrize("holder", ["key", "token"])
def test_a_missing_permission_is_insufficient_scope(
    acme: Factory, client: TestClient, where: str, holder: str
) -> None:
    path, headers = NEEDS[where]
    if holder == "key":
        headers = {**headers, "x_api_key": nql_key(acme).secret}
    else:
        token = issue_token(client, acme.client(scopes=("nql",)))
        headers = {**headers, "authorization": f"Bearer {token}"}

    response = check(client, path, **headers)

    assert_refused(response, 403, "insufficient_scope")
    assert 'scope="workflows"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("where", list(NEEDS))
def test_a_held_permission_passes(acme: Factory, client: TestClient, where: str) -> None:
    path, headers = NEEDS[where]
    key = create_key(acme, scopes=("nql", "workflows"))
    assert_identity(check(client, path, **headers, x_api_key=key.secret), key.key_id, "api_key")


def test_a_forged_header_only_adds_to_what_the_route_needs(
    acme: Factory, client: TestClient
) -> None:
    key = create_key(acme, scopes=("nql", "workflows"))
    path = f"{CHECK}?permission=workflows"
    # The caller cannot drop the route's need by sending the header empty, nor by naming less.
    for forged in ("", "nql"):
        response = check(client, path, x_api_key=key.secret, x_gatepass_permission=forged)
        assert response.status_code == 200
    response = check(client, path, x_api_key=key.secret, x_gatepass_permission="campaigns")
    assert_refused(response, 403, "insufficient_scope")


def test_after_an_appended_path_the_query_is_the_callers_not_configuration(
    acme: Factory, client: TestClient
) -> None:
    key = nql_key(acme)
    # An API's own query parameters named like the check's settings change nothing.
    path = f"{CHECK}/reports?permission=campaigns&audience={quote(REPORTS_API)}"
    assert_identity(check(client, path, x_api_key=key.secret), key.key_id, "api_key")


AUDIENCE_CASES = {
    # needed audience -> token resource -> expected status
    "matching": (NQL_API, NQL_API, 200),
    "another API's": (NQL_API, REPORTS_API, 401),
    "none needed, default audience": (None, None, 200),
}


@pytest.mark.parametrize("case", list(AUDIENCE_CASES))
@pytest.mark.parametrize("where", ["query", "header"])
def test_a_route_may_need_an_audience(
    acme: Factory, client: TestClient, case: str, where: str
) -> None:
    needed, resource, status = AUDIENCE_CASES[case]
    cred = acme.client(scopes=("nql",))
    token = issue_token(client, cred, **({"resource": resource} if resource else {}))
    path, headers = CHECK, {"authorization": f"Bearer {token}"}
    if needed and where == "query":
        path = f"{CHECK}?audience={quote(needed)}"
    elif needed:
        headers["x_gatepass_audience"] = needed

    response = check(client, path, **headers)

    assert response.status_code == status, response.text


def test_a_route_that_needs_an_audience_takes_no_api_key(acme: Factory, client: TestClient) -> None:
    key = nql_key(acme)
    response = check(client, f"{CHECK}?audience={quote(NQL_API)}", x_api_key=key.secret)
    assert_refused(response, 401, "invalid_token")


def test_too_many_needs_are_a_bad_request(acme: Factory, client: TestClient) -> None:
    key = nql_key(acme)
    names = ",".join(f"p{i}" for i in range(33))
    response = check(client, f"{CHECK}?permission={names}", x_api_key=key.secret)
    assert_refused(response, 400, "invalid_request")


@pytest.mark.parametrize("path", ["/realms/acme/gateway/checks", "/realms/acme/gateway"])
def test_only_the_check_path_is_the_gateway(acme: Factory, client: TestClient, path: str) -> None:
    assert check(client, path).status_code == 404
