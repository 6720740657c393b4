"""Fixtures of the cluster tests: one private cluster (PostgreSQL, Redis, three ``gatepass serve``
nodes behind nginx) for the whole session, healed before each test.

Without the server binaries these tests are skipped, except with ``CI=true``, where that fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gatepass.settings import Settings
from tests.cluster.harness import Cluster, missing_binaries
from tests.factories import Credential, Factory
from tests.password_cost import CHEAP

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cluster: runs a private PostgreSQL, Redis, nginx and several Gatepass nodes"
    )


@pytest.fixture(scope="session")
def running_cluster() -> Iterator[Cluster]:
    missing = missing_binaries()
    if missing:
        message = "the cluster tests need " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    cluster = Cluster(size=3)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.cleanup()


@pytest.fixture
def cluster(running_cluster: Cluster) -> Cluster:
    """The cluster with every server running (a previous test may have stopped one)."""
    running_cluster.heal()
    return running_cluster


@pytest.fixture(scope="session")
def cluster_factory(running_cluster: Cluster) -> Iterator[Factory]:
    """Data made directly in the cluster's database, with its secret key."""
    settings = Settings(
        database_url=running_cluster.database_url,
        secret_key=running_cluster.secret_key,
        data_dir=running_cluster.root,
        public_url=running_cluster.url,
        _env_file=None,
        **CHEAP,
    )
    made = Factory(settings)
    yield made
    made.close()


@pytest.fixture
def tenant(cluster_factory: Factory, request: pytest.FixtureRequest) -> str:
    """A tenant of its own for each test (the cluster's database is shared by all of them)."""
    slug = "t-" + request.node.name.replace("_", "-")[5:40].strip("-").lower()
    slug = f"{slug}-{os.urandom(3).hex()}"
    return cluster_factory.tenant(slug)


@pytest.fixture
def admin_client(cluster_factory: Factory, tenant: str) -> Credential:
    return cluster_factory.client(tenant, scopes=("tenant:admin",), name="automation")
