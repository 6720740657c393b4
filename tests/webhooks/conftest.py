from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatepass.settings import Settings
from tests.factories import Factory
from tests.webhooks.receiver import Receiver, running_receiver
from tests.webhooks.support import ALLOW_LOCAL


@pytest.fixture
def local_settings(settings: Settings) -> Settings:
    """The test settings, allowing webhooks to the receiver on 127.0.0.1 over HTTP."""
    return settings.model_copy(update=ALLOW_LOCAL)


@pytest.fixture
def acme(local_settings: Settings) -> Iterator[Factory]:
    made = Factory(local_settings)
    made.tenant("acme")
    yield made
    made.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running
