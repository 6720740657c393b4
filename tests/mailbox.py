"""A real SMTP server for the tests that send mail."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from tests.e2e.conftest import free_port
from tests.http.support import poll


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free local port, keeping what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or b""
        self.messages.append(cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw)))
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1) -> list[EmailMessage]:
        poll(lambda: len(self.messages), lambda n: n >= count)
        assert len(self.messages) >= count, f"{len(self.messages)} mails arrived, not {count}"
        return self.messages

    def stop(self) -> None:
        self.controller.stop()


def started_mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    try:
        yield box
    finally:
        with contextlib.suppress(Exception):  # a test may have stopped it already
            box.stop()
