"""Structured JSON logs on stdout for Gatepass and the libraries it runs on.

Log calls pass identifiers (tenant, client id, outcome), never secrets; ``redact`` is applied to
values that come from a request and could be a secret pasted into the wrong field.
"""

from __future__ import annotations

import logging
import sys

import structlog

from gatepass import credential_secrets as cs


def configure(level: str) -> None:
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The server's access log would print raw request lines (query strings included): off.
    access = logging.getLogger("uvicorn.access")
    access.handlers[:] = []
    access.propagate = False


def redact(value: str) -> str:
    """A request value safe to log: anything shaped like a Gatepass secret is masked."""
    return cs.mask(value)
