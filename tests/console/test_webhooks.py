"""The Webhooks page: adding an endpoint (its secret shown once), a test event that a real
receiver gets and verifies, the delivery log, redelivery, disabling and deleting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from gatepass.settings import Settings
from gatepass.webhooks.models import WebhookAttempt
from tests import conftest as suite
from tests.console import conftest as browser_tests
from tests.console.conftest import Console, Mailbox, with_mail
from tests.console.pages import confirm, copy, row
from tests.e2e import conftest as e2e
from tests.factories import Factory
from tests.http.support import poll
from tests.webhooks.receiver import Receiver, running_receiver

pytestmark = pytest.mark.e2e

# A server of the test's own, allowed to send to the receiver on 127.0.0.1 over plain HTTP.
settings = suite.settings
console_server = browser_tests.own_server


@pytest.fixture
def gatepass_env(settings: Settings, tmp_path: Path, mailbox: Mailbox) -> dict[str, str]:
    env = with_mail(e2e.base_env(settings, tmp_path), mailbox)
    env.update(
        GATEPASS_WEBHOOK_ALLOW_HTTP="true",
        GATEPASS_WEBHOOK_ALLOW_PRIVATE="true",
        GATEPASS_WEBHOOK_INTERVAL="0.2",
    )
    return env


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def attempts_logged(factory: Factory) -> int:
    with factory.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(WebhookAttempt)) or 0)


def test_an_admin_adds_an_endpoint_tests_it_and_reads_the_delivery_log(
    console: Console, factory: Factory, receiver: Receiver
) -> None:
    page = console.page
    console.sign_in_as_admin(factory)
    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    page.get_by_role("button", name="Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add endpoint")
    dialog.get_by_label("URL").fill(receiver.url)
    dialog.get_by_label("Description").fill("Ops alerts")
    dialog.get_by_role("button", name="Add endpoint").click()

    shown = page.get_by_role("dialog", name=f"Signing secret for {receiver.url}")
    expect(shown).to_contain_text("will not be shown again")
    secret = copy(page, shown, "Signing secret")
    assert secret.startswith("whsec_")
    console.screenshot("webhook-secret")
    shown.get_by_role("button", name="Done").click()
    expect(row(page, receiver.url)).to_contain_text("Enabled")
    page.reload()
    assert secret not in page.content()
    console.screenshot("webhooks")

    page.get_by_label(f"Actions for {receiver.url}").click()
    row(page, receiver.url).get_by_role("button", name="Send test event").click()
    expect(page.get_by_role("heading", name=f"Deliveries to {receiver.url}")).to_be_visible()
    poll(lambda: list(receiver.received), bool, timeout=30)
    assert receiver.received[0].verify(secret)["type"] == "webhook.test"
    # The attempt is logged once the receiver's answer is read, just after it received it.
    poll(lambda: attempts_logged(factory), bool, timeout=30)
    page.reload()
    expect(page.get_by_role("row").filter(has_text="webhook.test")).to_contain_text("200")
    console.screenshot("webhook-deliveries")

    page.get_by_role("button", name="Redeliver").click()
    poll(lambda: len(receiver.received), lambda n: n == 2, timeout=30)
    assert receiver.received[1].headers["webhook-id"] == receiver.received[0].headers["webhook-id"]

    page.get_by_role("link", name="All endpoints").click()
    page.get_by_label(f"Actions for {receiver.url}").click()
    row(page, receiver.url).get_by_role("button", name="Disable").click()
    expect(row(page, receiver.url)).to_contain_text("Disabled")
    confirm(page, receiver.url, "Delete", f"Delete the endpoint {receiver.url}?", "Delete")
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()


def test_a_refused_url_is_explained_in_the_form(console: Console, factory: Factory) -> None:
    page = console.page
    console.expect_error("422")  # the form comes back with its error, as a 422
    console.sign_in_as_admin(factory)
    page.goto(console.tenant_url("webhooks"))
    page.get_by_role("button", name="Add endpoint").click()
    dialog = page.get_by_role("dialog", name="Add endpoint")
    dialog.get_by_label("URL").fill("http://hooks.example.com/")  # plain http: loopback only
    dialog.get_by_role("button", name="Add endpoint").click()

    expect(page.get_by_role("dialog", name="Add endpoint")).to_contain_text("url must use https")
    expect(page.get_by_text("No endpoints yet.")).to_be_visible()
