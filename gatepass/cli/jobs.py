"""``gatepass jobs``: the background jobs, for cron users and for a look at what ran where."""

from __future__ import annotations

import typer

from gatepass.cli.common import JsonOption, emit_json, emit_table, iso, runtime
from gatepass.jobs import leases, runner
from gatepass.schedule import JOBS

jobs_app = typer.Typer(help="Background jobs: expiry and dormancy reminders, ...")


@jobs_app.command("run-once")
def run_once(
    force: bool = typer.Option(False, "--force", help="Run jobs that are not due yet too."),
    as_json: bool = JsonOption,
) -> None:
    """Run every due job once, unless another process is running it (for cron, e.g.
    ``*/10 * * * * gatepass jobs run-once``)."""
    rt = runtime()
    try:
        done = runner.run_due(rt.db, rt.settings, JOBS, holder=runner.holder_name(), force=force)
    finally:
        rt.db.dispose()
    if as_json:
        emit_json([{"job": o.job, "did": o.did, "result": o.result} for o in done])
        return
    emit_table("Jobs", ("job", "did", "result"), [(o.job, o.did, o.result) for o in done])


@jobs_app.command("list")
def list_jobs(as_json: bool = JsonOption) -> None:
    """The jobs, their interval, when each last ran, how, and who runs it now."""
    rt = runtime()
    try:
        held = leases.all_leases(rt.db)
    finally:
        rt.db.dispose()
    rows = []
    for job in JOBS:
        lease = held.get(job.name)
        last = iso(lease.last_run_at) if lease else None
        rows.append(
            {
                "job": job.name,
                "interval": job.interval,
                "last_run_at": last,
                "last_result": lease.last_result if lease else "",
                "holder": lease.holder if lease else "",
            }
        )
    if as_json:
        emit_json(rows)
        return
    columns = ("job", "interval", "last run", "result", "holder")
    emit_table("Jobs", columns, [tuple(r.values()) for r in rows])
