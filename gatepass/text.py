"""One rule for text that comes from outside: no control characters.

Refused everywhere: the C0 controls U+0000-U+001F (NUL first: PostgreSQL cannot store or even
compare it), DEL U+007F, the C1 controls U+0080-U+009F (U+0085 is a line break to Python's
``str.splitlines`` and to the email package), and the line and paragraph separators U+2028 and
U+2029. None of them belongs in a name, an email address, a slug or an identifier; each can
break a log line, a terminal, a mail header or a JSON-in-HTML context, and none can be shown.
Text that may span lines (a description) may also hold tab, line feed and carriage return.

Every edge applies the same rule before it queries anything: the protocol router and client
authentication, the management API's schemas and request check, and the console's forms.
"""

from __future__ import annotations

import re

from gatepass.errors import InvalidInputError

_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029"
# The same sets as regular-expression classes, for the API's schemas (pattern) and for code.
LINE_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$"
PARAGRAPH_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029]*$"

_IN_LINE = re.compile(f"[{_CONTROLS}]")
_IN_PARAGRAPH = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_RUNS = re.compile(f"[{_CONTROLS}\\s]+")


def is_plain(value: str, *, multiline: bool = False) -> bool:
    """No forbidden character in ``value`` (tab, LF and CR allowed when ``multiline``)."""
    return (_IN_PARAGRAPH if multiline else _IN_LINE).search(value) is None


def check_plain(value: str, what: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or ``InvalidInputError`` naming ``what`` (never echoing the value)."""
    if not is_plain(value, multiline=multiline):
        raise InvalidInputError(f"{what} must not contain control characters or line separators")
    return value


def one_line(value: str) -> str:
    """``value`` for display on one line (a mail header): every run of controls, separators
    and whitespace becomes one space."""
    return _RUNS.sub(" ", value).strip()


MAX_DESCRIPTION = 2000


def description(value: str) -> str:
    """A description, trimmed: at most ``MAX_DESCRIPTION`` characters, refused (never cut)
    beyond that, so that what is stored is what was sent."""
    trimmed = value.strip()
    if len(trimmed) > MAX_DESCRIPTION:
        raise InvalidInputError(f"description must be at most {MAX_DESCRIPTION} characters")
    return trimmed
