"""The console's sign-in under attack, in process: the same throttle, password-check slots and
connection rules as the API's sign-in (one implementation), answered as readable pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.sessions.throttle import SignInPolicy
from gatepass.settings import Settings
from gatepass.users import passwords
from tests import conftest as suite
from tests.controls import CHARS, captured_logs, stored
from tests.factories import Factory
from tests.sign_ins import FromAddress, PoolWatch, api_sign_in, console_sign_in, services_of
from tests.windows import wait_for_a_fresh_window

PASSWORD = "correct horse battery"  # the factory's
ALICE = "alice@example.com"
ATTACKER, OWNER = "10.0.0.66", "192.0.2.10"

# Each test has a database of its own (no server: the app runs in process): the tests make
# tenants ``acme`` and ``globex`` and count every query.
settings = suite.settings


@pytest.fixture(autouse=True)
def one_window() -> None:
    """Each test counts attempts up to a limit: none straddles the end of a window."""
    wait_for_a_fresh_window(SignInPolicy().window)


@pytest.fixture
def http(settings: Settings, factory: Factory) -> Iterator[TestClient]:
    factory.tenant()
    factory.user("acme", email=ALICE, role="admin")
    with TestClient(FromAddress(create_app(settings)), raise_server_exceptions=False) as made:
        yield made


def is_sign_in_page(answer_text: str, message: str) -> bool:
    return "<form" in answer_text and message in answer_text


def test_an_attackers_flood_is_refused_and_the_owner_still_signs_in(
    http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(services_of(http).sign_ins, "wait", wait)
    statuses = [
        console_sign_in(http, ALICE, "a wrong guess", source=ATTACKER).status_code
        for _ in range(15)
    ]
    assert statuses == [401] * 10 + [429] * 5, statuses
    refused = console_sign_in(http, ALICE, PASSWORD, source=ATTACKER)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"].startswith("text/html")
    assert is_sign_in_page(refused.text, "Too many sign-in attempts")

    owner = console_sign_in(http, ALICE, PASSWORD, source=OWNER)
    assert owner.status_code == 303, owner.text
    assert owner.headers["location"] == "/console/acme/credentials"
    assert "gatepass_session=" in owner.headers["set-cookie"]
    assert all(0 < seconds <= SignInPolicy().max_delay for seconds in waits), waits


def test_the_api_and_the_console_count_the_same_attempts(http: TestClient) -> None:
    services_of(http).sign_ins.throttle.policy = SignInPolicy(per_source_account=4)
    for _ in range(2):
        assert api_sign_in(http, ALICE, "a wrong guess", source=ATTACKER).status_code == 401
        assert console_sign_in(http, ALICE, "a wrong guess", source=ATTACKER).status_code == 401
    assert console_sign_in(http, ALICE, "a wrong guess", source=ATTACKER).status_code == 429
    assert api_sign_in(http, ALICE, "a wrong guess", source=ATTACKER).status_code == 429
    assert api_sign_in(http, ALICE, PASSWORD, source=OWNER).status_code == 201
    assert console_sign_in(http, ALICE, PASSWORD, source=OWNER).status_code == 303


def test_unknown_emails_are_throttled_like_real_ones(http: TestClient) -> None:
    services_of(http).sign_ins.throttle.policy = SignInPolicy(per_source_account=3)
    for email, tenant in ((ALICE, ""), ("nobody@example.com", ""), ("nemo@example.com", "acme")):
        statuses = [
            console_sign_in(http, email, "wrong", source=ATTACKER, tenant=tenant).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429], (email, tenant, statuses)


def test_every_password_slot_taken_answers_a_busy_page_at_once(http: TestClient) -> None:
    services = services_of(http)
    http.get("/realms/acme/.well-known/openid-configuration")
    watch = PoolWatch(services.db.engine)
    with ExitStack() as stack:
        for _ in range(services.sign_ins.slots.size):
            assert stack.enter_context(services.sign_ins.slots.slot())
        with watch.watching():
            busy = console_sign_in(http, ALICE, PASSWORD, source=OWNER)
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert is_sign_in_page(busy.text, "The server is busy")
    assert "gatepass_session=" not in busy.headers.get("set-cookie", "")
    assert watch.statements == 0
    assert console_sign_in(http, ALICE, PASSWORD, source=OWNER).status_code == 303


def test_no_connection_is_held_while_passwords_are_checked(
    http: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory.tenant("globex")
    factory.user("globex", email=ALICE, role="viewer")
    factory.user("globex", email="bob@example.com", role="viewer", password="another password 1")
    factory.user("acme", email="bob@example.com", role="viewer", password="a third password 1")
    watch = PoolWatch(services_of(http).db.engine)
    held: list[int] = []
    original: Callable[[str | None, str], bool] = passwords.verify

    def spy(stored_hash: str | None, password: str) -> bool:
        held.append(watch.held())
        return original(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", spy)
    with watch.watching():
        unknown = console_sign_in(http, "nobody@example.com", "wrong", source=OWNER)
        several = console_sign_in(http, ALICE, PASSWORD, source=OWNER)
        nowhere = console_sign_in(http, "bob@example.com", "wrong guess", source=OWNER)
        one = console_sign_in(http, "bob@example.com", "another password 1", source=OWNER)
    assert [unknown.status_code, several.status_code, nowhere.status_code] == [401, 409, 401]
    assert 'value="globex"' in several.text
    assert 'value="acme"' in several.text
    assert one.status_code == 303
    assert one.headers["location"] == "/console/globex/credentials"
    assert held == [0] * 7  # 1 dummy, 2 for each email with two accounts


def test_an_exhausted_connection_pool_answers_a_503_page(
    settings: Settings, factory: Factory
) -> None:
    factory.tenant()
    factory.user("acme", email=ALICE, role="admin")
    tiny = settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout": 0.2}
    )
    with TestClient(FromAddress(create_app(tiny)), raise_server_exceptions=False) as http:
        signed_in = console_sign_in(http, ALICE, PASSWORD, source=OWNER)
        cookie = signed_in.cookies["gatepass_session"]
        services = services_of(http)
        services.cache.stop()  # its polling would compete for the one connection
        with ExitStack() as hold, captured_logs() as logs:
            hold.enter_context(services.db.engine.connect())
            answers = [console_sign_in(http, ALICE, PASSWORD, source=OWNER)]
            http.cookies.set("gatepass_session", cookie)
            answers.append(http.get("/console/acme/credentials"))
        for answer in answers:
            assert answer.status_code == 503, answer.text
            assert answer.headers["content-type"].startswith("text/html")
            assert int(answer.headers["retry-after"]) > 0
        assert "Traceback" not in logs.text
        assert "management request failed" not in logs.text


@pytest.mark.parametrize("bad", CHARS)
def test_a_control_character_in_the_email_is_refused_before_any_query(
    http: TestClient, bad: str
) -> None:
    db = services_of(http).db
    before = stored(db)
    watch = PoolWatch(db.engine)
    with watch.watching(), captured_logs() as logs:
        answers = [
            console_sign_in(http, f"alice{bad}@example.com", PASSWORD, source=OWNER),
            console_sign_in(http, f"{ALICE}{bad}", PASSWORD, source=OWNER),
            console_sign_in(http, ALICE, PASSWORD, source=OWNER, tenant=f"ac{bad}me"),
        ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert is_sign_in_page(answer.text, "must not contain control characters")
        assert bad not in answer.text
        assert "gatepass_session=" not in answer.headers.get("set-cookie", "")
    assert watch.statements == 0
    logs.assert_clean()
    assert stored(db) == before
