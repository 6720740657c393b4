"""``gatepass doctor`` on real databases, Redis and servers: one test per outcome that matters."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from gatepass.settings import Settings
from tests.cli.harness import Cli
from tests.conftest import BACKENDS, PG_URL
from tests.e2e import conftest as e2e
from tests.e2e.conftest import Serve, free_port
from tests.password_cost import CHEAP_ENV

# ``gatepass serve`` on the test's database, shared with the e2e tests.
gatepass_env = e2e.gatepass_env
serve = e2e.serve

PASSWORD = "pw-" + secrets.token_hex(8)  # must never show in doctor's output


def doctor(cli: Cli, *args: str, **env: str | None) -> tuple[int, dict[str, Any], str]:
    """Exit code, the checks by name, and the whole output (JSON and table runs alike)."""
    if env.get("GATEPASS_ENV") == "production":  # which refuses the tests' cheap password cost
        env = {**dict.fromkeys(CHEAP_ENV), **env}
    runner = Cli({**cli.env, **env})
    result = runner.run("doctor", "--json", *args)
    report = result.stdout
    table = runner.run("doctor", *args)
    assert table.exit_code == result.exit_code
    data = json.loads(report)
    assert data["ok"] is (result.exit_code == 0)
    return result.exit_code, {c["name"]: c for c in data["checks"]}, report + table.stdout


def status(checks: dict[str, Any]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def closed_port() -> int:
    return free_port()  # free a moment ago: nothing listens there


def test_healthy_deployment_passes(cli: Cli, settings: Settings) -> None:
    cli.ok("tenant", "create", "acme")

    code, checks, output = doctor(cli)

    assert code == 0
    assert status(checks)["database"] == "ok"
    assert status(checks)["migrations"] == "ok"
    assert status(checks)["signing keys"] == "ok"
    assert "2 key(s) of 1 tenant(s)" in checks["signing keys"]["detail"]
    assert status(checks)["public URL"] == "ok"
    assert settings.secret_key is not None
    assert settings.secret_key.get_secret_value() not in output


def test_no_tenants_is_a_warning(cli: Cli) -> None:
    code, checks, _ = doctor(cli)

    assert code == 0
    assert status(checks)["signing keys"] == "warn"


def test_unreachable_postgresql_fails_with_the_password_masked(cli: Cli) -> None:
    url = f"postgresql+psycopg://gatepass:{PASSWORD}@127.0.0.1:{closed_port()}/gatepass"

    code, checks, output = doctor(cli, GATEPASS_DATABASE_URL=url)

    assert code == 1
    assert status(checks)["database"] == "fail"
    assert "cannot connect to postgresql+psycopg://gatepass:***@127.0.0.1" in output
    assert PASSWORD not in output
    assert "migrations" not in checks


def test_invalid_database_url_fails_without_echoing_it(cli: Cli) -> None:
    code, checks, output = doctor(cli, GATEPASS_DATABASE_URL=f"not a url {PASSWORD}")

    assert code == 1
    assert status(checks)["database"] == "fail"
    assert PASSWORD not in output


def test_unsupported_database_fails_without_a_crash(cli: Cli) -> None:
    code, checks, output = doctor(cli, GATEPASS_DATABASE_URL=f"mysql://gp:{PASSWORD}@db/gp")

    assert code == 1
    assert status(checks)["database"] == "fail"
    assert PASSWORD not in output


def test_wrong_secret_key_is_a_clear_failure(cli: Cli, settings: Settings) -> None:
    cli.ok("tenant", "create", "acme")
    wrong = secrets.token_hex(32)

    code, checks, output = doctor(cli, GATEPASS_SECRET_KEY=wrong)

    assert code == 1
    assert status(checks)["signing keys"] == "fail"
    assert "GATEPASS_SECRET_KEY does not decrypt" in checks["signing keys"]["detail"]
    assert "acme" in checks["signing keys"]["detail"]
    assert settings.secret_key is not None
    assert wrong not in output
    assert settings.secret_key.get_secret_value() not in output


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without Gatepass's schema."""
    if request.param == "sqlite":
        path = tmp_path / "empty.db"
        engine = create_engine(f"sqlite:///{path}")
        with engine.connect() as connection:  # creates the file
            connection.execute(text("SELECT 1"))
        engine.dispose()
        yield f"sqlite:///{path}"
        return
    assert PG_URL is not None
    name = f"gatepass_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_unmigrated_database_fails_without_auto_migrate(cli: Cli, empty_database: str) -> None:
    code, checks, _ = doctor(
        cli, GATEPASS_DATABASE_URL=empty_database, GATEPASS_AUTO_MIGRATE="false"
    )

    assert code == 1
    assert status(checks)["migrations"] == "fail"
    assert "run gatepass migrate" in checks["migrations"]["hint"]
    assert "signing keys" not in checks


def test_migrate_follows_the_hint_with_auto_migrate_off(cli: Cli, empty_database: str) -> None:
    env = {"GATEPASS_DATABASE_URL": empty_database, "GATEPASS_AUTO_MIGRATE": "false"}
    Cli({**cli.env, **env}).ok("migrate")

    code, checks, _ = doctor(cli, **env)

    assert code == 0
    assert status(checks)["migrations"] == "ok"


def test_unmigrated_database_warns_when_serve_migrates(cli: Cli, empty_database: str) -> None:
    code, checks, _ = doctor(cli, GATEPASS_DATABASE_URL=empty_database)

    assert code == 0
    assert status(checks)["migrations"] == "warn"


