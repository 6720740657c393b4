"""The API's sign-in under attack: the guesser is refused, the owner is only slowed; password
checks hold no database connection and are bounded per process; an exhausted connection pool
answers 503, never 500; a control character in the email is refused before any query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from starlette.testclient import TestClient

from gatepass import credential_secrets as cs
from gatepass.app import create_app
from gatepass.ops.ratelimit import RateLimiter
from gatepass.sessions import signing_in
from gatepass.sessions.throttle import SignInPolicy, SignInThrottle
from gatepass.settings import Settings
from gatepass.users import passwords
from gatepass.users.models import User
from tests.api.support import PASSWORD, api, assert_problem, bearer_caller
from tests.controls import CHARS, captured_logs, stored
from tests.factories import Factory
from tests.http.support import basic, token_path
from tests.sign_ins import FromAddress, PoolWatch, api_sign_in, services_of
from tests.windows import wait_for_a_fresh_window

ALICE = "alice@acme.example.com"
ATTACKER, OWNER = "10.0.0.66", "192.0.2.10"


@pytest.fixture(autouse=True)
def one_window() -> None:
    """Each test counts attempts up to a limit: none straddles the end of a window."""
    wait_for_a_fresh_window(SignInPolicy().window)


@pytest.fixture(params=["memory", "redis"])
def counted(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The settings, with sign-in attempts counted in this process or in Redis."""
    if request.param == "memory":
        return settings
    redis_url: str = request.getfixturevalue("redis_url")
    return settings.model_copy(update={"redis_url": redis_url})


@pytest.fixture
def http(counted: Settings, factory: Factory) -> Iterator[TestClient]:
    """The app, Alice an administrator of acme (attempts counted in memory, then in Redis)."""
    factory.tenant()
    factory.user("acme", email=ALICE, role="admin")
    with TestClient(FromAddress(create_app(counted)), raise_server_exceptions=False) as made:
        yield made


@pytest.fixture
def app_http(settings: Settings, factory: Factory) -> Iterator[TestClient]:
    """The same app, counting in memory only (for tests that do not count)."""
    factory.tenant()
    factory.user("acme", email=ALICE, role="admin")
    with TestClient(FromAddress(create_app(settings)), raise_server_exceptions=False) as made:
        yield made


