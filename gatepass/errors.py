"""Domain errors. They carry a public message and know nothing of HTTP or the CLI."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``str(error)`` is safe to show to the person who made the request."""

    code = "error"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid_input"
