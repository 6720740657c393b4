"""The argon2id cost of console passwords: the default, the production floor, rehashing.

Every other test hashes at the least cost (``tests/password_cost.py``); this one checks the cost
a deployment gets when it sets nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from gatepass.settings import Settings
from gatepass.users import passwords
from gatepass.users.passwords import HashCost

GOOD_KEY = "k" * 64
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def restore_cost() -> Iterator[None]:
    before = passwords.current()
    yield
    passwords.configure(before)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_the_default_cost_is_rfc_9106s_second_recommendation() -> None:
    cost = HashCost.of(settings())
    assert cost == HashCost(time_cost=3, memory_kib=65536, parallelism=4)
    passwords.configure(cost)
    stored = passwords.hash_password(PASSWORD)
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")
    assert passwords.rehashed(stored, PASSWORD) is None


def test_a_hash_of_another_cost_verifies_and_is_replaced() -> None:
    passwords.configure(HashCost(time_cost=1, memory_kib=8, parallelism=1))
    cheap = passwords.hash_password(PASSWORD)
    passwords.configure(HashCost.of(settings()))
    assert passwords.verify(cheap, PASSWORD)
    renewed = passwords.rehashed(cheap, PASSWORD)
    assert renewed is not None
    assert renewed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify(renewed, PASSWORD)


def test_no_account_still_costs_a_check_and_is_false() -> None:
    passwords.configure(HashCost(time_cost=1, memory_kib=8, parallelism=1))
    assert passwords.verify(None, PASSWORD) is False
    assert passwords.verify("not a hash", PASSWORD) is False


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "accepted"),
    [(2, 19456, True), (3, 65536, True), (1, 65536, False), (2, 19455, False), (1, 8, False)],
)
def test_production_refuses_a_cost_below_the_floor(
    time_cost: int, memory_kib: int, accepted: bool
) -> None:
    values = {
        "env": "production",
        "secret_key": GOOD_KEY,
        "public_url": "https://gp.example.com",
        "password_time_cost": time_cost,
        "password_memory_kib": memory_kib,
        "password_parallelism": 1,
    }
    if accepted:
        assert HashCost.of(settings(**values)).memory_kib == memory_kib
    else:
        with pytest.raises(ValidationError, match="GATEPASS_PASSWORD_TIME_COST"):
            settings(**values)


def test_development_takes_a_cheap_cost_but_not_an_impossible_one() -> None:
    assert settings(password_time_cost=1, password_memory_kib=8, password_parallelism=1)
    with pytest.raises(ValidationError, match="GATEPASS_PASSWORD_MEMORY_KIB"):
        settings(password_memory_kib=16, password_parallelism=4)
