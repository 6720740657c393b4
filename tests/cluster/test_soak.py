"""The soak of ``bench/soak.py`` for one minute on the test cluster (``make soak`` runs ten)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.cluster.harness import Cluster
from tests.cluster.support import report

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
DURATION = 60.0


def soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gatepass_soak", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(DURATION + 120)
def test_one_minute_of_mixed_load_without_errors_or_memory_growth(cluster: Cluster) -> None:
    figures = soak_module().run(cluster, duration=DURATION)
    samples = figures.pop("rss_samples_kib")
    report("soak_ci", figures)
    assert figures["errors"] == 0, figures["error_examples"]
    assert not figures["over_memory_bound"], figures["memory"]
    assert figures["passed"]
    assert len(samples) >= DURATION / 5
    for kind in ("token", "verify", "introspect", "manage"):
        assert figures["by_kind"].get(kind, 0) > 50, figures["by_kind"]
