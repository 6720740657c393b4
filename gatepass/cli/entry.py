"""The ``gatepass`` console script.

``gatepass serve`` runs with only what it needs (``gatepass.cli.serve``); every other command,
and ``gatepass`` alone, with the whole CLI (``gatepass.cli.main``). Both give ``serve`` the same
options and help.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        from gatepass.cli import serve  # noqa: PLC0415 - the lean start, see above

        app = serve.alone()
    else:
        from gatepass.cli import main as whole  # noqa: PLC0415

        app = whole.app
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        from gatepass.cli.base import fail  # noqa: PLC0415

        fail("interrupted")
