"""The periods the dashboard reports on: this quarter, month or year, or custom dates."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import LazyString, gettext, lazy_gettext

from serviceideas.errors import RuleViolation
from serviceideas.i18n import MONTH, format_date

LONGEST_CUSTOM_DAYS = 5 * 366


class PeriodKind(enum.StrEnum):
    QUARTER = "quarter"
    MONTH = "month"
    YEAR = "year"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        """What the period picker offers."""
        return str(KIND_LABELS[self])


KIND_LABELS: dict[PeriodKind, LazyString] = {
    PeriodKind.QUARTER: lazy_gettext("This quarter"),
    PeriodKind.MONTH: lazy_gettext("This month"),
    PeriodKind.YEAR: lazy_gettext("This year"),
    PeriodKind.CUSTOM: lazy_gettext("Custom dates"),
}


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """The period as pages name it, in the request's language: "Q4 2026", "November 2026",
        "2026", "3 Nov 2026 – 5 Jan 2027"."""
        if self.kind is PeriodKind.QUARTER:
            quarter = (self.start.month - 1) // 3 + 1
            return gettext("Q%(quarter)d %(year)d", quarter=quarter, year=self.start.year)
        if self.kind is PeriodKind.MONTH:
            return format_date(self.start, MONTH)
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return gettext(
            "%(start)s – %(end)s", start=format_date(self.start), end=format_date(self.end)
        )

    @property
    def query_args(self) -> dict[str, str]:
        """The address's parameters that name this period, and nothing else."""
        if self.kind is PeriodKind.CUSTOM:
            return {"period": "custom", "start": f"{self.start}", "end": f"{self.end}"}
        return {"period": self.kind.value}

    @property
    def slug(self) -> str:
        """For file names: `2026-q4`, `2026-11`, `2026`, or `2026-01-15-to-2026-03-31`."""
        if self.kind is PeriodKind.QUARTER:
            return f"{self.start.year}-q{(self.start.month - 1) // 3 + 1}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind is PeriodKind.YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}-to-{self.end.isoformat()}"

    def previous(self) -> Period:
        """The period of the same length just before this one (the same kind, for calendars)."""
        if self.kind is PeriodKind.QUARTER:
            return calendar_period(PeriodKind.QUARTER, self.start - timedelta(days=1))
        if self.kind is PeriodKind.MONTH:
            return calendar_period(PeriodKind.MONTH, self.start - timedelta(days=1))
        if self.kind is PeriodKind.YEAR:
            return calendar_period(PeriodKind.YEAR, self.start - timedelta(days=1))
        return Period(
            PeriodKind.CUSTOM, self.start - timedelta(self.days), self.start - timedelta(1)
        )

    def months(self) -> list[date]:
        """The first day of each calendar month the period touches."""
        month, months = self.start.replace(day=1), []
        while month <= self.end:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def calendar_period(kind: PeriodKind, day: date) -> Period:
    """The quarter, month or year that contains `day`."""
    if kind is PeriodKind.MONTH:
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    elif kind is PeriodKind.YEAR:
        start, end = date(day.year, 1, 1), date(day.year, 12, 31)
    else:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        end = (start + timedelta(days=93)).replace(day=1) - timedelta(days=1)
    return Period(kind, start, end)


def whole_months(first: date, last: date) -> Period:
    """From the first day of `first`'s month to the last day of `last`'s month."""
    return Period(PeriodKind.CUSTOM, first.replace(day=1), _month_end(last))


def months_up_to(day: date, count: int) -> list[date]:
    """The first day of each of the `count` calendar months that end with `day`'s month."""
    index = day.year * 12 + day.month - 1
    return [date(month // 12, month % 12 + 1, 1) for month in range(index - count + 1, index + 1)]


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def parse_period(kind: str | None, start: str | None, end: str | None, *, today: date) -> Period:
    """The period a request asks for; RuleViolation (naming the field) when it makes no sense."""
    try:
        chosen = PeriodKind(kind or PeriodKind.QUARTER)
    except ValueError:
        raise RuleViolation(
            gettext("Choose a quarter, a month, a year or custom dates."), "period"
        ) from None
    if chosen is not PeriodKind.CUSTOM:
        return calendar_period(chosen, today)
    try:
        first = date.fromisoformat(start or "")
    except ValueError:
        raise RuleViolation(
            gettext("Give the first day as a date (YYYY-MM-DD)."), "start"
        ) from None
    try:
        last = date.fromisoformat(end or "")
    except ValueError:
        raise RuleViolation(gettext("Give the last day as a date (YYYY-MM-DD)."), "end") from None
    if last < first:
        raise RuleViolation(gettext("The last day comes before the first: swap them."), "end")
    if first > today:
        raise RuleViolation(
            gettext("That period has not begun yet: nothing can have happened."), "start"
        )
    if (last - first).days + 1 > LONGEST_CUSTOM_DAYS:
        raise RuleViolation(gettext("Choose at most five years."), "start")
    if first.year < 2000:
        raise RuleViolation(gettext("Choose a period from the year 2000 on."), "start")
    return Period(PeriodKind.CUSTOM, first, last)
