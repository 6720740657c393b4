"""``gatepass serve`` runs the installed Gatepass whatever directory it is started from.

The server replaces itself with ``python -m gatepass.server``; without ``-P`` that would put the
working directory first on ``sys.path``, and a ``gatepass/`` directory there (a checkout of
another version, or something planted in a shared directory) would run instead.
"""

from __future__ import annotations

from pathlib import Path

import requests

from tests.e2e.conftest import Serve

PLANTED = """\
from pathlib import Path

Path(__file__).with_name("ran").write_text("the planted package ran")
raise SystemExit(3)
"""


def test_a_gatepass_directory_where_the_server_starts_is_never_imported(
    serve: Serve, tmp_path: Path
) -> None:
    where = tmp_path / "start-here"
    planted = where / "gatepass"
    planted.mkdir(parents=True)
    (planted / "__init__.py").write_text(PLANTED)
    (planted / "server.py").write_text(PLANTED)

    server = serve(cwd=where, workers=2)

    assert requests.get(f"{server.base_url}/readyz", timeout=5).status_code == 200
    assert not (planted / "ran").exists()
