"""The generic report API: HMAC-SHA256 signed requests, a timestamp and a replay window."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx2
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from gatepass.leaks import signed
from gatepass.settings import Settings
from tests.api.support import assert_problem
from tests.apikeys.support import Key, create_key, stored_key
from tests.factories import Factory
from tests.leaks.support import (
    REPORT_PATH,
    REPORT_SECRET,
    GitHubSigner,
    app_client,
    audit_of,
    labels,
    post_report,
    report,
)


@pytest.fixture
def http(settings: Settings) -> Iterator[TestClient]:
    with app_client(settings, leak_report_secret=SecretStr(REPORT_SECRET)) as client:
        yield client


def raw(http: TestClient, body: bytes, header: str | None) -> httpx2.Response:
    headers = {signed.HEADER: header} if header is not None else {}
    return http.post(REPORT_PATH, content=body, headers=headers)


def now() -> int:
    return int(time.time())


REFUSED: dict[str, Callable[[TestClient, Key], httpx2.Response]] = {
    "no signature": lambda http, key: raw(http, report(key.secret), None),
    "another secret": lambda http, key: post_report(
        http, report(key.secret), secret="not the operator's secret, but as long as it"
    ),
    "too old": lambda http, key: post_report(http, report(key.secret), at=now() - 301),
    "from the future": lambda http, key: post_report(http, report(key.secret), at=now() + 301),
    "changed body": lambda http, key: raw(
        http,
        report(key.secret),
        signed.sign(REPORT_SECRET.encode(), report(key.secret, url="x"), now()),
    ),
    "changed time": lambda http, key: raw(
        http,
        report(key.secret),
        signed.sign(REPORT_SECRET.encode(), report(key.secret), now()).replace("t=", "t=1", 1),
    ),
    "malformed header": lambda http, key: raw(http, report(key.secret), "v1=abc"),
    "GitHub's headers": lambda http, key: http.post(
        REPORT_PATH,
        content=report(key.secret),
        headers=GitHubSigner("k").headers(report(key.secret)),
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_request_not_signed_with_the_shared_secret_is_refused_and_changes_nothing(
    acme: Factory, http: TestClient, case: str
) -> None:
    key = create_key(acme)

    assert_problem(REFUSED[case](http, key), 401, "invalid_signature")

    assert stored_key(acme, key).status == "active"


@pytest.mark.parametrize("age", [0, 290, -290])
def test_a_request_signed_within_the_window_revokes_the_key(
    acme: Factory, http: TestClient, age: int
) -> None:
    key = create_key(acme)

    response = post_report(http, report(key.secret), at=now() - age)

    assert labels(response) == ["true_positive"]
    assert stored_key(acme, key).status == "revoked"
    [event] = audit_of(acme, "apikey.leak_reported")
    assert event.actor == "leak-report:api"


def test_a_replayed_request_changes_nothing_more(acme: Factory, http: TestClient) -> None:
    key = create_key(acme)
    body = report(key.secret)
    header = signed.sign(REPORT_SECRET.encode(), body, now())

    assert labels(raw(http, body, header)) == labels(raw(http, body, header)) == ["true_positive"]

    assert len(audit_of(acme, "apikey.revoke")) == 1


def test_without_a_shared_secret_the_endpoint_is_not_there(settings: Settings) -> None:
    with app_client(settings) as http:
        assert_problem(post_report(http, report("x")), 404, "not_found")


def test_a_shared_secret_shorter_than_32_characters_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="32"):
        Settings(leak_report_secret="short", _env_file=None)  # type: ignore[call-arg]
