"""What a report does, at the service level: labels keep the request's order, and two reports of
one secret at once act on it once."""

from __future__ import annotations

import threading

import pytest

from gatepass import credential_secrets as cs
from gatepass.leaks import service
from gatepass.leaks.reports import Report
from gatepass.settings import Settings
from tests.apikeys.support import create_key
from tests.factories import Factory
from tests.leaks.support import audit_of

ACTOR = service.system_actor("tests")


def reported(token: str) -> Report:
    return Report(cs.Plaintext(token), "gatepass", "https://example.test/", "content")


def test_labels_come_back_in_the_order_reported(acme: Factory) -> None:
    keys = [create_key(acme, name=f"key {n}").secret for n in range(5)]
    unknown = [cs.generate(cs.SecretKind.API_KEY).reveal() for _ in range(5)]
    tokens = [t for pair in zip(keys, unknown, strict=True) for t in pair]

    labels, notices = service.assess(
        acme.db, acme.hasher, [reported(t) for t in tokens], actor=ACTOR
    )

    assert [item["label"] for item in labels] == ["true_positive", "false_positive"] * 5
    assert [item["token_hash"] for item in labels] == [reported(t).token_hash() for t in tokens]
    assert sorted(n.name for n in notices) == [f"key {n}" for n in range(5)]


def test_two_reports_of_one_secret_at_once_act_once(settings: Settings, acme: Factory) -> None:
    if settings.effective_database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one writing transaction at a time: no race to lose")
    key = create_key(acme)
    start = threading.Barrier(2)
    results: list[int] = []

    def report_it() -> None:
        start.wait()
        _, notices = service.assess(acme.db, acme.hasher, [reported(key.secret)], actor=ACTOR)
        results.append(len(notices))

    threads = [threading.Thread(target=report_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [0, 1]
    assert len(audit_of(acme, "apikey.revoke")) == 1
