"""GitHub secret scanning's partner endpoint, with requests signed as GitHub signs them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from gatepass.settings import Settings
from gatepass.tenants.service import TenantSettings
from tests.api.support import api, assert_problem, bearer_caller
from tests.apikeys.support import (
    code_is,
    create_key,
    regenerate,
    stored_key,
    verifier,
    verify_until,
)
from tests.factories import Factory
from tests.http.support import poll, request_token, rotate, status_is, update_tenant
from tests.leaks.support import (
    GITHUB_PATH,
    GitHubSigner,
    app_client,
    audit_of,
    keys_document,
    labels,
    post_github,
    report,
    stored_text,
)

ANOTHER_PRODUCTS = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.fixture
def github() -> GitHubSigner:
    return GitHubSigner("4fe6b016179b74078ade7581abf4e84fb398c6fae4fb973972235b84fcd70ca3")


@pytest.fixture
def http(settings: Settings, github: GitHubSigner) -> Iterator[TestClient]:
    with app_client(settings, github_scanning_keys=keys_document(github)) as client:
        yield client


def bad_checksum(secret: str) -> str:
    last = "A" if secret[-1] != "A" else "B"
    return secret[:-1] + last


def test_each_token_is_labelled_by_whether_gatepass_issued_it(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    client = acme.client(name="billing")
    old = acme.client(name="rotated")
    rotate(acme, old, grace=None)
    unknown = cs.generate(cs.SecretKind.API_KEY).reveal()
    tokens = [key.secret, client.secret, old.secret, unknown, bad_checksum(key.secret)]
    tokens.append(ANOTHER_PRODUCTS)

    response = post_github(http, github, report(*tokens))

    assert labels(response) == ["true_positive"] * 3 + ["false_positive"] * 3
    for token, item in zip(tokens, response.json(), strict=True):
        assert item["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert item["token_type"] == "gatepass_secret"
        assert token not in response.text
    assert response.headers["cache-control"] == "no-store"


def test_a_live_key_and_a_live_client_are_revoked_and_stop_working(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    client = acme.client(name="billing")
    gateway = verifier(acme)
    assert verify_until(http, gateway, key.secret, code_is("VALID"))["valid"]

    assert labels(post_github(http, github, report(key.secret, client.secret))) == [
        "true_positive",
        "true_positive",
    ]

    assert stored_key(acme, key).status == "revoked"
    assert verify_until(http, gateway, key.secret, code_is("REVOKED"))["valid"] is False
    assert poll(lambda: request_token(http, client), status_is(401)).status_code == 401
    revoked = audit_of(acme, "apikey.revoke") + audit_of(acme, "client.revoke")
    assert [(e.actor_type, e.actor) for e in revoked] == [("system", "leak-report:github")] * 2


def test_under_a_suspend_policy_the_credential_is_suspended_instead(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    update_tenant(acme, "acme", TenantSettings(credential_policy={"leak_action": "suspend"}))
    key = create_key(acme)
    gateway = verifier(acme)

    assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]

    assert stored_key(acme, key).status == "suspended"
    assert verify_until(http, gateway, key.secret, code_is("SUSPENDED"))["valid"] is False
    assert [e.details["action"] for e in audit_of(acme, "apikey.leak_reported")] == ["suspended"]


def test_an_older_secret_in_its_grace_period_stops_and_the_current_one_keeps_working(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    first = acme.client(name="billing")
    current = rotate(acme, first, grace=timedelta(days=1))
    assert request_token(http, first).status_code == 200

    assert labels(post_github(http, github, report(first.secret))) == ["true_positive"]

    assert poll(lambda: request_token(http, first), status_is(401)).status_code == 401
    assert request_token(http, current).status_code == 200
    [event] = audit_of(acme, "client.leak_reported")
    assert event.details["action"] == "secret_ended"


def test_the_audit_record_says_where_it_was_found_and_never_holds_the_secret(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    url = "https://github.com/octo/app/blob/abc123/settings.py#L12"

    post_github(http, github, report(key.secret, url=url))

    [event] = audit_of(acme, "apikey.leak_reported")
    assert (event.actor_type, event.actor, event.target) == (
        "system",
        "leak-report:github",
        key.key_id,
    )
    assert event.details["url"] == url
    assert event.details["source"] == "content"
    assert event.details["hint"] == cs.hint(cs.Plaintext(key.secret))
    assert event.details["action"] == "revoked"
    assert key.secret not in stored_text(acme)


def test_a_url_holding_a_secret_is_masked_in_the_audit_record(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)

    post_github(http, github, report(key.secret, url=f"https://example.test/?k={key.secret}"))

    assert audit_of(acme, "apikey.leak_reported")[0].details["url"] == "[redacted]"
    assert key.secret not in stored_text(acme)


def test_a_repeated_report_is_a_true_positive_that_changes_nothing(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    body = report(key.secret, key.secret)

    assert labels(post_github(http, github, body)) == ["true_positive"] * 2
    assert labels(post_github(http, github, body)) == ["true_positive"] * 2

    assert len(audit_of(acme, "apikey.revoke")) == 1
    assert len(audit_of(acme, "apikey.leak_reported")) == 1


def test_a_revoked_then_regenerated_key_reported_again_stays_as_it_is(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    newer = regenerate(acme, key)

    assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]

    assert stored_key(acme, newer).status == "active"
    assert audit_of(acme, "apikey.leak_reported") == []


@pytest.mark.parametrize(
    "tamper",
    ["unconfigured key", "unknown key id", "changed body", "no headers", "not base64", "empty"],
)
def test_a_request_github_did_not_sign_is_refused_and_changes_nothing(
    acme: Factory, http: TestClient, github: GitHubSigner, tamper: str
) -> None:
    key = create_key(acme)
    body = report(key.secret)
    headers = github.headers(body)
    if tamper == "unconfigured key":
        headers = GitHubSigner(github.key_id).headers(body)
    elif tamper == "unknown key id":
        headers = GitHubSigner("another").headers(body)
    elif tamper == "changed body":
        body = report(key.secret, url="https://github.com/elsewhere")
    elif tamper == "no headers":
        headers = {}
    else:
        headers["Github-Public-Key-Signature"] = "%%%" if tamper == "not base64" else ""

    response = http.post(GITHUB_PATH, content=body, headers=headers)

    assert_problem(response, 401, "invalid_signature")
    assert "key" not in response.json()["detail"]
    assert stored_key(acme, key).status == "active"


def test_a_source_whose_signatures_keep_failing_is_answered_429(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    body = report("gpk_x")
    forged = GitHubSigner(github.key_id).headers(body)
    answers = [http.post(GITHUB_PATH, content=body, headers=forged).status_code for _ in range(21)]

    assert answers == [401] * 20 + [429]
    refused = http.post(GITHUB_PATH, content=body, headers=forged)
    assert_problem(refused, 429, "too_many_requests")
    assert int(refused.headers["retry-after"]) >= 1


def with_key(secret: str, after: str) -> bytes:
    """A body whose first item reports ``secret`` well and whose second is ``after``."""
    return f'[{{"token": "{secret}", "type": "t", "url": "u", "source": "s"}}, {after}]'.encode()


MALFORMED = {
    "not JSON": lambda s: b"not json " + s.encode(),
    "an object": lambda s: json.dumps({"token": s}).encode(),
    "empty": lambda s: b"[]",
    "no token": lambda s: with_key(s, '{"type": "x"}'),
    "a number for a token": lambda s: with_key(s, '{"token": 5}'),
    "a list for a url": lambda s: with_key(s, '{"token": "t", "url": ["x"]}'),
    "not an object": lambda s: with_key(s, '"t"'),
    "101 tokens": lambda s: report(*[s] * 101),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_signed_body_is_refused_and_changes_nothing(
    acme: Factory, http: TestClient, github: GitHubSigner, case: str
) -> None:
    key = create_key(acme)

    response = post_github(http, github, MALFORMED[case](key.secret))

    assert_problem(response, 400, "invalid_report")
    assert key.secret not in response.text
    assert stored_key(acme, key).status == "active"
    assert audit_of(acme, "apikey.leak_reported") == []


def test_a_body_over_64_kib_is_refused_before_its_signature_is_checked(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    body = report(key.secret, url="https://github.com/" + "x" * 64 * 1024)

    assert_problem(post_github(http, github, body), 413, "payload_too_large")

    assert stored_key(acme, key).status == "active"


def test_a_hundred_tokens_are_one_request_and_a_hundred_and_one_are_not(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    assert labels(post_github(http, github, report(*[key.secret] * 100))) == ["true_positive"] * 100
    assert_problem(post_github(http, github, report(*[key.secret] * 101)), 400, "invalid_report")


def test_without_github_keys_configured_the_endpoint_is_not_there(
    settings: Settings, github: GitHubSigner
) -> None:
    with app_client(settings) as http:
        assert_problem(post_github(http, github, report("x")), 404, "not_found")


def test_the_audit_api_lists_what_reports_did_as_the_system_s(
    acme: Factory, http: TestClient, github: GitHubSigner
) -> None:
    key = create_key(acme)
    admin = bearer_caller(http, acme, "acme")
    post_github(http, github, report(key.secret))

    listed = admin.request(
        http, "GET", api("acme", "/audit-events"), params={"actor_type": "system"}
    )

    assert listed.status_code == 200, listed.text
    actions = {(e["actor"], e["action"], e["target"]) for e in listed.json()["items"]}
    assert actions == {
        ("leak-report:github", "apikey.revoke", key.key_id),
        ("leak-report:github", "apikey.leak_reported", key.key_id),
    }
