"""A report of leaked secrets, as GitHub secret scanning sends one, and the answer it expects.

GitHub posts a JSON array of ``{"token", "type", "url", "source"}`` objects and reads back one
``{"token_hash", "token_type", "label"}`` object per token (its "token analysis feedback"); the
generic report API takes and answers the same. The answer names a token by the SHA-256 of it,
never the token itself.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from gatepass.credential_secrets import Plaintext

PATH_PREFIX = "/api/v1/leaks"
# A request body's limit: 100 tokens with GitHub's URLs come to some 30 KiB.
MAX_BODY_BYTES = 64 * 1024
MAX_TOKENS = 100  # per request: each costs a keyed hash and one indexed lookup
MAX_TOKEN_CHARS = 200  # a Gatepass secret has 43; a longer one is no secret of ours
MAX_TEXT_CHARS = 2000  # type, url, source


class ReportError(ValueError):
    """The body is no report; the message says what is wrong, never a token."""


@dataclass(frozen=True)
class Report:
    """One reported token, where it was found, and what the reporter calls it."""

    token: Plaintext
    type: str
    url: str
    source: str

    def token_hash(self) -> str:
        return hashlib.sha256(self.token.reveal().encode()).hexdigest()

    def feedback(self, true_positive: bool) -> dict[str, str]:
        """GitHub's token analysis feedback for this token."""
        label = "true_positive" if true_positive else "false_positive"
        return {"token_hash": self.token_hash(), "token_type": self.type, "label": label}


def parse(body: bytes) -> list[Report]:
    """The reports a request body holds; ``ReportError`` if it is not a list of them."""
    try:
        items = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ReportError("the body is not JSON") from None
    if not isinstance(items, list) or not items:
        raise ReportError("the body must be a non-empty JSON array of reported tokens")
    if len(items) > MAX_TOKENS:
        raise ReportError(f"at most {MAX_TOKENS} tokens per request")
    return [_report(index, item) for index, item in enumerate(items)]


def _report(index: int, item: Any) -> Report:
    if not isinstance(item, dict):
        raise ReportError(f"item {index} is not an object")
    token = item.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_CHARS:
        raise ReportError(f"item {index}: token must be a string of 1 to {MAX_TOKEN_CHARS} chars")
    return Report(
        token=Plaintext(token),
        type=_text(index, item, "type"),
        url=_text(index, item, "url"),
        source=_text(index, item, "source"),
    )


def _text(index: int, item: dict[str, Any], name: str) -> str:
    value = item.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        raise ReportError(f"item {index}: {name} must be a string of at most {MAX_TEXT_CHARS}")
    return value
