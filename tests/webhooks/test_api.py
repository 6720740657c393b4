"""The webhook routes of the management API, with deliveries to a real receiver: the secret
shown once, test events, the delivery log, redelivery, rotation and refused input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.audit.models import AuditEvent
from gatepass.settings import Settings
from gatepass.webhooks.models import WebhookEndpoint
from tests.api.support import Caller, api, assert_problem, bearer_caller
from tests.factories import Factory
from tests.webhooks.receiver import Receiver
from tests.webhooks.support import deliver

HOOKS = api("acme", "/webhooks")


@pytest.fixture
def http(local_settings: Settings, acme: Factory) -> Iterator[TestClient]:
    with TestClient(create_app(local_settings), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def admin(http: TestClient, acme: Factory) -> Caller:
    return bearer_caller(http, acme, "acme")


def add(http: TestClient, admin: Caller, url: str, **fields: Any) -> dict[str, Any]:
    response = admin.request(http, "POST", HOOKS, json={"url": url, **fields})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_an_endpoint_gets_a_signed_test_event_logged_and_redelivered(
    http: TestClient, admin: Caller, acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    created = add(http, admin, receiver.url, description="Ops")
    secret = created["secret"]
    assert secret.startswith("whsec_")
    shown = admin.request(http, "GET", f"{HOOKS}/{created['id']}").json()
    assert "secret" not in shown
    assert shown["events"] == []
    assert secret not in admin.request(http, "GET", HOOKS).text

    queued = admin.request(http, "POST", f"{HOOKS}/{created['id']}/test")
    assert queued.status_code == 202, queued.text
    assert deliver(acme, local_settings) == 1
    (received,) = receiver.received
    assert received.headers["webhook-id"] == queued.json()["message_id"]
    assert received.verify(secret)["type"] == "webhook.test"

    url = f"{HOOKS}/{created['id']}/deliveries/{queued.json()['message_id']}/redeliver"
    assert admin.request(http, "POST", url).status_code == 202
    assert deliver(acme, local_settings) == 1
    assert [r.headers["webhook-id"] for r in receiver.received] == [queued.json()["message_id"]] * 2
    log = admin.request(http, "GET", f"{HOOKS}/{created['id']}/deliveries").json()
    assert [(d["attempt"], d["status_code"], d["succeeded"]) for d in log["items"]] == [
        (2, 200, True),
        (1, 200, True),
    ]
    assert audit_text(acme).count("webhook.") == 3  # create, test, redeliver
    assert secret not in audit_text(acme)


def test_rotating_the_secret_signs_the_next_attempts_with_the_new_one(
    http: TestClient, admin: Caller, acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    created = add(http, admin, receiver.url)
    rotated = admin.request(http, "POST", f"{HOOKS}/{created['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"]

    admin.request(http, "POST", f"{HOOKS}/{created['id']}/test")
    deliver(acme, local_settings)

    (received,) = receiver.received
    received.verify(new_secret)
    with pytest.raises(Exception, match="signature"):
        received.verify(created["secret"])
    assert new_secret not in audit_text(acme)


def test_credential_changes_through_the_api_reach_the_endpoint(
    http: TestClient, admin: Caller, acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    created = add(http, admin, receiver.url, events=["credential.created"])
    key = admin.request(http, "POST", api("acme", "/api-keys"), json={"name": "Reporting"})
    assert key.status_code == 201, key.text

    deliver(acme, local_settings)

    (received,) = receiver.received
    body = received.verify(created["secret"])
    assert body["data"]["id"] == key.json()["id"]
    assert key.json()["key"].encode() not in received.body


def test_a_disabled_endpoint_gets_nothing_and_takes_no_test(
    http: TestClient, admin: Caller, acme: Factory, local_settings: Settings, receiver: Receiver
) -> None:
    created = add(http, admin, receiver.url)
    patched = admin.request(http, "PATCH", f"{HOOKS}/{created['id']}", json={"enabled": False})
    assert patched.json()["enabled"] is False
    admin.request(http, "POST", api("acme", "/api-keys"), json={"name": "quiet"})

    refused = admin.request(http, "POST", f"{HOOKS}/{created['id']}/test")

    assert_problem(refused, 409)
    assert deliver(acme, local_settings) == 0
    assert receiver.received == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://hooks.example.com/"}, "https"),
        ({"url": "http://hooks.example.com/"}, "https"),
        ({"url": "https://user:pw@hooks.example.com/"}, "user name"),
        ({"url": "https://hooks.example.com/#frag"}, "fragment"),
        ({"url": "https://10.1.2.3/hooks"}, "private"),
        ({"url": "https://hooks.example.com/", "events": ["credential.exploded"]}, "events"),
        ({"url": "https://hooks.example.com/", "secret": "whsec_mine"}, "secret"),
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(
    client: TestClient, factory: Factory, body: dict[str, Any], field: str
) -> None:
    """On the default settings: neither plain HTTP nor private addresses."""
    factory.tenant("acme")
    admin = bearer_caller(client, factory, "acme")

    response = admin.request(client, "POST", HOOKS, json=body)

    problem = assert_problem(response, 422)
    assert field in response.text
    assert "pw@" not in str(problem)
    with factory.db.read() as session:
        assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_server_sends_due_webhooks_by_itself(
    local_settings: Settings, acme: Factory, receiver: Receiver
) -> None:
    running = local_settings.model_copy(update={"webhook_interval": 0.05})
    with TestClient(create_app(running), base_url="http://testserver") as http:
        admin = bearer_caller(http, acme, "acme")
        created = add(http, admin, receiver.url)
        admin.request(http, "POST", f"{HOOKS}/{created['id']}/test")
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
    assert receiver.types() == ["webhook.test"]


def audit_text(factory: Factory) -> str:
    with factory.db.read() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return "\n".join(f"{e.action} {e.target} {e.details}" for e in events)


def test_the_audit_log_shows_an_endpoint_s_host_never_its_path_or_query(
    http: TestClient, admin: Caller, acme: Factory
) -> None:
    # Incoming-webhook URLs carry their own token; every role may read the audit log.
    url = "https://hooks.example.com/services/T0/B0/TOKEN1?token=TOKEN2"
    created = add(http, admin, url)
    patched = admin.request(
        http, "PATCH", f"{HOOKS}/{created['id']}", json={"url": url.replace("1", "3")}
    )
    assert patched.status_code == 200, patched.text
    admin.request(http, "DELETE", f"{HOOKS}/{created['id']}")

    with acme.db.read() as session:
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action.like("webhook.%")))
        )
    assert [e.action for e in events] == ["webhook.create", "webhook.update", "webhook.delete"]
    assert events[0].details["url"] == "https://hooks.example.com"
    assert events[1].details == {"url_changed": True}
    assert not [e for e in events if "TOKEN" in str(e.details)]
