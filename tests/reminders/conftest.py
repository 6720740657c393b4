"""A real SMTP server for each reminder test, and settings that send mail to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatepass.settings import Settings
from tests.factories import Factory
from tests.reminders.support import Mailbox, mailing, started_mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    yield from started_mailbox()


@pytest.fixture
def mailed(settings: Settings, mailbox: Mailbox) -> Settings:
    return mailing(settings, mailbox)


@pytest.fixture
def people(acme: Factory) -> Factory:
    """acme with an admin (ada), a second admin (bob), a manager (cy) and a viewer (dee)."""
    acme.user(email="ada@example.com", role="admin")
    acme.user(email="bob@example.com", role="admin")
    acme.user(email="cy@example.com", role="credentials_manager")
    acme.user(email="dee@example.com", role="viewer")
    return acme
