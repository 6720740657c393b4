"""Expiry reminders at 30, 7 and 1 days, for OAuth clients and API keys, through a real SMTP
server: once per (credential, threshold, expiry) and recipient, also over several runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gatepass.apikeys import service as apikeys
from gatepass.clients import service as clients
from gatepass.clients.kind import CLIENT
from gatepass.credentials import lifecycle
from gatepass.db import Database
from gatepass.jobs.runner import JobContext
from gatepass.reminders import job
from gatepass.reminders.service import nearest_threshold
from gatepass.settings import Settings
from tests.factories import ACTOR, Factory
from tests.http.support import tenant_session
from tests.reminders.support import (
    Mailbox,
    about,
    later,
    make_client,
    make_key,
    recorded,
    run_at,
    user_actor,
)

MAKERS: dict[str, Callable[..., str]] = {"client": make_client, "api_key": make_key}
ADMINS = ["ada@example.com", "bob@example.com"]


@pytest.mark.parametrize(
    ("left", "threshold"),
    [
        (timedelta(days=40), None),
        (timedelta(days=30, seconds=1), None),
        (timedelta(days=30), 30),
        (timedelta(days=7, seconds=1), 30),
        (timedelta(days=5), 7),
        (timedelta(days=1), 1),
        (timedelta(minutes=1), 1),
    ],
)
def test_the_nearest_threshold_reached_is_the_one_due(
    left: timedelta, threshold: int | None
) -> None:
    assert nearest_threshold(left) == threshold


@pytest.mark.parametrize("kind", MAKERS)
def test_each_threshold_is_mailed_once_to_each_recipient(
    kind: str, people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    ref = MAKERS[kind](people, by=user_actor("ada@example.com"), expires_at=later(40))

    assert run_at(mailed, later(5)) == 0  # 35 days left: nothing yet
    for days, threshold in ((10.5, 30), (33.5, 7), (39.5, 1)):
        before = len(mailbox.messages)
        assert run_at(mailed, later(days)) == len(ADMINS)
        assert run_at(mailed, later(days)) == 0  # a second run tells nobody again
        new = mailbox.messages[before:]
        assert sorted(str(m["To"]) for m in new) == ADMINS
        text = new[0].get_content()
        assert ref in text
        assert ("“billing”" if kind == "client" else "“export”") in text
        assert f"in {threshold} day" in text
        assert "http://testserver/console/acme/" in text
    assert len(about(mailbox, ref)) == 3 * len(ADMINS)


@pytest.mark.parametrize("kind", MAKERS)
def test_a_credential_past_several_thresholds_gets_only_the_nearest(
    kind: str, people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    MAKERS[kind](people, by=ACTOR, expires_at=later(5))
    assert run_at(mailed, later(0)) == len(ADMINS)
    assert run_at(mailed, later(0.1)) == 0
    assert {(r, t) for r, t, _ in recorded(people)} == {("expiry", 7)}
    assert "in 7 days or less" in mailbox.messages[0].get_content()


def test_a_new_expiry_date_arms_the_reminders_again(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    client_id = make_client(people, by=ACTOR, expires_at=later(5))
    key_id = make_key(people, by=ACTOR, expires_at=later(5))
    assert run_at(mailed, later(0)) == 2 * len(ADMINS)
    extended = clients.ClientChanges(expires_at=later(6))
    with tenant_session(people, "acme") as (session, t):
        clients.edit_client(session, t, client_id, extended, actor=ACTOR)
        apikeys.edit_key(
            session, t, key_id, apikeys.ApiKeyChanges(expires_at=later(6)), actor=ACTOR
        )
    assert run_at(mailed, later(0)) == 2 * len(ADMINS)
    assert run_at(mailed, later(0)) == 0
    assert len(about(mailbox, client_id)) == len(about(mailbox, key_id)) == 2 * len(ADMINS)


def test_inactive_credentials_get_no_reminder(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    revoked = make_client(people, by=ACTOR, expires_at=later(5), name="gone")
    with tenant_session(people, "acme") as (session, t):
        lifecycle.revoke(session, t, CLIENT, revoked, actor=ACTOR)
    make_client(people, by=ACTOR, expires_at=later(60), name="later")
    make_client(people, by=ACTOR, name="never expires")
    assert run_at(mailed, later(0)) == 0
    assert run_at(mailed, later(8)) == 0  # the revoked one would be expired by now anyway
    assert mailbox.messages == []


def test_a_run_stops_at_its_limit_and_the_next_run_tells_the_rest(
    people: Factory, mailed: Settings, mailbox: Mailbox
) -> None:
    for i in range(3):
        make_client(people, by=ACTOR, expires_at=later(5), name=f"c{i}")
    db = Database(mailed.effective_database_url)
    try:
        ctx = JobContext(db=db, settings=mailed, now=later(0))
        assert job.tell(ctx, job.due(ctx), limit=3) == 4  # a notice is told to all its people
        assert job.tell(ctx, job.due(ctx), limit=3) == 2
        assert job.tell(ctx, job.due(ctx), limit=3) == 0
    finally:
        db.dispose()
    assert len(mailbox.messages) == 3 * len(ADMINS)
