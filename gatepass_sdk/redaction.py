"""``ApiKeyLogFilter``: keeps ``?apikey=`` values out of log lines.

The SDK hides the query parameter from the application, but the HTTP server logs the request
line itself (uvicorn's access log does, from the original request). Install the filter on such
loggers: ``logging.getLogger("uvicorn.access").addFilter(ApiKeyLogFilter())``.
"""

from __future__ import annotations

import logging
import re

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
