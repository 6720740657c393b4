"""Keyset pagination, newest first: a page is the rows below the last id of the one before.

Offsets would skip or repeat rows while credentials are created or deleted between two
requests; a keyset never does, and costs the same on page 1 and page 1,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from gatepass.errors import InvalidInputError

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class PageRequest:
    after: int | None = None  # the id of the last row of the previous page
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInputError(f"limit must be 1-{MAX_LIMIT}")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_after: int | None  # ``None`` on the last page


def fetch(
    session: Session, stmt: Select[Any], id_column: InstrumentedAttribute[int], req: PageRequest
) -> Page[Any]:
    if req.after is not None:
        stmt = stmt.where(id_column < req.after)
    rows = list(session.scalars(stmt.order_by(id_column.desc()).limit(req.limit + 1)))
    more = len(rows) > req.limit
    rows = rows[: req.limit]
    return Page(rows, rows[-1].id if more and rows else None)
