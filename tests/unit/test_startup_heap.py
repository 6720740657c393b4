"""A ``serve`` worker freezes the heap its startup built; an app built in a shared process does
not (its objects must stay collectable when the app goes away, as in these tests)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from gatepass.app import create_app
from gatepass.settings import Settings


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # hand the frozen objects back to the collector


@pytest.mark.usefixtures("unfrozen")
def test_a_server_process_freezes_its_startup_heap(settings: Settings) -> None:
    with TestClient(create_app(settings, server_process=True)) as http:
        assert gc.get_freeze_count() > 0
        assert http.get("/healthz").status_code == 200


@pytest.mark.usefixtures("unfrozen")
def test_an_app_built_in_a_shared_process_freezes_nothing(settings: Settings) -> None:
    with TestClient(create_app(settings)) as http:
        assert http.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0
