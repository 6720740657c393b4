"""Where webhooks may go (``webhooks.destinations``): https only, no private addresses, unless
the operator allows them; the host is resolved again before each attempt."""

from __future__ import annotations

import httpx
import pytest

from gatepass.destinations import RefusedDestination, Rules
from gatepass.errors import InvalidInputError

STRICT = Rules()
LOCAL = Rules(allow_http=True, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/gatepass",
        "https://hooks.example.com:8443/a?b=c",
        "https://8.8.8.8/x",
    ],
)
def test_https_urls_to_public_hosts_are_accepted(url: str) -> None:
    assert STRICT.check_url(f"  {url} ") == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "https URL"),
        ("hooks.example.com", "must name a host"),
        ("http://hooks.example.com/", "must use https"),
        ("http://127.0.0.1:8080/", "must use https"),
        ("ftp://hooks.example.com/", "must use https"),
        ("https://user:secret@hooks.example.com/", "no user name or password"),
        ("https://hooks.example.com/#x", "no fragment"),
        ("https://hooks.example.com:99999/", "invalid port"),
        ("https://hooks.example.com/\x00", "https URL"),
        ("https://127.0.0.1/", "private or reserved"),
        ("https://[::1]/", "private or reserved"),
        ("https://10.0.0.8/", "private or reserved"),
        ("https://169.254.169.254/latest/meta-data", "private or reserved"),
        ("https://100.64.0.1/", "private or reserved"),
        ("https://[::ffff:127.0.0.1]/", "private or reserved"),
        ("https://224.0.0.1/", "private or reserved"),
        ("https://h.example.com/" + "a" * 2000, "https URL"),
    ],
)
def test_other_urls_are_refused_without_echoing_them(url: str, says: str) -> None:
    with pytest.raises(InvalidInputError, match=says) as refused:
        STRICT.check_url(url)
    assert "secret" not in str(refused.value)


def test_the_operator_may_allow_plain_http_to_loopback_only() -> None:
    assert LOCAL.check_url("http://127.0.0.1:8080/hooks") == "http://127.0.0.1:8080/hooks"
    assert LOCAL.check_url("http://localhost/hooks") == "http://localhost/hooks"
    assert LOCAL.check_url("http://[::1]:9/") == "http://[::1]:9/"
    with pytest.raises(InvalidInputError, match="https"):
        LOCAL.check_url("http://hooks.example.com/")


def test_a_name_that_resolves_to_a_private_address_is_refused_at_delivery() -> None:
    with pytest.raises(RefusedDestination, match="private or reserved"):
        STRICT.check_resolved(httpx.URL("https://localhost/hooks"))
    assert LOCAL.check_resolved(httpx.URL("https://localhost/hooks")) in ("127.0.0.1", "::1")


def test_a_name_that_does_not_resolve_is_refused_at_delivery() -> None:
    with pytest.raises(RefusedDestination, match="does not resolve"):
        STRICT.check_resolved(httpx.URL("https://no-such-host.invalid/hooks"))


@pytest.mark.parametrize("url", ["https://xn--zz.hooks.example/", "https://☃.hooks.example/"])
def test_a_host_name_http_cannot_send_to_is_refused_when_saved(url: str) -> None:
    with pytest.raises(InvalidInputError, match="invalid host name"):
        STRICT.check_url(url)
