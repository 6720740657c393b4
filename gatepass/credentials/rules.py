"""The input rules of a credential (an OAuth client or an API key), in one place.

The management API, the CLI and the console all end in the services that apply these, so the
same input gets the same answer from each; the API's schemas use the same bounds so that its
OpenAPI document says what the services enforce.
"""

from __future__ import annotations

from gatepass.errors import InvalidInputError
from gatepass.text import MAX_DESCRIPTION, description

__all__ = [
    "MAX_DESCRIPTION",
    "MAX_NAME",
    "MAX_RATE_LIMIT",
    "MAX_RATE_PERIOD",
    "description",
    "name",
]

MAX_NAME = 200
MAX_RATE_LIMIT = 1_000_000_000  # requests per period
MAX_RATE_PERIOD = 86_400  # seconds: one day

RATE_LIMIT_RULE = f"rate limit must be 1 to {MAX_RATE_LIMIT:,} requests per 1 s to 1 day"


def name(value: str) -> str:
    """A credential's name, trimmed: required, at most ``MAX_NAME`` characters."""
    trimmed = value.strip()
    if not trimmed or len(trimmed) > MAX_NAME:
        raise InvalidInputError(f"name is required (at most {MAX_NAME} characters)")
    return trimmed


def check_rate_limit(limit: int, period: int) -> None:
    if not 1 <= limit <= MAX_RATE_LIMIT or not 1 <= period <= MAX_RATE_PERIOD:
        raise InvalidInputError(RATE_LIMIT_RULE)
