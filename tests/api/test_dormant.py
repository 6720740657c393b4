"""Dormant credentials: the ``last_used_before`` filter and the report (JSON, CSV, CLI) read one
rule: last used before the date, or never used and created before it; active ones only."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from gatepass.apikeys.models import ApiKey
from gatepass.clients.models import OAuthClient
from gatepass.db import utcnow
from gatepass.settings import Settings
from tests.api.support import api, assert_problem, bearer_caller
from tests.apikeys.support import create_key, revoke
from tests.cli.harness import Cli
from tests.factories import Factory

DAY = timedelta(days=1)


def aged(factory: Factory, model: type, ref_column: str, ref: str, **ages: timedelta) -> None:
    """Move a credential's created_at / last_used_at into the past."""
    values = {column: utcnow() - age for column, age in ages.items()}
    with factory.db.transaction() as session:
        session.execute(update(model).where(getattr(model, ref_column) == ref).values(**values))


@pytest.fixture
def dormant(factory: Factory) -> dict[str, str]:
    """acme with: a key used 200 days ago, a client never used and made 100 days ago, a client
    used yesterday, a revoked key unused for a year, and a key named like a formula."""
    factory.tenant()
    old_key = create_key(factory, name="old sync")
    aged(factory, ApiKey, "key_id", old_key.key_id, created_at=300 * DAY, last_used_at=200 * DAY)
    never = factory.client(name="never used")
    aged(factory, OAuthClient, "client_id", never.client_id, created_at=100 * DAY)
    busy = factory.client(name="busy")
    aged(factory, OAuthClient, "client_id", busy.client_id, created_at=100 * DAY, last_used_at=DAY)
    gone = create_key(factory, name="gone")
    aged(factory, ApiKey, "key_id", gone.key_id, created_at=400 * DAY, last_used_at=365 * DAY)
    revoke(factory, gone)
    formula = create_key(factory, name='=HYPERLINK("http://evil")')
    aged(factory, ApiKey, "key_id", formula.key_id, created_at=95 * DAY)
    return {"old": old_key.key_id, "never": never.client_id, "busy": busy.client_id,
            "formula": formula.key_id}  # fmt: skip


def test_the_report_lists_active_credentials_unused_for_the_days(
    dormant: dict[str, str], factory: Factory, client: TestClient
) -> None:
    reader = bearer_caller(client, factory, "acme", role="viewer")
    answer = reader.request(client, "GET", api("acme", "/dormant-credentials"), params={"days": 90})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    # Least recently used first: last used 200 days ago, then made 100 and 95 days ago, unused.
    ids = [i["id"] for i in items]
    assert ids == [dormant["old"], dormant["never"], dormant["formula"]]
    assert dormant["busy"] not in ids  # used yesterday
    assert items[0]["last_used_at"] is not None
    assert answer.json()["days"] == 90


def test_the_csv_is_one_row_per_credential_and_never_a_formula(
    dormant: dict[str, str], factory: Factory, client: TestClient
) -> None:
    reader = bearer_caller(client, factory, "acme", role="viewer")
    answer = reader.request(
        client, "GET", api("acme", "/dormant-credentials"), params={"days": 90, "format": "csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["id"] for r in rows} == {dormant["old"], dormant["never"], dormant["formula"]}
    named = {r["id"]: r["name"] for r in rows}
    assert named[dormant["formula"]] == '\'=HYPERLINK("http://evil")'


def test_the_list_filter_reads_the_same_rule(
    dormant: dict[str, str], factory: Factory, client: TestClient
) -> None:
    reader = bearer_caller(client, factory, "acme", role="viewer")
    since = (utcnow() - 90 * DAY).isoformat()
    clients = reader.request(
        client, "GET", api("acme", "/clients"), params={"last_used_before": since}
    ).json()["items"]
    assert [c["client_id"] for c in clients] == [dormant["never"]]
    keys = reader.request(
        client, "GET", api("acme", "/api-keys"), params={"last_used_before": since[:19]}
    ).json()["items"]  # a time without an offset is UTC
    assert {k["id"] for k in keys} >= {dormant["old"], dormant["formula"]}


@pytest.mark.parametrize("days", [0, 3651, "ninety"])
def test_a_wrong_day_count_is_refused(factory: Factory, client: TestClient, days: object) -> None:
    factory.tenant()
    reader = bearer_caller(client, factory, "acme", role="viewer")
    path = api("acme", "/dormant-credentials")
    answer = reader.request(client, "GET", path, params={"days": days})
    assert_problem(answer, 422)


def test_the_cli_prints_the_report(dormant: dict[str, str], settings: Settings) -> None:
    cli = Cli.on(settings)
    shown = cli.json("report", "dormant", "--tenant", "acme", "--days", "90")
    assert {d["id"] for d in shown} == {dormant["old"], dormant["never"], dormant["formula"]}
    text = cli.ok("report", "dormant", "--tenant", "acme", "--days", "90", "--csv")
    assert text.splitlines()[0] == "kind,id,name,created_by,created_at,last_used_at,expires_at"
    error = cli.fails("report", "dormant", "--tenant", "acme", "--days", "0")
    assert "days must be 1 to 3650" in error
