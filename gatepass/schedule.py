"""The product's background jobs, as the server's job thread and ``gatepass jobs`` run them.

Adding a job is one line here: its name, its interval and its function.
"""

from __future__ import annotations

from gatepass.clients import keys
from gatepass.jobs.runner import Job
from gatepass.reminders import job as reminders
from gatepass.webhooks import retention

JOBS: tuple[Job, ...] = (
    Job(reminders.NAME, reminders.INTERVAL, reminders.run),
    Job(retention.NAME, retention.INTERVAL, retention.run),
    Job(keys.PURGE_JOB, keys.PURGE_INTERVAL, keys.purge_used_assertions),
)
