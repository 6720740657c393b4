"""``gatepass serve``: migrate, then replace this process with the server (``gatepass.server``).

Light on purpose: the console script runs this module for ``serve`` without importing the rest
of the CLI (``gatepass.cli.entry``), so a server (or a container) starts sooner.
"""

from __future__ import annotations

import os
import sys

import typer

from gatepass.cli.base import bring_up_to_date, fail, load_settings, new_app
from gatepass.db import Database
from gatepass.leaks.github import GitHubKeys, KeysError
from gatepass.settings import Settings

WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - recognised, not bound
# GATEPASS_HOST and GATEPASS_PORT stand in for the options, so that a container image can listen
# on 0.0.0.0 by default and its health check can find the port it serves on.
HostOption = typer.Option(
    "127.0.0.1", "--host", envvar="GATEPASS_HOST", help="Address to listen on."
)
PortOption = typer.Option(
    8080, "--port", envvar="GATEPASS_PORT", min=1, max=65535, help="Port to listen on."
)


def served_url(host: str, port: int) -> str:
    """``http://<host>:<port>`` of a server started with ``--host host --port port``.

    A wildcard bind (``0.0.0.0`` or ``::``) is published as ``localhost``, the one name sure to
    reach it from the machine itself; an IPv6 address is bracketed.
    """
    if host in WILDCARD_HOSTS:
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_url(settings: Settings, host: str, port: int) -> str:
    """GATEPASS_PUBLIC_URL if it is set, else the URL of the server as started."""
    if "public_url" in settings.model_fields_set:
        return settings.public_url
    return served_url(host, port)


def serve(
    host: str = HostOption,
    port: int = PortOption,
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes."),
) -> None:
    """Run the server. Migrates the database first (unless GATEPASS_AUTO_MIGRATE=false).

    Issuers are ``{GATEPASS_PUBLIC_URL}/realms/{tenant}``; unless GATEPASS_PUBLIC_URL is set, its
    base is ``http://<host>:<port>`` of this server, with ``localhost`` for a wildcard ``--host``
    (``0.0.0.0`` or ``::``).
    """
    settings = load_settings()
    db = Database(settings.effective_database_url)
    try:  # migrate (or refuse with a clear message) before any worker starts
        bring_up_to_date(settings, db)
    finally:
        db.dispose()
    try:
        GitHubKeys(settings)  # a keys setting that is not GitHub's document stops us here
    except KeysError as exc:
        fail(f"GATEPASS_GITHUB_SCANNING_KEYS: {exc}")
    # In development, the key file is made here, once, rather than by each worker at once.
    settings.master_key()
    # The server's workers read their settings from the environment.
    os.environ["GATEPASS_PUBLIC_URL"] = public_url(settings, host, port)
    # Replace this process with a lean server process (same PID, far less memory).
    argv = ["--host", host, "--port", str(port), "--workers", str(workers)]
    if settings.trusted_proxies:
        argv += ["--trusted-proxies", settings.trusted_proxies]
    argv += ["--max-request-head-bytes", str(settings.max_request_head_bytes)]
    argv += ["--max-request-headers", str(settings.max_request_headers)]
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: never import from the working directory (``-m`` would put it first on sys.path, so a
    # ``gatepass/`` directory there would run instead of the installed one); workers inherit it.
    os.execv(sys.executable, [sys.executable, "-P", "-m", "gatepass.server", *argv])  # noqa: S606


def alone() -> typer.Typer:
    """``gatepass`` with ``serve`` as its only command (the whole CLI adds the same function)."""
    app = new_app()
    app.command()(serve)

    @app.callback()
    def _group() -> None:  # a group, so that ``serve`` is named as in the whole CLI
        pass

    return app
