"""The Dockerfile's rules: hadolint's (every finding fails, down to style; ``.hadolint.yaml``),
and those of this image that hadolint has no rule for."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from gatepass.settings import Settings
from tests.container.conftest import REPOSITORY
from tests.container.context import context_files
from tests.container.dockerfile import Dockerfile, exec_form, paths

HADOLINT = Path(sys.executable).with_name("hadolint")
BASE = "python:3.11-slim-bookworm"
# Settings read by the CLI rather than by Settings: serve's --host and --port.
CLI_VARIABLES = {"GATEPASS_HOST", "GATEPASS_PORT"}
SECRET_NAME = re.compile(r"SECRET|PASSWORD|TOKEN|KEY", re.IGNORECASE)


def hadolint(path: Path) -> tuple[int, list[dict[str, str]]]:
    run = subprocess.run(
        [str(HADOLINT), "--config", str(REPOSITORY / ".hadolint.yaml"), "-f", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return run.returncode, json.loads(run.stdout or "[]")


def test_hadolint_finds_nothing() -> None:
    assert hadolint(REPOSITORY / "Dockerfile") == (0, [])


def test_hadolint_reports_a_root_user_a_floating_base_and_a_missing_label(tmp_path: Path) -> None:
    text = (REPOSITORY / "Dockerfile").read_text()
    text = text.replace("USER 10001:10001", "USER root").replace(BASE, "python:latest")
    text = text.replace('org.opencontainers.image.licenses="Apache-2.0" ', "")
    (tmp_path / "Dockerfile").write_text(text)

    status, findings = hadolint(tmp_path / "Dockerfile")

    assert status == 1
    assert {"DL3002", "DL3007", "DL3049"} <= {f["code"] for f in findings}


def test_every_stage_starts_from_the_pinned_python_image(dockerfile: Dockerfile) -> None:
    names = [stage.name for stage in dockerfile.stages]
    assert dockerfile.stages[0].base == BASE
    for index, stage in enumerate(dockerfile.stages[1:], start=1):
        assert stage.base in names[:index], f"stage {stage.name} starts from {stage.base}"


def test_the_image_runs_as_a_numeric_user_that_is_not_root(dockerfile: Dockerfile) -> None:
    user = dockerfile.final.last("USER")
    assert user is not None
    uid, _, gid = user.words[0].partition(":")
    assert uid.isdigit()
    assert gid.isdigit()
    assert int(uid) != 0
    assert int(gid) != 0


def test_the_wheels_are_binary_and_pinned_by_the_constraints(dockerfile: Dockerfile) -> None:
    (run,) = dockerfile.stage("builder").all("RUN")
    assert "pip wheel" in run.value
    assert "--only-binary=:all:" in run.value
    assert "-c constraints.txt" in run.value


def test_the_runtime_stage_installs_no_system_package_nor_compiler(dockerfile: Dockerfile) -> None:
    commands = " ".join(run.value for run in dockerfile.final.all("RUN"))
    for tool in ("apt-get", "apt ", "gcc", "build-essential", "make "):
        assert tool not in commands
    assert not dockerfile.final.all("COPY"), "the runtime stage takes the wheels by a mount only"


def test_the_health_check_asks_readyz_with_the_images_python(dockerfile: Dockerfile) -> None:
    healthcheck = dockerfile.final.last("HEALTHCHECK")
    assert healthcheck is not None
    argv = exec_form(healthcheck)
    assert argv[:2] == ["python", "-c"]
    assert "/readyz" in argv[2]
    assert "GATEPASS_PORT" in argv[2]
    assert {"interval", "timeout", "start-period", "retries"} <= set(healthcheck.flags)


def test_entrypoint_and_cmd_run_gatepass_serve(dockerfile: Dockerfile) -> None:
    entrypoint, cmd = dockerfile.final.last("ENTRYPOINT"), dockerfile.final.last("CMD")
    assert entrypoint is not None
    assert cmd is not None
    assert exec_form(entrypoint) + exec_form(cmd) == ["gatepass", "serve"]
    stop = dockerfile.final.last("STOPSIGNAL")
    assert stop is not None
    assert stop.words == ("SIGTERM",)


def test_the_environment_names_only_real_settings(dockerfile: Dockerfile) -> None:
    env = dockerfile.final.env
    known = {f"GATEPASS_{name.upper()}" for name in Settings.model_fields} | CLI_VARIABLES
    assert {name for name in env if name.startswith("GATEPASS_")} <= known
    assert env["GATEPASS_ENV"] == "production"
    assert env["GATEPASS_AUTO_MIGRATE"] == "false"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PATH"].startswith("/opt/gatepass/bin:")


def test_no_secret_is_written_into_the_image(dockerfile: Dockerfile) -> None:
    for stage in dockerfile.stages:
        for instruction in stage.all("ENV") + stage.all("ARG"):
            for word in instruction.words:
                assert not SECRET_NAME.search(word.split("=", 1)[0]), word


def test_the_data_directory_is_a_volume_and_the_port_is_exposed(dockerfile: Dockerfile) -> None:
    env = dockerfile.final.env
    volumes = [path for v in dockerfile.final.all("VOLUME") for path in paths(v)]
    assert volumes == [env["GATEPASS_DATA_DIR"]]
    exposed = [word for e in dockerfile.final.all("EXPOSE") for word in e.words]
    assert exposed == [env["GATEPASS_PORT"]]


def test_the_build_context_holds_the_package_and_nothing_else() -> None:
    files = context_files(REPOSITORY)
    assert {"pyproject.toml", "constraints.txt", "README.md", "LICENSE"} <= files
    assert "gatepass/server.py" in files
    assert "gatepass/migrations/versions" in {str(Path(f).parent) for f in files}
    outside = {f for f in files if not f.startswith("gatepass/")} - {
        "pyproject.toml", "constraints.txt", "README.md", "LICENSE"
    }  # fmt: skip
    assert outside == set()
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
