"""Change notices sent over Redis: what a subscriber accepts, and what it refuses.

A notice makes every process drop a cached credential; one that is forged, damaged or meant for
another deployment must be ignored (the change feed in the database still applies real changes).
"""

from __future__ import annotations

import pytest

from gatepass.changes.bus import MAX_NOTICE, PENDING, Notice, NoticeKey, Publisher
from gatepass.clients.kind import CLIENT
from gatepass.credentials.lifecycle import revoke
from gatepass.tenants.service import get_tenant
from tests.factories import ACTOR, Factory

KEY = NoticeKey.from_master_key(b"k" * 64)


@pytest.mark.parametrize(
    "notice",
    [
        Notice(7, "client", "billing-sync"),
        Notice(1, "tenant", ""),
        Notice(3, "token", "a|b|c"),  # a bar in the reference survives
        Notice(12, "api_key", "ak_0123456789abcdef"),
    ],
)
def test_a_notice_survives_encoding(notice: Notice) -> None:
    assert KEY.decode(KEY.encode(notice)) == notice
    assert KEY.decode(KEY.encode(notice).decode()) == notice  # as str, too


def test_each_deployment_has_its_own_channel_and_key() -> None:
    other = NoticeKey.from_master_key(b"o" * 64)
    assert other.channel != KEY.channel
    assert KEY.channel.startswith("gatepass:changes:")
    assert b"k" * 8 not in KEY.channel.encode()
    assert other.decode(KEY.encode(Notice(1, "client", "x"))) is None


def test_a_changed_notice_is_refused() -> None:
    raw = KEY.encode(Notice(1, "client", "victim"))
    assert KEY.decode(raw.replace(b"victim", b"victin")) is None
    assert KEY.decode(raw.replace(b"1|1|", b"1|2|", 1)) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"|",
        b"no separators at all",
        b"1|x|client|ref",
        "é".encode() * 3,
        b"\xff\xfe|00",
    ],
)
def test_malformed_notices_are_refused(raw: bytes) -> None:
    assert KEY.decode(raw) is None


def test_authentic_but_malformed_bodies_are_refused() -> None:
    for body in (b"2|1|client|x", b"1|-1|client|x", b"1|1||x", b"1|one|client|x", b"1|1"):
        signed = body + b"|" + KEY._mac(body).encode()
        assert KEY.decode(signed) is None, body


def test_an_oversized_notice_is_refused_before_any_work() -> None:
    assert KEY.decode(KEY.encode(Notice(1, "client", "x" * MAX_NOTICE))) is None


def test_notices_are_sent_after_commit_and_never_for_a_rollback(factory: Factory) -> None:
    factory.tenant()
    sent: list[Notice] = []
    publisher = Publisher("redis://127.0.0.1:1/0", KEY, local=sent.append)  # Redis unreachable
    publisher.attach(factory.db)
    credential = factory.client(name="first")
    assert [n.kind for n in sent] == ["client"]
    assert sent[0].ref == credential.client_id
    assert publisher.failed == 1  # the write itself went through

    sent.clear()
    before_commit: list[Notice] = []

    def revoke_then_fail() -> None:
        with factory.db.transaction() as session:
            revoke(session, get_tenant(session, "acme"), CLIENT, credential.client_id, actor=ACTOR)
            before_commit.extend(sent)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        revoke_then_fail()
    assert before_commit == []  # nothing is sent before the commit
    assert sent == []  # nor for a rollback
    with factory.db.transaction() as session:
        assert session.info.get(PENDING) is None  # the rolled-back notices were dropped
