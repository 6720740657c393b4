"""The lease per job: taken by one node at a time (also when nodes race for it), only when the
job is due, released with the run's result, and taken over once a dead holder's lease ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from gatepass.db import Database, utcnow
from gatepass.jobs import leases
from gatepass.jobs.leases import Refusal
from gatepass.settings import Settings

LEASE = timedelta(minutes=15)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.effective_database_url)
    yield database
    database.dispose()


def take(db: Database, holder: str, *, due_before: object = None) -> Refusal | None:
    return leases.take(db, "test.job", holder=holder, lease=LEASE, due_before=due_before)  # type: ignore[arg-type]


def test_one_holder_at_a_time_and_free_again_after_release(db: Database) -> None:
    assert take(db, "a") is None
    assert take(db, "b") is Refusal.HELD
    leases.release(db, "test.job", holder="a", result="done")
    assert take(db, "b") is None
    row = leases.all_leases(db)["test.job"]
    assert (row.holder, row.last_result) == ("b", "done")
    assert row.last_run_at is not None


def test_a_job_is_taken_only_when_due(db: Database) -> None:
    assert take(db, "a") is None
    leases.release(db, "test.job", holder="a", result="done")
    an_hour_ago = utcnow() - timedelta(hours=1)
    assert take(db, "b", due_before=an_hour_ago) is Refusal.NOT_DUE
    assert take(db, "b", due_before=utcnow()) is None


def test_a_lease_whose_holder_died_is_taken_over_when_it_ends(db: Database) -> None:
    assert leases.take(db, "test.job", holder="dead", lease=timedelta(0), due_before=None) is None
    assert take(db, "alive") is None
    leases.release(db, "test.job", holder="dead", result="done")  # too late: changes nothing
    row = leases.all_leases(db)["test.job"]
    assert (row.holder, row.last_run_at) == ("alive", None)


@pytest.mark.parametrize("exists", [False, True], ids=["first lease", "existing lease"])
def test_of_nodes_racing_for_a_lease_exactly_one_wins(settings: Settings, exists: bool) -> None:
    """Eight threads, each with its own connection pool as a node would have, at once."""
    nodes = [Database(settings.effective_database_url) for _ in range(8)]
    try:
        for round_ in range(5):
            name = f"race.{round_}"
            if exists:
                leases.take(nodes[0], name, holder="setup", lease=LEASE, due_before=None)
                leases.release(nodes[0], name, holder="setup", result="done")
            start = threading.Barrier(len(nodes))

            def race(i: int, name: str = name, start: threading.Barrier = start) -> bool:
                start.wait()
                return (
                    leases.take(nodes[i], name, holder=f"n{i}", lease=LEASE, due_before=None)
                    is None
                )

            with ThreadPoolExecutor(len(nodes)) as pool:
                won = list(pool.map(race, range(len(nodes))))
            assert won.count(True) == 1, won
            assert leases.all_leases(nodes[0])[name].holder == f"n{won.index(True)}"
    finally:
        for node in nodes:
            node.dispose()
