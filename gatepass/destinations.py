"""Where Gatepass may send a request a tenant chose: the checks against server-side request
forgery, for webhooks and for fetching public keys (``gatepass.publickeys.remote``).

A tenant administrator chooses the URL, so Gatepass refuses, unless the operator allows them,
URLs that are not ``https`` and hosts that are or resolve to an address that is not public
(loopback, private, link-local, shared, reserved, multicast). The URL is checked when it is
saved and its host resolved again before every attempt. ``GATEPASS_WEBHOOK_ALLOW_PRIVATE``
allows private addresses (receivers inside the operator's network); ``GATEPASS_WEBHOOK_ALLOW_HTTP``
allows plain ``http://`` to a loopback host only (``localhost``, ``127.0.0.1``, ``[::1]``), for
development and tests. The address the check resolved is the one delivery connects to (the host
name still goes in ``Host`` and in TLS's SNI and certificate check), so a name that resolves to
another address a moment later (DNS rebinding) reaches nothing it was not checked for.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from gatepass.errors import InvalidInputError
from gatepass.settings import Settings

MAX_URL = 2000
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class RefusedDestination(Exception):  # noqa: N818 - an outcome, logged by its message
    """The endpoint's host resolves to an address webhooks may not reach."""


@dataclass(frozen=True)
class Rules:
    allow_http: bool = False
    allow_private: bool = False

    @classmethod
    def of(cls, settings: Settings) -> Rules:
        """The rules for webhooks."""
        return cls(settings.webhook_allow_http, settings.webhook_allow_private)

    @classmethod
    def for_keys(cls, settings: Settings) -> Rules:
        """The rules for fetching public keys (``GATEPASS_JWKS_ALLOW_*``)."""
        return cls(settings.jwks_allow_http, settings.jwks_allow_private)

    def check_url(self, url: str) -> str:
        """``url`` stripped, or ``InvalidInputError`` saying what is wrong with it."""
        url = url.strip()
        if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
            raise InvalidInputError(f"url must be an https URL of at most {MAX_URL} characters")
        parts = urlsplit(url)
        try:
            host, _ = parts.hostname, parts.port
        except ValueError:
            raise InvalidInputError("url has an invalid port") from None
        if not host or parts.username is not None or parts.password is not None:
            raise InvalidInputError("url must name a host, and no user name or password")
        if parts.fragment:
            raise InvalidInputError("url must have no fragment (#...)")
        try:
            _ = httpx.URL(url).host  # as HTTP reads and sends it (IDNA), as delivery will
        except (httpx.InvalidURL, UnicodeError, ValueError):
            raise InvalidInputError("url has an invalid host name") from None
        if parts.scheme != "https" and not (
            parts.scheme == "http" and self.allow_http and host in LOOPBACK_HOSTS
        ):
            raise InvalidInputError("url must use https")
        literal = _address(host)
        if literal is not None and not self._allowed(literal):
            raise InvalidInputError("url must not point to a private or reserved address")
        return url

    def check_resolved(self, url: httpx.URL) -> str:
        """The address to connect to for ``url``: its host resolved, every address found
        allowed (else ``RefusedDestination``)."""
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise RefusedDestination("host name does not resolve") from None
        addresses = [_address(str(sockaddr[0])) for *_, sockaddr in found]
        allowed = [a for a in addresses if a is not None and self._allowed(a)]
        if not allowed or len(allowed) < len(addresses):
            raise RefusedDestination("host resolves to a private or reserved address")
        return str(min(allowed, key=lambda a: a.version))  # IPv4 first: more often reachable

    def pinned(self, url: httpx.URL) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
        """What to send for ``url``: the URL with its host replaced by the address checked, the
        ``Host`` header and the TLS server name (the host name, checked in the certificate)."""
        address = self.check_resolved(url)
        host = url.raw_host.decode("ascii")
        return (
            url.copy_with(host=address),
            {"Host": url.netloc.decode("ascii")},
            {"sni_hostname": host},
        )

    def _allowed(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return self.allow_private or (address.is_global and not address.is_multicast)


def origin(url: str) -> str:
    """What an audit record shows of a URL a tenant chose: its path and query often hold a
    token (``https://hooks.example.com/T0/B0/SECRET?token=x`` -> ``https://hooks.example.com``)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", maxsplit=1)[0])
    except ValueError:
        return None
