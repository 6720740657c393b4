"""``gatepass jobs run-once`` (for cron) and ``gatepass jobs list``, on the real database and a
real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatepass.schedule import JOBS
from gatepass.settings import Settings
from tests.cli.harness import Cli
from tests.factories import Factory
from tests.reminders.support import Mailbox, later, started_mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from started_mailbox()


def test_run_once_runs_the_due_jobs_and_list_shows_how_they_went(
    settings: Settings, factory: Factory, mailbox: Mailbox
) -> None:
    factory.tenant()
    factory.user(email="ada@example.com", role="admin")
    made = factory.client("acme", name="billing", expires_at=later(5))
    base = Cli.on(settings)
    cli = Cli(
        {
            **base.env,
            "GATEPASS_SMTP_HOST": "127.0.0.1",
            "GATEPASS_SMTP_PORT": str(mailbox.port),
            "GATEPASS_SMTP_SECURITY": "none",
        }
    )
    jobs = cli.json("jobs", "list")
    assert [job["job"] for job in jobs] == [job.name for job in JOBS]
    assert jobs[0] == {
        "job": "credentials.reminders",
        "interval": 3600,
        "last_run_at": None,
        "last_result": "",
        "holder": "",
    }
    table = cli.ok("jobs", "run-once")
    assert "credentials.reminders" in table
    assert "done" in table
    assert [str(m["To"]) for m in mailbox.messages] == ["ada@example.com"]
    assert made.client_id in mailbox.messages[0].get_content()

    again = cli.json("jobs", "run-once")
    assert again[0] == {"job": "credentials.reminders", "did": None, "result": "not due"}
    forced = cli.json("jobs", "run-once", "--force")
    assert forced[0] == {"job": "credentials.reminders", "did": 0, "result": "done"}
    assert len(mailbox.messages) == 1

    listed = cli.json("jobs", "list")[0]
    assert listed["last_result"] == "done"
    assert listed["last_run_at"] is not None
    assert "credentials.reminders" in cli.ok("jobs", "list")
