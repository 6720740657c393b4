"""Deployment checks behind ``gatepass doctor``: the database, signing keys and Redis.

Each check returns a value (ok, warn or fail, with what to do) and changes nothing: no migration,
no SQLite file, no development key; in Redis one PING and one pub/sub message on a channel of
its own. Secrets never appear in a result; URLs are shown with their password masked.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from cryptography.exceptions import InvalidTag
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from gatepass.migrations import runner
from gatepass.settings import Settings
from gatepass.signing_keys.material import KeyCipher
from gatepass.signing_keys.models import SigningKey
from gatepass.tenants.models import Tenant

Status = Literal["ok", "warn", "fail"]
TIMEOUT = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    hint: str = ""


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def warn(name: str, detail: str, hint: str) -> Check:
    return Check(name, "warn", detail, hint)


def fail(name: str, detail: str, hint: str) -> Check:
    return Check(name, "fail", detail, hint)


# --- database ---------------------------------------------------------------------------------


def masked(url: str) -> str:
    """A database or Redis URL fit to print: the password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a valid URL)"


def database_checks(settings: Settings) -> tuple[list[Check], list[str]]:
    """Kind, reachability, schema and signing keys; also the tenant slugs found."""
    raw = settings.effective_database_url
    try:
        url = make_url(raw)
    except ArgumentError:
        return [
            fail(
                "database",
                "GATEPASS_DATABASE_URL is not a valid database URL",
                "use e.g. postgresql+psycopg://gatepass:PASSWORD@db-host/gatepass",
            )
        ], []
    sqlite = url.get_backend_name() == "sqlite"
    checks = [database_kind(settings, sqlite)]
    if sqlite:
        file_checks = sqlite_checks(settings, Path(url.database or ""))
        checks += file_checks
        if any(c.status != "ok" for c in file_checks):
            return checks, []
    try:
        engine = _engine(raw, sqlite)
    except (ArgumentError, ImportError) as exc:  # an unknown dialect or a missing driver
        hint = "use postgresql+psycopg:// (or sqlite:/// for one process)"
        return [*checks, fail("database", f"cannot use this URL: {type(exc).__name__}", hint)], []
    try:
        return [*checks, *_connected_checks(engine, raw, settings)], _slugs(engine)
    finally:
        engine.dispose()


def _connected_checks(engine: Engine, raw: str, settings: Settings) -> list[Check]:
    reach = reachability(engine, raw)
    if reach.status == "fail":
        return [reach]
    schema = schema_check(engine, auto_migrate=settings.auto_migrate)
    if schema.status != "ok":
        return [reach, schema]
    return [reach, schema, signing_key_check(engine, settings)]


def _slugs(engine: Engine) -> list[str]:
    """The tenants, oldest first; none when the database cannot say."""
    try:
        with Session(engine) as session:
            return list(session.scalars(select(Tenant.slug).order_by(Tenant.id)))
    except SQLAlchemyError:
        return []


def database_kind(settings: Settings, sqlite: bool) -> Check:
    shown = masked(settings.effective_database_url)
    if not sqlite:
        return ok("database kind", shown)
    if settings.env == "production":
        return warn(
            "database kind",
            f"SQLite: {shown}",
            "use PostgreSQL in production: several processes and nodes share it",
        )
    return ok("database kind", f"SQLite: {shown}")


