"""Domain errors. They carry a public message and know nothing of HTTP or the CLI."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``str(error)`` is safe to show to the person who made the request."""

    code = "error"


class NotFoundError(DomainError):
    code = "not_found"


class ConflictError(DomainError):
    code = "conflict"


class InvalidInputError(DomainError):
    code = "invalid_input"


class ForbiddenError(DomainError):
    """The actor is known but may not do this."""

    code = "forbidden"