def test_doctor_changes_nothing(cli: Cli, empty_database: str) -> None:
    doctor(cli, GATEPASS_DATABASE_URL=empty_database, GATEPASS_SECRET_KEY=None)

    _, checks, _ = doctor(cli, GATEPASS_DATABASE_URL=empty_database, GATEPASS_SECRET_KEY=None)

    assert status(checks)["migrations"] == "warn"  # still not migrated
    assert "will be created" in checks["secret key"]["detail"]  # no development key made


@pytest.mark.parametrize(
    ("public_url", "named"),
    [("http://id.example.com", "GATEPASS_PUBLIC_URL"), ("id.example.com", "GATEPASS_PUBLIC_URL")],
)
def test_bad_public_url_in_production_fails(cli: Cli, public_url: str, named: str) -> None:
    code, checks, _ = doctor(cli, GATEPASS_ENV="production", GATEPASS_PUBLIC_URL=public_url)

    assert code == 1
    assert list(checks) == ["settings"]
    assert named in checks["settings"]["detail"]


def test_public_url_without_a_host_fails(cli: Cli) -> None:
    code, checks, _ = doctor(cli, GATEPASS_PUBLIC_URL="https://")

    assert code == 1
    assert status(checks)["public URL"] == "fail"


def test_short_secret_key_in_production_fails_without_showing_it(cli: Cli) -> None:
    short = "short-" + secrets.token_hex(4)

    code, checks, output = doctor(cli, GATEPASS_ENV="production", GATEPASS_SECRET_KEY=short)

    assert code == 1
    assert "GATEPASS_SECRET_KEY" in checks["settings"]["detail"]
    assert short not in output


def test_sqlite_in_production_is_a_warning(cli: Cli, settings: Settings) -> None:
    if not settings.effective_database_url.startswith("sqlite"):
        pytest.skip("about SQLite")

    code, checks, _ = doctor(cli, GATEPASS_ENV="production")

    assert code == 0
    assert status(checks)["settings"] == "ok"
    assert status(checks)["database kind"] == "warn"
    assert status(checks)["data directory"] == "ok"


def test_redis_not_configured_is_a_warning(cli: Cli) -> None:
    _, checks, _ = doctor(cli)

    assert status(checks)["redis"] == "warn"
    assert "GATEPASS_REDIS_URL" in checks["redis"]["hint"]


def test_unreachable_redis_fails_with_the_password_masked(cli: Cli) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{closed_port()}/0"

    code, checks, output = doctor(cli, GATEPASS_REDIS_URL=url)

    assert code == 1
    assert status(checks)["redis"] == "fail"
    assert "redis://:***@127.0.0.1" in output
    assert PASSWORD not in output


def test_reachable_redis_passes_ping_and_pubsub(cli: Cli, redis_url: str) -> None:
    code, checks, _ = doctor(cli, GATEPASS_REDIS_URL=redis_url)

    assert code == 0
    assert status(checks)["redis"] == "ok"
    assert status(checks)["redis pub/sub"] == "ok"


@pytest.mark.e2e
def test_url_probes_readiness_and_issuer(cli: Cli, serve: Serve) -> None:
    cli.ok("tenant", "create", "acme")
    server = serve(public_url="https://id.example.com")

    code, checks, _ = doctor(cli, "--url", server.base_url)

    assert code == 0
    assert status(checks)["server /readyz"] == "ok"
    assert status(checks)["server issuer"] == "ok"

    code, checks, _ = doctor(
        cli, "--url", server.base_url, GATEPASS_PUBLIC_URL="https://other.test"
    )

    assert code == 1
    assert status(checks)["server issuer"] == "fail"
    assert "https://id.example.com/realms/acme" in checks["server issuer"]["detail"]


def test_url_of_no_server_fails(cli: Cli) -> None:
    code, checks, _ = doctor(cli, "--url", f"http://127.0.0.1:{closed_port()}")

    assert code == 1
    assert status(checks)["server /readyz"] == "fail"


@pytest.mark.e2e
def test_url_warns_when_the_server_serves_without_redis(
    cli: Cli, serve: Serve, gatepass_env: dict[str, str]
) -> None:
    cli.ok("tenant", "create", "acme")
    gatepass_env["GATEPASS_REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    server = serve(public_url="https://id.example.com")

    code, checks, _ = doctor(cli, "--url", server.base_url)

    assert code == 0  # a warning, not a failure: the server still serves
    assert status(checks)["server /readyz"] == "warn"
    assert "Redis" in checks["server /readyz"]["hint"]


def test_email_is_checked_with_a_session_that_sends_nothing(cli: Cli) -> None:
    received: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
            received.append(envelope.original_content or b"")
            return "250 OK"

    port = free_port()
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        code, checks, _ = doctor(
            cli,
            GATEPASS_SMTP_HOST="127.0.0.1",
            GATEPASS_SMTP_PORT=str(port),
            GATEPASS_SMTP_SECURITY="none",
        )
    finally:
        smtp.stop()
    assert code == 0
    assert status(checks)["email"] == "ok"
    assert f"127.0.0.1:{port}" in checks["email"]["detail"]
    assert received == []


def test_an_unreachable_mail_server_fails(cli: Cli) -> None:
    code, checks, _ = doctor(
        cli, GATEPASS_SMTP_HOST="127.0.0.1", GATEPASS_SMTP_PORT=str(closed_port())
    )
    assert code == 1
    assert status(checks)["email"] == "fail"
    assert "GATEPASS_SMTP_HOST" in checks["email"]["hint"]


def test_email_not_configured_is_fine(cli: Cli) -> None:
    _, checks, _ = doctor(cli)
    assert status(checks)["email"] == "ok"
    assert 'no "Email to"' in checks["email"]["detail"]
