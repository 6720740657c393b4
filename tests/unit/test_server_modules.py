"""What a server process imports: the app's whole import graph, without the console-only rich."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import gatepass.server
import gatepass.app
import structlog
assert "structlog.dev" in sys.modules
assert sys.modules.get("rich") is None, "rich was imported"
print("ok")
"""


def test_a_server_process_imports_the_app_without_rich() -> None:
    result = subprocess.run(
        [sys.executable, "-P", "-c", CHECK], capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "ok", result.stderr
