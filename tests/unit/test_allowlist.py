"""The IP allowlist rules (``credentials.rules``): what is stored and who is allowed."""

from __future__ import annotations

import pytest

from gatepass.credentials import rules
from gatepass.errors import InvalidInputError


def test_ranges_are_normalised_and_deduplicated_in_order() -> None:
    stored = rules.allowlist(
        [" 203.0.113.7/24", "2001:DB8::1/32", "198.51.100.9", "203.0.113.0/24"]
    )
    assert stored == "203.0.113.0/24 2001:db8::/32 198.51.100.9/32"
    assert rules.allowlist([]) == ""


@pytest.mark.parametrize(
    "bad", ["", "203.0.113.0/33", "example.com", "1.2.3", "::g", "10.0.0.1/-1"]
)
def test_what_is_not_an_address_or_range_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="is not an IP address or CIDR range"):
        rules.allowlist(["10.0.0.0/8", bad])


def test_at_most_fifty_ranges() -> None:
    rules.allowlist([f"10.0.{i}.0/24" for i in range(rules.MAX_ALLOWED_IPS)])
    with pytest.raises(InvalidInputError, match="at most 50"):
        rules.allowlist([f"10.0.{i}.0/24" for i in range(rules.MAX_ALLOWED_IPS + 1)])


ALLOWED = rules.networks("203.0.113.0/24 2001:db8::/32")


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("203.0.113.200", True),
        ("203.0.114.1", False),
        ("2001:db8:ffff::1", True),
        ("2001:db9::1", False),
        ("::ffff:203.0.113.9", True),  # an IPv4 caller on a dual-stack socket
        ("::ffff:198.51.100.1", False),
        ("testclient", False),  # not an address: never on a list
        ("", False),
        (None, False),
    ],
)
def test_an_address_is_allowed_only_inside_a_range(address: str | None, allowed: bool) -> None:
    assert rules.allows(ALLOWED, address) is allowed


@pytest.mark.parametrize("address", ["198.51.100.1", "testclient", None])
def test_no_list_allows_any_caller(address: str | None) -> None:
    assert rules.allows((), address) is True
