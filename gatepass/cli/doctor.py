"""``gatepass doctor``: check a deployment's configuration and what it connects to.

It reads the same ``GATEPASS_*`` settings as ``gatepass serve``; the checks of the database,
signing keys and Redis live in ``gatepass.cli.checks``. Nothing is changed and no secret is
printed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from urllib.parse import urlsplit

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from gatepass.cli.checks import (
    TIMEOUT,
    Check,
    database_checks,
    fail,
    ok,
    redis_checks,
    warn,
)
from gatepass.cli.common import JsonOption, emit_json
from gatepass.deliveries import mail
from gatepass.settings import MIN_SECRET_KEY_CHARS, Settings

STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def doctor(
    url: str | None = typer.Option(
        None, "--url", help="Also probe a running server here: /readyz and a discovery document."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Check the configuration, database, Redis, signing keys and, with --url, a running server.

    Exits 1 when a check fails, 0 otherwise (warnings included).
    """
    checks = run_checks(url)
    if as_json:
        emit_json({"ok": passed(checks), "checks": [asdict(c) for c in checks]})
    else:
        render(checks)
    raise typer.Exit(0 if passed(checks) else 1)


def passed(checks: list[Check]) -> bool:
    return all(c.status != "fail" for c in checks)


def render(checks: list[Check]) -> None:
    table = Table(title="gatepass doctor", title_justify="left")
    for column in ("check", "status", "detail", "what to do"):
        table.add_column(column, overflow="fold")
    for c in checks:
        table.add_row(c.name, f"[{STYLE[c.status]}]{c.status}[/]", c.detail, c.hint)
    console = Console()
    console.print(table)
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    console.print(f"{failed} failed, {warned} warning(s), {len(checks) - failed - warned} ok")


def run_checks(url: str | None) -> list[Check]:
    try:
        settings = Settings()
    except ValidationError as exc:
        reasons = "; ".join(_named(e["loc"], e["msg"]) for e in exc.errors())
        return [fail("settings", reasons, "fix the GATEPASS_* variables named here")]
    checks = [settings_check(settings), secret_key_check(settings), public_url_check(settings)]
    db_checks, tenants = database_checks(settings)
    checks += db_checks
    checks += redis_checks(settings.redis_url)
    checks.append(mail_check(settings))
    if url is not None:
        checks += server_checks(url, settings.public_url, tenants)
    return checks


def _named(loc: tuple[int | str, ...], message: str) -> str:
    """A validation error, naming its variable (never its value)."""
    message = message.removeprefix("Value error, ")
    name = f"GATEPASS_{str(loc[0]).upper()}" if loc else ""
    return f"{name}: {message}" if name and name not in message else message


# --- settings -----------------------------------------------------------------------------------


def settings_check(settings: Settings) -> Check:
    if settings.env == "production":
        return ok("settings", "valid; GATEPASS_ENV=production")
    return warn(
        "settings",
        "valid; GATEPASS_ENV=development",
        "set GATEPASS_ENV=production on a server: it refuses insecure settings at start",
    )


def secret_key_check(settings: Settings) -> Check:
    name = "secret key"
    if settings.secret_key is not None:
        if len(settings.secret_key.get_secret_value()) < MIN_SECRET_KEY_CHARS:
            return warn(
                name,
                "GATEPASS_SECRET_KEY is shorter than 32 characters",
                "use 64 random hex characters: openssl rand -hex 32",
            )
        return ok(name, "GATEPASS_SECRET_KEY is set (not shown)")
    path = settings.data_dir / "secret.key"
    state = "is used" if path.exists() else "will be created at the first start"
    return warn(
        name,
        f"GATEPASS_SECRET_KEY is not set: the development key {path} {state}",
        "set GATEPASS_SECRET_KEY (openssl rand -hex 32) and keep it with your backups",
    )


def public_url_check(settings: Settings) -> Check:
    name, value = "public URL", settings.public_url
    parts = urlsplit(value)
    if not parts.hostname or parts.query or parts.fragment or "@" in parts.netloc:
        return fail(
            name,
            f"GATEPASS_PUBLIC_URL '{value[:100]}' is not a plain base URL",
            "use scheme, host and an optional path, e.g. https://id.example.com",
        )
    if parts.scheme != "https":
        return warn(
            name,
            f"{value} (issuer base) is not https",
            "serve Gatepass over TLS and set an https:// GATEPASS_PUBLIC_URL",
        )
    return ok(name, f"{value} (issuer base)")


# --- a running server -----------------------------------------------------------------------


def mail_check(settings: Settings) -> Check:
    """The SMTP server of emailed one-time links: connected, secured and logged in, no mail."""
    if not mail.configured(settings):
        return ok("email", 'GATEPASS_SMTP_HOST is not set: the console offers no "Email to"')
    start = time.perf_counter()
    try:
        mail.probe(settings)
    except mail.MailError as exc:
        return fail(
            "email",
            str(exc),
            "check GATEPASS_SMTP_HOST, _PORT, _SECURITY and the login; or unset"
            " GATEPASS_SMTP_HOST to turn email off",
        )
    took = (time.perf_counter() - start) * 1000
    target = f"{settings.smtp_host}:{settings.smtp_port}"
    return ok("email", f"{target} ({settings.smtp_security}) accepted a session in {took:.0f} ms")


def server_checks(url: str, public_url: str, tenants: list[str]) -> list[Check]:
    base = url.rstrip("/")
    if urlsplit(base).scheme not in ("http", "https"):
        return [
            fail(
                "server",
                f"--url '{base[:100]}' is not an http(s) URL",
                "e.g. --url http://127.0.0.1:8080",
            )
        ]
    with httpx.Client(timeout=TIMEOUT) as http:
        ready = _probe(http, f"{base}/readyz", "server /readyz", _ready)
        if ready.status == "fail" or not tenants:
            return [ready]
        doc = f"{base}/realms/{tenants[0]}/.well-known/openid-configuration"
        want = f"{public_url}/realms/{tenants[0]}"
        return [ready, _probe(http, doc, "server issuer", lambda r: _issuer(r, want))]


def _probe(
    http: httpx.Client, url: str, name: str, judge: Callable[[httpx.Response], Check]
) -> Check:
    try:
        response = http.get(url)
    except httpx.HTTPError as exc:
        return fail(
            name,
            f"GET {url}: {type(exc).__name__}",
            "check that the server runs and that --url reaches it",
        )
    return Check(**{**asdict(judge(response)), "name": name})


def _ready(response: httpx.Response) -> Check:
    if response.status_code != 200:
        return fail(
            "",
            f"HTTP {response.status_code}: {response.text[:200]}",
            "the server cannot reach its database: see its log",
        )
    if '"degraded"' in response.text:
        return warn(
            "",
            "serving, but degraded: " + response.text[:200],
            "the server cannot reach Redis: limits are per process until it is back",
        )
    return ok("", "ready: " + response.text[:200])


def _issuer(response: httpx.Response, want: str) -> Check:
    try:
        issuer = response.json().get("issuer") if response.status_code == 200 else None
    except ValueError:
        issuer = None
    if issuer == want:
        return ok("", f"discovery names issuer {issuer}")
    return fail(
        "",
        f"discovery names issuer {str(issuer)[:200]}, expected {want}",
        "give the server the same GATEPASS_PUBLIC_URL as this configuration",
    )
