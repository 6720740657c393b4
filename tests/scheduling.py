"""Which tests ``make test`` hands to the same test process (``pytest -n N --dist loadgroup``).

pytest-xdist's own ``xdist_group`` marker does nothing under pytest 9 (the group is appended to
``item._nodeid``, which pytest 9 no longer reads), so the groups are named here, from the test's
node id alone (all the scheduler sees). A group runs whole in one process, largest first:

- the cluster tests share one private cluster (PostgreSQL, Redis, nginx, three nodes);
- the SDK tests share one ``gatepass serve`` per backend (a package-scoped fixture);
- the container tests share one emulated build of the image (a module-scoped fixture);
- an e2e module may share one server per backend (module-scoped fixtures);
- a console module shares one server per backend (``console_server``), and the package's browser.

Every other test is a unit of its own, for the best balance.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

PACKAGES = {"tests/cluster/": "cluster", "tests/sdk/": "sdk", "tests/container/": "container"}
BY_MODULE = ("tests/e2e/", "tests/console/")


def group_of(nodeid: str) -> str:
    """The work unit of a test: its group, or the test itself."""
    path = nodeid.split("::", 1)[0]
    for package, group in PACKAGES.items():
        if path.startswith(package):
            return group
    if path.startswith(BY_MODULE):
        return path
    return nodeid


class GroupScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with ``group_of`` as the scope."""

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)
