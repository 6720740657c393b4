"""Behind a reverse proxy: forwarded client addresses count only from configured proxies."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from gatepass.audit.models import AuditEvent
from tests.e2e.conftest import Serve
from tests.factories import Credential, Factory

pytestmark = pytest.mark.e2e


def failed_sign_in_from(factory: Factory, serve: Serve, env: dict[str, str]) -> str:
    """Send a wrong password with ``X-Forwarded-For: 203.0.113.9``; the audited address."""
    server = serve()
    answer = requests.post(
        f"{server.base_url}/api/v1/realms/acme/session",
        json={"email": "ada@example.com", "password": "not the password"},
        headers={"X-Forwarded-For": "203.0.113.9"},
        timeout=5,
    )
    assert answer.status_code == 401, answer.text
    with factory.db.read() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "session.sign_in_failed")
        ).one()
    server.stop()
    return event.source_ip


def test_forwarded_address_is_believed_from_a_trusted_proxy(
    factory: Factory, serve: Serve, gatepass_env: dict[str, str]
) -> None:
    factory.tenant("acme")
    factory.user("acme")
    gatepass_env["GATEPASS_TRUSTED_PROXIES"] = "127.0.0.0/8, ::1"
    assert failed_sign_in_from(factory, serve, gatepass_env) == "203.0.113.9"


def test_forwarded_address_is_ignored_without_trusted_proxies(
    factory: Factory, serve: Serve, gatepass_env: dict[str, str]
) -> None:
    factory.tenant("acme")
    factory.user("acme")
    assert failed_sign_in_from(factory, serve, gatepass_env) == "127.0.0.1"


def test_forwarded_address_is_ignored_from_an_untrusted_peer(
    factory: Factory, serve: Serve, gatepass_env: dict[str, str]
) -> None:
    factory.tenant("acme")
    factory.user("acme")
    gatepass_env["GATEPASS_TRUSTED_PROXIES"] = "10.1.2.3"
    assert failed_sign_in_from(factory, serve, gatepass_env) == "127.0.0.1"


def token_status(server_url: str, cred: Credential, forwarded_for: str) -> int:
    answer = requests.post(
        f"{server_url}/realms/acme/protocol/openid-connect/token",
        data={"grant_type": "client_credentials"},
        auth=(cred.client_id, cred.secret),
        headers={"X-Forwarded-For": forwarded_for},
        timeout=5,
    )
    return answer.status_code


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        # Behind a trusted proxy, the forwarded address is the caller's: checked against the list.
        ("127.0.0.0/8", {"203.0.113.9": 200, "198.51.100.1": 401}),
        # Otherwise the peer (127.0.0.1) is the caller, whatever the header says: not on the list.
        (None, {"203.0.113.9": 401, "198.51.100.1": 401}),
    ],
)
def test_an_ip_allowlist_sees_the_forwarded_address_only_from_a_trusted_proxy(
    factory: Factory,
    serve: Serve,
    gatepass_env: dict[str, str],
    trusted: str | None,
    expected: dict[str, int],
) -> None:
    factory.tenant("acme")
    cred = factory.client(allowed_ips=("203.0.113.0/24",))
    if trusted:
        gatepass_env["GATEPASS_TRUSTED_PROXIES"] = trusted
    server = serve()
    assert {ip: token_status(server.base_url, cred, ip) for ip in expected} == expected
