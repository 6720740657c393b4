"""One typed settings object, read from ``GATEPASS_*`` environment variables.

Nothing here runs at import time: the CLI or the app factory builds ``Settings()`` and passes it on.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_KEY_CHARS = 32
# argon2id cost of console passwords (passes, KiB, lanes): the default is RFC 9106's second
# recommendation; production refuses less than OWASP's floor for argon2id (2 passes, 19 MiB).
PASSWORD_COST = (3, 65536, 4)
PASSWORD_FLOOR = (2, 19456)


class SettingsError(ValueError):
    """The configuration cannot be used (missing or insecure values)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEPASS_", extra="ignore", frozen=True)

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8080"
    secret_key: SecretStr | None = None
    redis_url: str | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    auto_migrate: bool = True
    max_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    # The management API and the console take bigger bodies than the protocol endpoints: a
    # credential with a 2000-character description, 100 scopes and 100 group names in a non-Latin
    # script comes to about 110 KiB as a form or escaped JSON; 256 KiB leaves room above that.
    max_management_body_bytes: int = Field(default=256 * 1024, ge=16 * 1024, le=16 * 1024 * 1024)
    # The request line and headers together, and how many headers (answered 431 past either).
    max_request_head_bytes: int = Field(default=16 * 1024, ge=4 * 1024, le=1024 * 1024)
    max_request_headers: int = Field(default=100, ge=20, le=1000)
    cache_poll_interval: float = Field(default=0.25, gt=0, le=1.0)
    last_used_flush_interval: float = Field(default=15.0, gt=0)
    default_token_lifetime: int = Field(default=600, ge=30, le=86400)  # of new tenants
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed, so
    # that audit records and per-address throttles see the caller, not the proxy. Unset: none.
    trusted_proxies: str | None = None
    # Email of one-time links to new secrets; without a host the console offers no "Email to".
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Gatepass <gatepass@localhost>"
    smtp_timeout: float = Field(default=10.0, gt=0, le=120)
    email_link_lifetime: int = Field(default=86400, ge=300, le=7 * 86400)
    # Reports of leaked secrets (``gatepass.leaks``). GitHub secret scanning's public keys: the
    # JSON document GitHub publishes, or the path of a file holding it, and/or a URL to fetch it
    # from (cached). Unset: the GitHub endpoint answers 404. The shared secret that signs the
    # generic report API's requests (HMAC-SHA256); unset: that endpoint answers 404.
    github_scanning_keys: str | None = None
    github_scanning_keys_url: str | None = None
    leak_report_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_KEY_CHARS)
    # Password checks (argon2) this process runs at once; a sign-in that finds them all busy is
    # answered 503 with Retry-After at once, never queued. Unset: one per CPU.
    max_password_hashes: int | None = Field(default=None, ge=1, le=256)
    # The cost of a console password's argon2id hash (see gatepass.users.passwords): passes,
    # memory and lanes. Production refuses less than 2 passes over 19 MiB (OWASP's floor).
    password_time_cost: int = Field(default=PASSWORD_COST[0], ge=1, le=20)
    password_memory_kib: int = Field(default=PASSWORD_COST[1], ge=8, le=4 * 1024 * 1024)
    password_parallelism: int = Field(default=PASSWORD_COST[2], ge=1, le=64)
    # Database connections per process, and how long a request waits for one before it is
    # answered 503 with Retry-After (the wait would otherwise pile up behind a flood).
    db_pool_size: int = Field(default=5, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_pool_timeout: float = Field(default=10.0, gt=0, le=120)
    # Webhooks (gatepass.destinations): plain http:// to a loopback host, and endpoints
    # on private addresses, are refused unless allowed here. The server sends due webhooks
    # every ``webhook_interval`` seconds (0: it does not; ``deliver_due`` is called elsewhere).
    webhook_allow_http: bool = False
    webhook_allow_private: bool = False
    webhook_interval: float = Field(default=1.0, ge=0, le=60)
    # Delivered and given-up webhook messages, and their delivery log, are kept this long.
    webhook_retention_days: int = Field(default=30, ge=1, le=3650)
    # Public keys fetched from a URL (a client's ``jwks_uri``, a trusted issuer's discovery
    # document): the same address rules as webhooks (gatepass.destinations), allowed apart.
    jwks_allow_http: bool = False
    jwks_allow_private: bool = False
    # Seconds one fetch of public keys may take in all (resolve, connect, send, read).
    jwks_timeout: float = Field(default=5.0, gt=0, le=60)
    # Background jobs (reminders, ...) in a thread of each server process; off: run them with
    # ``gatepass jobs run-once`` from cron. A lease in the database keeps them from running twice.
    jobs_enabled: bool = True

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("GATEPASS_PUBLIC_URL must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        entries = [e.strip() for e in value.split(",") if e.strip()]
        for entry in entries:
            if entry == "*":
                raise ValueError(
                    "GATEPASS_TRUSTED_PROXIES must list addresses or networks, not '*': "
                    "anyone could then choose the address that audits and throttles see"
                )
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"GATEPASS_TRUSTED_PROXIES: '{entry}' is not an IP address or network"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _password_cost_is_possible(self) -> Settings:
        if self.password_memory_kib < 8 * self.password_parallelism:
            raise ValueError(
                "GATEPASS_PASSWORD_MEMORY_KIB must be at least 8"
                " times GATEPASS_PASSWORD_PARALLELISM"
            )
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if self.env != "production":
            return self
        if (
            self.secret_key is None
            or len(self.secret_key.get_secret_value()) < MIN_SECRET_KEY_CHARS
        ):
            raise ValueError(
                "GATEPASS_SECRET_KEY of at least 32 characters is required in production"
            )
        if not self.public_url.startswith("https://"):
            raise ValueError("GATEPASS_PUBLIC_URL must use https:// in production")
        # plain http to a loopback port a tenant admin chooses: for development and tests only
        if self.webhook_allow_http or self.jwks_allow_http:
            raise ValueError(
                "GATEPASS_WEBHOOK_ALLOW_HTTP and GATEPASS_JWKS_ALLOW_HTTP are refused in production"
            )
        floor_time, floor_memory = PASSWORD_FLOOR
        if self.password_time_cost < floor_time or self.password_memory_kib < floor_memory:
            raise ValueError(
                f"GATEPASS_PASSWORD_TIME_COST must be at least {floor_time} and"
                f" GATEPASS_PASSWORD_MEMORY_KIB at least {floor_memory} in production"
            )
        return self

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gatepass.db').resolve()}"

    def master_key(self) -> bytes:
        """The server secret that keys secret hashes and encrypts signing keys.

        In development a random key is created once in the data directory, so that
        ``make run`` needs no configuration; production refuses to start without one.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        if self.env == "production":  # pragma: no cover - rejected by the validator
            raise SettingsError("GATEPASS_SECRET_KEY is required in production")
        return _development_key(self.data_dir / "secret.key")


def _development_key(path: Path) -> bytes:
    """The key in ``path``, made there first if there is none. It is written whole under another
    name and then linked into place, so that processes starting together (the workers of
    ``serve --workers N``, a CLI command) all read the one key the first of them made."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    draft = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.write(fd, key)
        finally:
            os.close(fd)
        os.link(draft, path)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    finally:
        draft.unlink()
    return key
