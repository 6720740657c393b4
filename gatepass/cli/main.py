"""The ``gatepass`` command line."""

from __future__ import annotations

import typer

from gatepass import demo
from gatepass.cli.apikeys import apikey_app
from gatepass.cli.audit import audit_app
from gatepass.cli.base import new_app
from gatepass.cli.clients import client_app, token_endpoint
from gatepass.cli.common import runtime, transaction
from gatepass.cli.doctor import doctor
from gatepass.cli.jobs import jobs_app
from gatepass.cli.reports import report_app
from gatepass.cli.serve import HostOption, PortOption, public_url, serve
from gatepass.cli.tenants import group_app, key_app, permission_app, tenant_app
from gatepass.cli.users import user_app
from gatepass.cli.webhooks import webhook_app
from gatepass.db import Database
from gatepass.migrations import runner

app = new_app()
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


app.command()(serve)


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
