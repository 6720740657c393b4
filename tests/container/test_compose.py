"""compose.yaml: valid against the Compose Specification's JSON schema (as vendored by
check-jsonschema), and shaped as docs/container.md says: migrations once before the server,
health-checked dependencies, a read-only Gatepass, secrets only from .env."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatepass.settings import Settings
from tests.container.conftest import REPOSITORY
from tests.container.dockerfile import Dockerfile, paths

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
# ${NAME:?message}: compose refuses to start while NAME is unset or empty.
REQUIRED = re.compile(r"\$\{([A-Z_]+):\?[^}]+\}")
GATEPASS_SERVICES = ("migrate", "gatepass")


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_yaml_follows_the_compose_specification() -> None:
    run = schema_check(REPOSITORY / "compose.yaml")
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_schema_check_refuses_an_unknown_dependency_condition(tmp_path: Path) -> None:
    text = (REPOSITORY / "compose.yaml").read_text()
    (tmp_path / "compose.yaml").write_text(text.replace("service_healthy", "healthy", 1))
    run = schema_check(tmp_path / "compose.yaml")
    assert run.returncode == 1
    assert "'healthy' is not one of" in run.stdout


def test_gatepass_starts_after_migrations_and_healthy_dependencies(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["gatepass"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["gatepass"]["command"][0] == "serve"


def test_every_long_running_service_is_health_checked(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    services = compose["services"]
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD"
    # Gatepass's own check is the image's HEALTHCHECK, which compose must not turn off.
    assert "healthcheck" not in services["gatepass"]
    assert dockerfile.final.last("HEALTHCHECK") is not None


@pytest.mark.parametrize("service", GATEPASS_SERVICES)
def test_gatepass_runs_read_only_with_its_data_volume(
    compose: dict[str, Any], dockerfile: Dockerfile, service: str
) -> None:
    spec = compose["services"][service]
    (data_dir,) = (p for v in dockerfile.final.all("VOLUME") for p in paths(v))
    assert spec["read_only"] is True
    assert spec["tmpfs"] == ["/tmp"]  # noqa: S108
    assert spec["cap_drop"] == ["ALL"]
    (volume,) = spec["volumes"]
    name, target = volume.split(":")
    assert target == data_dir
    assert name in compose["volumes"]
    assert "user" not in spec, "the image's numeric user owns the data volume"


def test_gatepass_is_published_on_the_images_port_to_this_host_only(
    compose: dict[str, Any], dockerfile: Dockerfile
) -> None:
    (published,) = compose["services"]["gatepass"]["ports"]
    host, _, container = published.rpartition(":")
    assert container == dockerfile.final.env["GATEPASS_PORT"]
    assert host.startswith("127.0.0.1:")


@pytest.mark.parametrize("service", [*GATEPASS_SERVICES, "postgres"])
def test_secrets_come_only_from_the_env_file(compose: dict[str, Any], service: str) -> None:
    environment = compose["services"][service]["environment"]
    for name, value in environment.items():
        if re.search(r"SECRET|PASSWORD|KEY", name):
            assert REQUIRED.fullmatch(value), f"{name} must be ${{{name}:?...}}"
    example = dict(
        line.split("=", 1)
        for line in (REPOSITORY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    required = {m for value in environment.values() for m in REQUIRED.findall(str(value))}
    assert required <= set(example)
    assert all(value == "" for value in example.values()), "the example holds no value"
    assert ".env" in (REPOSITORY / ".gitignore").read_text().splitlines()


def test_a_filled_env_file_makes_a_valid_production_configuration(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    filled = {
        "GATEPASS_PUBLIC_URL": "https://id.example.com",
        "GATEPASS_SECRET_KEY": secrets.token_hex(32),
        "POSTGRES_PASSWORD": secrets.token_hex(24),
    }
    environment = compose["services"]["gatepass"]["environment"]
    for name, value in environment.items():
        monkeypatch.setenv(name, REQUIRED.sub(lambda m: filled[m.group(1)], value))
    known = {f"GATEPASS_{name.upper()}" for name in Settings.model_fields}
    assert set(environment) <= known

    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.env == "production"
    postgres = compose["services"]["postgres"]["environment"]
    user, db = postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]
    password = filled["POSTGRES_PASSWORD"]
    assert settings.database_url == f"postgresql+psycopg://{user}:{password}@postgres:5432/{db}"
    assert settings.redis_url == "redis://redis:6379/0"


def test_the_images_of_postgres_and_redis_are_pinned_by_tag(compose: dict[str, Any]) -> None:
    for name in ("postgres", "redis"):
        image = compose["services"][name]["image"]
        repository, _, tag = image.partition(":")
        assert repository == name
        assert tag
        assert tag != "latest"
