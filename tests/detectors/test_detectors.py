"""The detector rules shipped for secret scanners, against secrets Gatepass's own generator made.

gitleaks is neither a Debian package nor a trustworthy PyPI one here, so its TOML is read with
tomllib and its regular expressions run with Python's ``re``: they keep to what Go's RE2 reads
the same way (no lookaround, no backreference), which ``test_the_regexes_keep_to_re2`` holds.
"""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from gatepass import credential_secrets as cs

DETECTORS = Path(__file__).resolve().parents[2] / "detectors"
VALIDATOR = DETECTORS / "gatepass_secrets.py"
KINDS = {
    cs.SecretKind.API_KEY: "gatepass-api-key",
    cs.SecretKind.CLIENT_SECRET: "gatepass-client-secret",
}
SAMPLES = 200


def gitleaks_rules() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((DETECTORS / "gitleaks.toml").read_text())
    return {rule["id"]: rule for rule in config["rules"]}


def trufflehog_regexes() -> dict[str, str]:
    config = yaml.safe_load((DETECTORS / "trufflehog.yaml").read_text())
    return {d["name"]: next(iter(d["regex"].values())) for d in config["detectors"]}


def validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gatepass_secrets", VALIDATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def found_by(rule: dict[str, Any], text: str) -> list[str]:
    return [m[rule["secretGroup"]] for m in re.finditer(rule["regex"], text)]


def entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def in_a_file(secret: str) -> str:
    return f'import os\nAPI_KEY = os.environ.get("KEY", "{secret}")  # TODO remove\n'


@pytest.mark.parametrize("kind", KINDS)
def test_each_gitleaks_rule_finds_every_generated_secret_of_its_kind_only(
    kind: cs.SecretKind,
) -> None:
    rules = gitleaks_rules()
    for _ in range(SAMPLES):
        secret = cs.generate(kind).reveal()
        for rule_id, rule in rules.items():
            expected = [secret] if rule_id == KINDS[kind] else []
            assert found_by(rule, in_a_file(secret)) == expected
            assert any(word in secret for word in rule["keywords"]) == bool(expected)
        assert entropy(secret) >= rules[KINDS[kind]]["entropy"]


@pytest.mark.parametrize("kind", KINDS)
def test_near_misses_are_not_found(kind: cs.SecretKind) -> None:
    secret = cs.generate(kind).reveal()
    prefix, rest = secret.split("_", 1)
    misses = [
        f"x{secret}",  # a longer prefix
        f"{prefix.upper()}_{rest}",
        f"{prefix}-{rest}",
        secret[:-1],  # a character short
        f"{secret}A",  # a character long
        f"{prefix}_{rest[:10]}+{rest[11:]}",
    ]
    for rule in gitleaks_rules().values():
        for miss in misses:
            assert found_by(rule, in_a_file(miss)) == [], miss


def test_trufflehog_finds_what_gitleaks_finds() -> None:
    regexes = trufflehog_regexes()
    rules = gitleaks_rules()
    assert regexes == {
        "GatepassAPIKey": rules["gatepass-api-key"]["regex"],
        "GatepassClientSecret": rules["gatepass-client-secret"]["regex"],
    }


def test_the_regexes_keep_to_re2() -> None:
    for regex in [r["regex"] for r in gitleaks_rules().values()] + list(
        trufflehog_regexes().values()
    ):
        assert not re.search(r"\(\?[=!<]|\\[1-9]|\(\?P", regex), regex


def test_the_validator_takes_gatepass_s_secrets_and_refuses_a_wrong_checksum() -> None:
    check = validator()
    for kind in KINDS:
        for _ in range(SAMPLES):
            secret = cs.generate(kind).reveal()
            wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
            assert list(check.secrets_in(in_a_file(secret))) == [secret]
            assert list(check.secrets_in(in_a_file(wrong))) == []
            assert cs.is_well_formed(kind, wrong) is False


def test_as_a_hook_it_fails_on_a_file_with_a_secret_and_never_prints_it(tmp_path: Path) -> None:
    secret = cs.generate(cs.SecretKind.CLIENT_SECRET).reveal()
    leaky, clean = tmp_path / "settings.py", tmp_path / "docs.md"
    leaky.write_text(in_a_file(secret))
    clean.write_text(in_a_file("gpcs_" + "A" * 38) + "gpk_…AbCd\n")

    caught = subprocess.run(
        [sys.executable, VALIDATOR, clean, leaky], capture_output=True, text=True, check=False
    )
    piped = subprocess.run(
        [sys.executable, VALIDATOR, "-"], input=leaky.read_bytes(), capture_output=True, check=False
    )
    passed = subprocess.run([sys.executable, VALIDATOR, clean], capture_output=True, check=False)

    assert caught.returncode == 1
    assert caught.stdout == f"{leaky}: Gatepass secret gpcs_…{secret[-4:]}\n"
    assert secret not in caught.stdout + caught.stderr
    assert (piped.returncode, passed.returncode) == (1, 0)
