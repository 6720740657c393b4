"""The Node.js SDK (``sdks/node``) against a live Gatepass: ``node --test`` run with credentials of
a fresh tenant made here, in ``GATEPASS_SDK_TEST_*`` variables.

The node suites skip only when those variables are all absent (``npm test`` on its own); here they
are all set, so every test must run and pass: the TAP summary is read and its counts compared
with the tests the files define. ``make test`` installs the package's dependencies first
(``npm ci``, the ``node-sdk`` target).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gatepass.apikeys.service import RateLimit
from tests.e2e.conftest import Server
from tests.factories import Factory
from tests.sdk.realm import Realm
from tests.windows import wait_for_a_fresh_window

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PACKAGE = Path(__file__).resolve().parents[2] / "sdks" / "node"
TEST_FILES = sorted(PACKAGE.glob("test/**/*.test.js"))
TEST_CALL = re.compile(r"^\s*test\(", re.MULTILINE)
SUMMARY = re.compile(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$", re.MULTILINE)


def defined_tests() -> int:
    return sum(len(TEST_CALL.findall(path.read_text())) for path in TEST_FILES)


def live_environment(realm: Realm, other_realm: Realm, by_alg: dict[str, Realm]) -> dict[str, str]:
    """Everything the node suites need, made through Gatepass's own service functions."""
    client = realm.client(scopes=("nql", "workflows"), groups=("emea",))
    plain = realm.client(scopes=("nql",))
    key = realm.api_key(scopes=("nql",), groups=("americas",))
    revoked = realm.api_key()
    realm.revoke_key(revoked.key_id)
    wait_for_a_fresh_window(86400, margin=120)  # the suites spend the next key's daily allowance
    rate_limited = realm.api_key(rate_limit=RateLimit(2, 86400))
    tenants = {}
    for alg, tenant in by_alg.items():
        signed = tenant.client()
        tenants[alg] = {
            "issuer": tenant.issuer,
            "audience": tenant.audience,
            "client_id": signed.client_id,
            "token": tenant.token(signed),
        }
    values = {
        "ISSUER": realm.issuer,
        "AUDIENCE": realm.audience,
        "VERIFY_CLIENT_ID": realm.verify_client.client_id,
        "VERIFY_CLIENT_SECRET": realm.verify_client.secret,
        "PLAIN_CLIENT_ID": plain.client_id,
        "PLAIN_CLIENT_SECRET": plain.secret,
        "CLIENT_ID": client.client_id,
        "TOKEN": realm.token(client),
        "TOKEN_WORKFLOWS": realm.token(realm.client(scopes=("workflows",))),
        "OTHER_TENANT_TOKEN": other_realm.token(other_realm.client()),
        "TOKENS_BY_ALG": json.dumps(tenants),
        "KEY_ID": key.key_id,
        "KEY": key.key,
        "KEY_LACKING": realm.api_key(scopes=("workflows",)).key,
        "KEY_OWNED": realm.api_key(owner=realm.user("dev@example.com")).key,
        "KEY_REVOKED": revoked.key,
        "KEY_RATE_LIMITED": rate_limited.key,
    }
    return {f"GATEPASS_SDK_TEST_{name}": value for name, value in values.items()}


def test_the_node_sdk_passes_its_tests_against_a_live_gatepass(
    realm: Realm, other_realm: Realm, gatepass: Server, gatepass_factory: Factory
) -> None:
    node = shutil.which("node")
    assert node is not None, "node is not installed"
    assert (PACKAGE / "node_modules" / "jose").is_dir(), "run `make node-sdk` (npm ci) first"
    by_alg = {
        alg: Realm.create(gatepass, gatepass_factory, signing_alg=alg) for alg in ("RS256", "EdDSA")
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEPASS_")}
    env.update(live_environment(realm, other_realm, by_alg))

    run = subprocess.run(
        [node, "--test", "--test-reporter=tap", *(str(p.relative_to(PACKAGE)) for p in TEST_FILES)],
        cwd=PACKAGE,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    output = f"node --test exited {run.returncode}\n{run.stdout}\n{run.stderr}"
    counts = {name: int(number) for name, number in SUMMARY.findall(run.stdout)}
    expected = defined_tests()
    assert run.returncode == 0, output
    assert expected > 60, f"only {expected} tests found in {PACKAGE / 'test'}"
    assert counts == {
        "tests": expected,
        "pass": expected,
        "fail": 0,
        "cancelled": 0,
        "skipped": 0,
        "todo": 0,
    }, output
    assert "# SKIP" not in run.stdout, output