@pytest.fixture
def waits(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the sign-ins ask for (recorded, not slept: no test measures time)."""
    asked: list[float] = []

    async def wait(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(services_of(http).sign_ins, "wait", wait)
    return asked


def throttled_events(http: TestClient, factory: Factory) -> list[str]:
    reader = bearer_caller(http, factory, "acme", "viewer")
    events = reader.request(
        http, "GET", api("acme", "/audit-events"), params={"action": "session.sign_in_failed"}
    ).json()["items"]
    return [e["source_ip"] for e in events if e["details"].get("reason") == "throttled"]


def test_an_attackers_flood_is_refused_and_the_owner_still_signs_in(
    http: TestClient, factory: Factory, waits: list[float]
) -> None:
    policy = SignInPolicy()
    statuses, retry_after = [], set()
    for _ in range(100):
        answer = api_sign_in(http, ALICE, "a wrong guess", source=ATTACKER)
        statuses.append(answer.status_code)
        if answer.status_code == 429:
            assert_problem(answer, 429, "too_many_attempts")
            retry_after.add(int(answer.headers["retry-after"]))
    assert statuses == [401] * policy.per_source_account + [429] * (100 - 10), statuses
    assert all(0 < seconds <= policy.window for seconds in retry_after), retry_after
    # The right password from the attacker's address is refused too: it is the address that
    # is throttled, and a right guess must not get through once it is.
    assert api_sign_in(http, ALICE, PASSWORD, source=ATTACKER).status_code == 429

    owner = api_sign_in(http, ALICE, PASSWORD, source=OWNER)
    assert owner.status_code == 201, owner.text
    assert owner.cookies.get("gatepass_session") or "gatepass_session" in owner.headers.get(
        "set-cookie", ""
    )
    assert all(0 < seconds <= policy.max_delay for seconds in waits), waits
    # The flood is audited once per window here, not once per refused attempt.
    assert throttled_events(http, factory) == [ATTACKER]


def test_an_address_is_refused_per_email_and_over_all_emails(
    http: TestClient, factory: Factory
) -> None:
    factory.user("acme", email="bob@acme.example.com", role="viewer")
    services_of(http).sign_ins.throttle.policy = SignInPolicy(per_source=4, per_source_account=2)
    tries = [
        ("alice@acme.example.com", 401),
        ("alice@acme.example.com", 401),
        ("alice@acme.example.com", 429),  # the address and this email: over 2
        ("bob@acme.example.com", 401),  # the address: 4 attempts so far, within 4
        ("carol@acme.example.com", 429),  # the address: over 4, whatever the email
    ]
    for email, status in tries:
        answer = api_sign_in(http, email, "a wrong guess", source=ATTACKER)
        assert answer.status_code == status, (email, answer.text)
        if status == 429:
            assert int(answer.headers["retry-after"]) > 0
    assert api_sign_in(http, "bob@acme.example.com", PASSWORD, source=OWNER).status_code == 201


def test_unknown_emails_are_throttled_like_real_ones(http: TestClient) -> None:
    services_of(http).sign_ins.throttle.policy = SignInPolicy(per_source_account=3)
    for email in (ALICE, "nobody@acme.example.com"):
        statuses = [
            api_sign_in(http, email, "a wrong guess", source=ATTACKER).status_code for _ in range(5)
        ]
        assert statuses == [401, 401, 401, 429, 429], (email, statuses)


def test_guesses_from_many_addresses_slow_the_email_down_but_never_lock_it(
    http: TestClient, waits: list[float]
) -> None:
    policy = SignInPolicy(slow_after=3, step=0.5, max_delay=1.5)
    services_of(http).sign_ins.throttle.policy = policy
    statuses = [
        api_sign_in(http, ALICE, "a wrong guess", source=f"10.1.0.{n}").status_code
        for n in range(1, 9)
    ]
    assert statuses == [401] * 8, statuses
    assert waits == [0.5, 1.0, 1.5, 1.5, 1.5], waits  # attempts 4 to 8 wait, growing, bounded
    owner = api_sign_in(http, ALICE, PASSWORD, source=OWNER)
    assert owner.status_code == 201, owner.text
    assert waits[-1] == policy.max_delay


@pytest.mark.anyio
async def test_the_throttle_decision_refuses_sources_and_only_delays_the_email() -> None:
    throttle = SignInThrottle(RateLimiter(None), SignInPolicy(per_source_account=2, slow_after=2))
    spread = [await throttle.decide(ALICE, f"10.2.0.{n}") for n in range(30)]
    assert [d.refuse for d in spread] == [0] * 30
    assert [d.delay for d in spread[:2]] == [0.0, 0.0]
    delays = [d.delay for d in spread[2:]]
    assert delays == sorted(delays)
    assert delays[0] > 0
    assert delays[-1] == 3.0
    one = [await throttle.decide(ALICE, "10.3.0.1") for _ in range(4)]
    assert [d.refuse > 0 for d in one] == [False, False, True, True]
    assert [d.repeated for d in one] == [False, False, False, True]
    # An IPv6 host is one source however many addresses of its /64 it uses.
    six = [await throttle.decide(ALICE, f"2001:db8:1:2::{n:x}") for n in range(3)]
    assert [d.refuse > 0 for d in six] == [False, False, True]


def test_no_connection_is_held_while_a_password_is_checked(
    app_http: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = app_http
    old_params = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    db = services_of(http).db
    with db.transaction() as session:
        session.execute(update(User).where(User.email == ALICE).values(password_hash=old_params))
    held_during_checks: list[int] = []
    watch = PoolWatch(db.engine)
    for name in ("verify", "rehashed"):
        original = getattr(passwords, name)

        def spy(*args: str, _original: Callable[..., object] = original) -> object:
            held_during_checks.append(watch.held())
            return _original(*args)

        monkeypatch.setattr(passwords, name, spy)
    with watch.watching():
        assert api_sign_in(http, "nobody@acme.example.com", "x", source=OWNER).status_code == 401
        assert api_sign_in(http, ALICE, "a wrong guess", source=OWNER).status_code == 401
        assert api_sign_in(http, ALICE, PASSWORD, source=OWNER).status_code == 201
    assert len(held_during_checks) == 4  # three checks and the rehash of the old hash
    assert held_during_checks == [0, 0, 0, 0]
    with db.read() as session:
        rehashed = session.scalar(select(User.password_hash).where(User.email == ALICE))
    assert rehashed != old_params
    assert PasswordHasher().verify(str(rehashed), PASSWORD)


def test_a_sign_in_finding_every_password_slot_taken_is_refused_at_once(
    settings: Settings, factory: Factory
) -> None:
    factory.tenant()
    factory.user("acme", email=ALICE, role="admin")
    one_slot = settings.model_copy(update={"max_password_hashes": 1})
    with TestClient(FromAddress(create_app(one_slot))) as http:
        slots = services_of(http).sign_ins.slots
        assert slots.size == 1
        http.get("/realms/acme/.well-known/openid-configuration")  # the tenant, now cached
        watch = PoolWatch(services_of(http).db.engine)
        with slots.slot() as taken, watch.watching():
            assert taken
            busy = api_sign_in(http, ALICE, PASSWORD, source=OWNER)
        assert_problem(busy, 503, "busy")
        assert busy.headers["retry-after"] == str(signing_in.BUSY_RETRY_AFTER)
        assert "set-cookie" not in busy.headers
        assert watch.statements == 0  # refused before it touched the database
        assert api_sign_in(http, ALICE, PASSWORD, source=OWNER).status_code == 201


def test_a_slowed_sign_in_finding_every_slot_taken_is_refused_before_its_wait(
    http: TestClient, waits: list[float]
) -> None:
    policy = SignInPolicy(slow_after=1, step=0.5, max_delay=1.5)
    services_of(http).sign_ins.throttle.policy = policy
    assert api_sign_in(http, ALICE, "a wrong guess", source="10.1.0.1").status_code == 401
    slots = services_of(http).sign_ins.slots
    with ExitStack() as held:
        assert all(held.enter_context(slots.slot()) for _ in range(slots.size))
        busy = api_sign_in(http, ALICE, "a wrong guess", source="10.1.0.2")
    assert_problem(busy, 503, "busy")
    assert waits == []  # answered at once, not after the delay the email had earned
    slowed = api_sign_in(http, ALICE, "a wrong guess", source="10.1.0.3")
    assert slowed.status_code == 401
    assert len(waits) == 1
    assert waits[0] > 0


def test_an_exhausted_connection_pool_answers_503_not_500(
    settings: Settings, factory: Factory
) -> None:
    factory.tenant()
    factory.user("acme", email=ALICE, role="admin")
    tiny = settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout": 0.2}
    )
    unknown_secret = cs.generate(cs.SecretKind.CLIENT_SECRET).reveal()
    with TestClient(create_app(tiny), raise_server_exceptions=False) as http:
        admin = bearer_caller(http, factory, "acme")
        services = services_of(http)
        services.cache.stop()  # its polling would compete for the one connection
        with ExitStack() as hold, captured_logs() as logs:
            hold.enter_context(services.db.engine.connect())
            answers = {
                "sign in": http.post(
                    api("acme", "/session"), json={"email": ALICE, "password": PASSWORD}
                ),
                "list": admin.request(http, "GET", api("acme", "/clients")),
                "create": admin.request(http, "POST", api("acme", "/clients"), json={"name": "x"}),
            }
            # The protocol endpoints answered this already: temporarily_unavailable, not 500.
            token = http.post(
                token_path("acme"),
                data={"grant_type": "client_credentials"},
                headers={"authorization": basic("not-cached", unknown_secret)},
            )
        assert token.status_code == 503, token.text
        assert token.json()["error"] == "temporarily_unavailable"
        assert int(token.headers["retry-after"]) > 0
        for what, answer in answers.items():
            problem = assert_problem(answer, 503, "unavailable")
            assert int(answer.headers["retry-after"]) > 0, what
            assert "retry" in problem["detail"], what
        assert "Traceback" not in logs.text
        assert "management request failed" not in logs.text
        assert (
            http.post(
                api("acme", "/session"), json={"email": ALICE, "password": PASSWORD}
            ).status_code
            == 201
        )


@pytest.mark.parametrize("bad", CHARS)
def test_a_control_character_in_the_email_is_refused_before_any_query(
    app_http: TestClient, bad: str
) -> None:
    http = app_http
    db = services_of(http).db
    before = stored(db)
    watch = PoolWatch(db.engine)
    with watch.watching(), captured_logs() as logs:
        answer = api_sign_in(http, f"alice{bad}@acme.example.com", PASSWORD, source=OWNER)
        wrapped = api_sign_in(http, f"{ALICE}{bad}", PASSWORD, source=OWNER)
    for refused in (answer, wrapped):
        problem = assert_problem(refused, 422, "invalid_input")
        assert [e["pointer"] for e in problem["errors"]] == ["body/email"]
        assert "set-cookie" not in refused.headers
    assert watch.statements == 0
    logs.assert_clean()
    assert stored(db) == before
