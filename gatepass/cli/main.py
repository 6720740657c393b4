"""The ``gatepass`` command line."""

from __future__ import annotations

import os
import sys

import typer

from gatepass import demo
from gatepass.cli.apikeys import apikey_app
from gatepass.cli.audit import audit_app
from gatepass.cli.clients import client_app, token_endpoint
from gatepass.cli.common import fail, runtime, transaction
from gatepass.cli.doctor import doctor
from gatepass.cli.jobs import jobs_app
from gatepass.cli.reports import report_app
from gatepass.cli.tenants import group_app, key_app, permission_app, tenant_app
from gatepass.cli.users import user_app
from gatepass.cli.webhooks import webhook_app
from gatepass.db import Database
from gatepass.leaks.github import GitHubKeys, KeysError
from gatepass.migrations import runner
from gatepass.settings import Settings

app = typer.Typer(
    name="gatepass",
    help="Gatepass: OAuth 2.0 client credentials and API keys for your public API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tenant_app, name="tenant")
app.add_typer(permission_app, name="permission")
app.add_typer(group_app, name="group")
app.add_typer(client_app, name="client")
app.add_typer(apikey_app, name="apikey")
app.add_typer(user_app, name="user")
app.add_typer(key_app, name="signing-key")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")
app.add_typer(webhook_app, name="webhook")
app.add_typer(jobs_app, name="jobs")
app.command()(doctor)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (also when GATEPASS_AUTO_MIGRATE is false)."""
    db = Database(runtime().settings.effective_database_url)
    try:
        runner.upgrade(db.engine)
    finally:
        db.dispose()
    typer.echo(f"Database is up to date ({db.engine.url.render_as_string(hide_password=True)}).")


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


@app.command()
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
    rt = runtime()
    rt.db.dispose()  # migrate (or refuse with a clear message) before any worker starts
    try:
        GitHubKeys(rt.settings)  # a keys setting that is not GitHub's document stops us here
    except KeysError as exc:
        fail(f"GATEPASS_GITHUB_SCANNING_KEYS: {exc}")
    # The server's workers read their settings from the environment.
    os.environ["GATEPASS_PUBLIC_URL"] = public_url(rt.settings, host, port)
    # Replace this process with a lean server process (same PID, far less memory).
    argv = ["--host", host, "--port", str(port), "--workers", str(workers)]
    if rt.settings.trusted_proxies:
        argv += ["--trusted-proxies", rt.settings.trusted_proxies]
    argv += ["--max-request-head-bytes", str(rt.settings.max_request_head_bytes)]
    argv += ["--max-request-headers", str(rt.settings.max_request_headers)]
    sys.stdout.flush()
    sys.stderr.flush()
    # -P: never import from the working directory (``-m`` would put it first on sys.path, so a
    # ``gatepass/`` directory there would run instead of the installed one); workers inherit it.
    os.execv(sys.executable, [sys.executable, "-P", "-m", "gatepass.server", *argv])  # noqa: S606


@app.command("demo")
def demo_setup(host: str = HostOption, port: int = PortOption) -> None:
    """Create the demo tenant, an administrator and a client, the first time only.

    The URLs it prints are those of ``gatepass serve --host HOST --port PORT`` (give the same
    options), or GATEPASS_PUBLIC_URL's if it is set.
    """
    rt = runtime()
    with transaction(rt) as session:
        setup = demo.create_demo(session, hasher=rt.hasher, cipher=rt.cipher)
    if setup is None:
        typer.echo("Gatepass already has tenants; the demo setup runs on a fresh install only.")
        return
    base = public_url(rt.settings, host, port)
    endpoint = token_endpoint(base, demo.SLUG)
    typer.echo(
        f"""
Created the demo tenant '{demo.SLUG}' (these secrets are shown only this once):

  console administrator   {setup.admin_email}
  password                {setup.admin_password.reveal()}
  client ID               {setup.client_id}
  client secret           {setup.client_secret.reveal()}

Sign in to the console at {base}/console, or use the management API
(OpenAPI at {base}/docs).

Get an access token:

  curl -s -X POST {endpoint} \\
    -u '{setup.client_id}:{setup.client_secret.reveal()}' \\
    -d grant_type=client_credentials
"""
    )


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive
        fail("interrupted")
