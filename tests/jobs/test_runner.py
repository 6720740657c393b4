"""Running jobs: due ones only, a failing one recorded and not stopping the others, the server's
job thread, and two runners at once never sending a reminder twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.credentials.policy import CredentialPolicy
from gatepass.db import Database
from gatepass.jobs import leases
from gatepass.jobs.runner import Job, JobContext, JobRunner, run_due
from gatepass.schedule import JOBS
from gatepass.settings import Settings
from tests.factories import ACTOR, Factory
from tests.http.support import poll
from tests.reminders.support import Mailbox, later, mailing, make_client, started_mailbox
from tests.reminders.test_dormancy import set_policy


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


REMINDERS = [job for job in JOBS if job.name == "credentials.reminders"]


def counting(name: str, calls: list[JobContext]) -> Job:
    def run(ctx: JobContext) -> int:
        calls.append(ctx)
        return 2

    return Job(name, interval=3600, run=run)


def failing(ctx: JobContext) -> int:
    raise RuntimeError("boom")


def test_a_due_job_runs_once_per_interval_and_a_failure_does_not_stop_the_others(
    db: Database, settings: Settings
) -> None:
    calls: list[JobContext] = []
    jobs = [Job("test.fails", 3600, failing), counting("test.counts", calls)]
    first = run_due(db, settings, jobs, holder="a")
    assert [(o.job, o.did, o.result) for o in first] == [
        ("test.fails", None, "failed: RuntimeError"),
        ("test.counts", 2, "done"),
    ]
    assert [o.result for o in run_due(db, settings, jobs, holder="b")] == ["not due"] * 2
    assert [o.result for o in run_due(db, settings, jobs, holder="b", force=True)][1] == "done"
    assert len(calls) == 2
    assert calls[0].db is db
    assert calls[0].settings is settings
    assert leases.all_leases(db)["test.fails"].last_result == "failed: RuntimeError"


def test_the_job_thread_runs_due_jobs_until_stopped(db: Database, settings: Settings) -> None:
    calls: list[JobContext] = []
    runner = JobRunner(db, settings, [counting("test.thread", calls)], tick=0.02)
    runner.start()
    try:
        poll(lambda: len(calls), lambda n: n >= 1)
    finally:
        runner.stop()
    assert len(calls) == 1  # an hourly job: once
    assert leases.all_leases(db)["test.thread"].holder == ""


def test_the_product_registers_its_jobs() -> None:
    assert [(job.name, job.interval) for job in JOBS] == [
        ("credentials.reminders", 3600),
        ("webhooks.retention", 3600),
        ("clients.used_assertions", 3600),
    ]


def test_two_runners_at_once_send_each_reminder_once(acme: Factory, settings: Settings) -> None:
    acme.user(email="ada@example.com", role="admin")
    set_policy(acme, CredentialPolicy(dormant_after_days=7))
    for i in range(5):
        make_client(acme, by=ACTOR, expires_at=later(3), name=f"c{i}")
    boxes = started_mailbox()
    box: Mailbox = next(boxes)
    mailed = mailing(settings, box)
    nodes = [Database(mailed.effective_database_url) for _ in range(2)]
    start = threading.Barrier(2)

    def node(i: int) -> list[str]:
        start.wait()
        done = run_due(nodes[i], mailed, REMINDERS, holder=f"n{i}", force=True)
        return [o.result for o in done]

    try:
        with ThreadPoolExecutor(2) as pool:
            results = sorted(pool.map(node, range(2)))
        # one runs the job; the other finds it running (or, had it come after, nothing to do)
        assert ["done"] in results
        assert all(r in (["done"], ["running elsewhere"]) for r in results)
        again = run_due(nodes[0], mailed, REMINDERS, holder="n0", force=True)
        assert [(o.did, o.result) for o in again] == [(0, "done")]
        assert len(box.messages) == 5
    finally:
        boxes.close()
        for db in nodes:
            db.dispose()


@pytest.mark.parametrize(
    ("jobs", "enabled", "runs"),
    [(True, True, True), (True, False, False), (None, True, False)],
    ids=["asked", "disabled by GATEPASS_JOBS_ENABLED", "not a server process"],
)
def test_the_app_runs_the_job_thread_while_it_serves(
    settings: Settings, jobs: bool | None, enabled: bool, runs: bool
) -> None:
    configured = settings.model_copy(update={"jobs_enabled": enabled})
    with TestClient(create_app(configured, jobs=jobs)):
        running = [t.name for t in threading.enumerate() if t.name == "gatepass-jobs"]
        assert running == (["gatepass-jobs"] if runs else [])
    assert "gatepass-jobs" not in [t.name for t in threading.enumerate()]
