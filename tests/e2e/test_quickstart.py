"""The quickstart of ``make run``: ``gatepass demo``, then ``gatepass serve``, then its curl."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tests.cli.harness import Cli
from tests.e2e.conftest import Server, assert_claims, verify

pytestmark = pytest.mark.e2e


def test_demo_curl_command_gets_a_token(server: Server, cli: Cli) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")

    printed = cli.ok("demo")

    command = printed[printed.index("curl ") :].strip()
    client_id = re.search(r"client ID\s+(\S+)", printed)
    assert client_id, printed
    done = subprocess.run(
        ["bash", "-c", command],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body = json.loads(done.stdout)
    scopes = "campaigns data_management enrichment nql remote_actions workflows"
    assert_claims(
        verify(server, "demo", body["access_token"]), client_id.group(1), scopes, ("emea",)
    )
