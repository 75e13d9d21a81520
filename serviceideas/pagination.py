"""Numbered pages of a query: two queries per page, whatever the size of the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from serviceideas.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    size: int
    total: int

    @classmethod
    def of(cls, query: sa.Select[Any], number: str | int | None, size: int) -> Page:
        """Page `number` (1-based; anything odd means 1) of `query`, with the total count."""
        try:
            number = max(1, min(int(number or 1), 100_000))
        except ValueError:
            number = 1
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        )
        items = list(db.session.scalars(query.limit(size).offset((number - 1) * size)))
        return cls(items=items, number=number, size=size, total=total or 0)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages
