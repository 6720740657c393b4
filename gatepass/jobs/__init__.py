"""Background jobs: work that runs every so often in the server processes (one thread each) or
in ``gatepass jobs run-once`` from cron, never twice at once across nodes (``leases``)."""