def sqlite_checks(settings: Settings, path: Path) -> list[Check]:
    """The SQLite file's directory must be writable (SQLite writes -wal and -shm files beside)."""
    name, folder = "data directory", path.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not os.access(existing, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return [
            fail(
                name,
                f"{existing} is not writable by this user",
                "give the user Gatepass runs as write access, or set GATEPASS_DATA_DIR",
            )
        ]
    if not path.exists():
        hint = "gatepass serve creates it" if settings.auto_migrate else "run gatepass migrate"
        return [warn(name, f"{folder} is writable; {path.name} does not exist yet", hint)]
    return [ok(name, f"{folder} is writable")]


def _engine(url: str, sqlite: bool) -> Engine:
    args = {} if sqlite else {"connect_timeout": int(TIMEOUT)}
    return create_engine(url, poolclass=NullPool, connect_args=args)


def reachability(engine: Engine, url: str) -> Check:
    try:
        with engine.connect() as conn:
            version = _server_version(conn.dialect.server_version_info)
            rounds = []
            for _ in range(3):
                started = time.perf_counter()
                conn.execute(text("SELECT 1"))
                rounds.append(time.perf_counter() - started)
    except (SQLAlchemyError, OSError) as exc:
        return fail(
            "database",
            f"cannot connect to {masked(url)}: {_reason(exc, url)}",
            "check GATEPASS_DATABASE_URL, that the server runs and accepts this host",
        )
    return ok("database", f"{version}reachable, round trip {min(rounds) * 1000:.1f} ms")


def _server_version(info: tuple[int | str, ...] | None) -> str:
    return f"version {'.'.join(str(p) for p in info)}, " if info else ""


def _reason(exc: BaseException, url: str) -> str:
    """The driver's message on one line, without the password should the driver quote it."""
    cause = getattr(exc, "orig", None) or exc
    line = " ".join(part.strip() for part in str(cause).splitlines() if part.strip())[:300]
    line = line or type(cause).__name__
    password = make_url(url).password
    return line.replace(str(password), "***") if password else line


def schema_check(engine: Engine, *, auto_migrate: bool) -> Check:
    name = "migrations"
    script = ScriptDirectory.from_config(runner.alembic_config(str(engine.url)))
    heads = set(script.get_heads())
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError as exc:
        return fail(
            name,
            f"cannot read the schema version: {type(exc).__name__}",
            "check the database user's rights",
        )
    if current == heads:
        return ok(name, f"at head ({', '.join(sorted(heads))})")
    try:
        known = all(script.get_revision(rev) is not None for rev in current)
    except CommandError:
        known = False
    if not known:
        return fail(
            name,
            f"the database is at {', '.join(sorted(current))}, unknown to this version of Gatepass",
            "upgrade Gatepass (never run an older one on it)",
        )
    found = ", ".join(sorted(current)) or "no Gatepass schema"
    detail = f"{found}; this version needs {', '.join(sorted(heads))}"
    if auto_migrate:
        return warn(
            name,
            detail,
            "gatepass serve migrates at start (GATEPASS_AUTO_MIGRATE); "
            "with several nodes run gatepass migrate once instead",
        )
    return fail(name, detail, "run gatepass migrate (GATEPASS_AUTO_MIGRATE is false)")


# --- signing keys -------------------------------------------------------------------------------


def signing_key_check(engine: Engine, settings: Settings) -> Check:
    """Every tenant's current and next keys decrypt with the configured secret key."""
    name = "signing keys"
    with Session(engine) as session:
        tenants = session.scalar(select(func.count(Tenant.id))) or 0
        keys = session.execute(
            select(SigningKey.kid, SigningKey.private_key_encrypted, Tenant.slug)
            .join(Tenant, Tenant.id == SigningKey.tenant_id)
            .where(SigningKey.status.in_(("current", "next")))
        ).all()
        with_current = session.scalar(
            select(func.count(func.distinct(SigningKey.tenant_id))).where(
                SigningKey.status == "current"
            )
        )
    if not tenants:
        return warn(
            name, "no tenants yet, so no keys to check", "create one: gatepass tenant create SLUG"
        )
    master = _master_key(settings)
    if master is None:
        return fail(
            name,
            f"{len(keys)} key(s) stored, but no GATEPASS_SECRET_KEY and no development key file",
            "set the GATEPASS_SECRET_KEY they were made with",
        )
    cipher = KeyCipher.from_master_key(master)
    broken = sorted({slug for kid, sealed, slug in keys if not _opens(cipher, sealed, kid)})
    if broken:
        return fail(
            name,
            f"{len(broken)} tenant(s) ({', '.join(broken[:5])}) have keys that "
            "GATEPASS_SECRET_KEY does not decrypt: it is not the key they were made with",
            "restore the original GATEPASS_SECRET_KEY (see the deployment guide)",
        )
    if with_current != tenants:
        return fail(
            name,
            f"{tenants - (with_current or 0)} tenant(s) have no current key",
            "rotate: gatepass signing-key rotate --tenant SLUG",
        )
    return ok(name, f"{len(keys)} key(s) of {tenants} tenant(s) decrypt with the secret key")


def _master_key(settings: Settings) -> bytes | None:
    """The server secret, without creating the development key file as ``master_key`` would."""
    if settings.secret_key is not None:
        return settings.master_key()
    path = settings.data_dir / "secret.key"
    return path.read_bytes().strip() if path.exists() else None


def _opens(cipher: KeyCipher, sealed: bytes, kid: str) -> bool:
    try:
        cipher.open(sealed, kid)
    except (InvalidTag, ValueError):
        return False
    return True


# --- Redis ----------------------------------------------------------------------------------------


def redis_checks(url: str | None) -> list[Check]:
    if url is None:
        return [
            warn(
                "redis",
                "GATEPASS_REDIS_URL is not set: each process counts on its own",
                "with several processes or nodes set GATEPASS_REDIS_URL, so that rate "
                "limits and sign-in throttles hold across all of them",
            )
        ]
    try:
        client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    except ValueError:
        return [
            fail(
                "redis",
                "GATEPASS_REDIS_URL is not a valid Redis URL",
                "use e.g. redis://redis-host:6379/0",
            )
        ]
    try:
        started = time.perf_counter()
        client.ping()
        latency = (time.perf_counter() - started) * 1000
        checks = [ok("redis", f"{masked(url)} answers PING in {latency:.1f} ms")]
        checks.append(_pubsub(client))
    except redis.RedisError as exc:
        return [
            fail(
                "redis",
                f"cannot reach {masked(url)}: {_reason(exc, url)}",
                "check GATEPASS_REDIS_URL, that Redis runs and accepts this host",
            )
        ]
    finally:
        client.close()
    return checks


def _pubsub(client: redis.Redis) -> Check:
    channel = f"gatepass:doctor:{secrets.token_hex(8)}"
    pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
    try:
        pubsub.subscribe(channel)
        client.publish(channel, "ping")
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if pubsub.get_message(timeout=0.2) is not None:
                return ok("redis pub/sub", "a message published came back to a subscriber")
    finally:
        pubsub.close()
    return fail(
        "redis pub/sub",
        "a published message did not arrive within 5 s",
        "allow PUBLISH/SUBSCRIBE for Gatepass's Redis user (ACL)",
    )
