"""``ApiKeyLogFilter``: keeps ``?apikey=`` values out of log lines.

The SDK hides the query parameter from the application, but the HTTP server logs the request
line itself (uvicorn's access log does, from the original request). ``GatepassMiddleware``
installs the filter on uvicorn's access logger (``uvicorn.access``) when it is built; install it
on any other logger that repeats request lines with ``install_log_filter(name)``.
"""

from __future__ import annotations

import logging
import re
import threading

from gatepass_sdk.credentials import QUERY_PARAMETER

_IN_QUERY = re.compile(rf"([?&]{QUERY_PARAMETER}=)[^&#\s\"']*")
REDACTED = r"\1***"


def redact(text: str) -> str:
    return _IN_QUERY.sub(REDACTED, text) if QUERY_PARAMETER in text else text


class ApiKeyLogFilter(logging.Filter):
    """Rewrites a record's message and string arguments; the record's shape is kept, so
    formatters that unpack ``args`` (uvicorn's access formatter) keep working."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


UVICORN_ACCESS_LOGGER = "uvicorn.access"
_installing = threading.Lock()


def install_log_filter(name: str = UVICORN_ACCESS_LOGGER) -> bool:
    """Add an ``ApiKeyLogFilter`` to the logger ``name`` unless it has one already.

    Returns whether a filter was added. A filter belongs to one logger: records that other
    loggers emit (propagated to this one's handlers or not) are not rewritten by it.
    """
    logger = logging.getLogger(name)
    with _installing:
        if any(isinstance(f, ApiKeyLogFilter) for f in logger.filters):
            return False
        logger.addFilter(ApiKeyLogFilter())
        return True
