"""The mail that tells a credential's owner, creator and the tenant's administrators of a leak,
through a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from gatepass.apikeys.kind import API_KEY
from gatepass.audit.service import Actor
from gatepass.clients import service as clients
from gatepass.credentials import lifecycle
from gatepass.settings import Settings
from gatepass.tenants.service import TenantSettings
from gatepass.users.models import User
from tests.apikeys.support import create_key, create_user, stored_key
from tests.e2e.conftest import free_port
from tests.factories import ACTOR, Factory
from tests.http.support import tenant_session, update_tenant
from tests.leaks.support import (
    GitHubSigner,
    app_client,
    audit_of,
    keys_document,
    labels,
    post_github,
    report,
)
from tests.mailbox import Mailbox, started_mailbox

URL = "https://github.com/octo/app/blob/abc/deploy.sh#L7"


@pytest.fixture
def github() -> GitHubSigner:
    return GitHubSigner("github-key")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from started_mailbox()


def mailing(settings: Settings, github: GitHubSigner, port: int) -> dict[str, object]:
    return {
        "github_scanning_keys": keys_document(github),
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": "none",
        "smtp_from": "Gatepass <gatepass@acme.test>",
    }


@pytest.fixture
def http(settings: Settings, github: GitHubSigner, mailbox: Mailbox) -> Iterator[TestClient]:
    with app_client(settings, **mailing(settings, github, mailbox.port)) as client:
        yield client


def people(factory: Factory) -> None:
    factory.user(email="ada@acme.test", role="admin")
    factory.user(email="bob@acme.test", role="admin")
    factory.user(email="viewer@acme.test", role="viewer")
    create_user(factory, "owner@acme.test", "credentials_manager")


def test_a_personal_key_s_leak_is_mailed_to_its_owner_and_the_admins(
    acme: Factory, http: TestClient, github: GitHubSigner, mailbox: Mailbox
) -> None:
    people(acme)
    key = create_key(acme, name="Nightly export", owner="owner@acme.test")

    assert labels(post_github(http, github, report(key.secret, url=URL))) == ["true_positive"]

    mails = mailbox.wait_for(3)  # one each: nobody sees who else was told
    assert sorted(str(m["To"]) for m in mails) == [
        "ada@acme.test",
        "bob@acme.test",
        "owner@acme.test",
    ]
    mail = mails[0]
    text = mail.get_content()
    assert "Nightly export" in mail["Subject"]
    for said in ("Nightly export", key.key_id, URL, "revoked", key.secret[-4:]):
        assert said in text
    assert key.secret not in mail.as_string()


def test_a_client_s_creator_is_told_when_a_console_user(
    acme: Factory, http: TestClient, github: GitHubSigner, mailbox: Mailbox
) -> None:
    acme.user(email="ada@acme.test", role="admin")
    create_user(acme, "maker@acme.test", "credentials_manager")  # an active console user
    maker = Actor(kind="user", id="maker@acme.test", role="admin")
    with tenant_session(acme, "acme") as (session, tenant):
        spec = clients.NewClient(name="Billing")
        _, secret = clients.create_client(session, tenant, spec, actor=maker, hasher=acme.hasher)

    post_github(http, github, report(secret.reveal(), url=URL))

    mails = mailbox.wait_for(2)
    assert sorted(str(m["To"]) for m in mails) == ["ada@acme.test", "maker@acme.test"]
    assert "OAuth client" in mails[0].get_content()


def test_a_repeated_report_mails_nobody_again(
    acme: Factory, http: TestClient, github: GitHubSigner, mailbox: Mailbox
) -> None:
    people(acme)
    key = create_key(acme)
    post_github(http, github, report(key.secret))
    mailbox.wait_for(2)  # the two admins

    post_github(http, github, report(key.secret))
    probe = create_key(acme, name="probe")
    post_github(http, github, report(probe.secret))

    later = mailbox.wait_for(4)[2:]
    assert all(str(m["Subject"]).endswith("“probe” of Acme") for m in later)
    assert len(mailbox.messages) == 4


def test_a_mail_server_that_is_down_neither_undoes_the_revocation_nor_fails_the_report(
    settings: Settings, acme: Factory, github: GitHubSigner
) -> None:
    people(acme)
    key = create_key(acme)
    with app_client(settings, **mailing(settings, github, free_port())) as http:
        assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]

    assert stored_key(acme, key).status == "revoked"


def test_a_user_who_has_left_is_not_told(
    acme: Factory, http: TestClient, github: GitHubSigner, mailbox: Mailbox
) -> None:
    people(acme)
    key = create_key(acme, name="Nightly export", owner="owner@acme.test")
    with acme.db.transaction() as session:
        session.execute(
            update(User).where(User.email == "owner@acme.test").values(status="disabled")
        )

    post_github(http, github, report(key.secret, url=URL))

    mails = mailbox.wait_for(2)
    assert sorted(str(m["To"]) for m in mails) == ["ada@acme.test", "bob@acme.test"]


def test_a_leak_of_a_suspended_credential_s_secret_is_told_once_under_a_suspend_policy(
    acme: Factory, http: TestClient, github: GitHubSigner, mailbox: Mailbox
) -> None:
    # Suspended by an administrator looking into it: resumed, the leaked secret works again.
    update_tenant(acme, "acme", TenantSettings(credential_policy={"leak_action": "suspend"}))
    acme.user(email="ada@acme.test", role="admin")
    key = create_key(acme, name="Nightly export")
    with tenant_session(acme, "acme") as (session, tenant):
        lifecycle.suspend(session, tenant, API_KEY, key.key_id, actor=ACTOR)

    assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]
    assert labels(post_github(http, github, report(key.secret))) == ["true_positive"]

    [mail] = mailbox.wait_for(1)
    assert "works again if the credential is resumed" in mail.get_content()
    told = [e.details["action"] for e in audit_of(acme, "apikey.leak_reported")]
    assert told == ["already_suspended"]
    assert stored_key(acme, key).status == "suspended"
    probe = create_key(acme, name="probe")
    post_github(http, github, report(probe.secret))
    mailbox.wait_for(2)
    assert len(mailbox.messages) == 2  # the repeat told nobody
