"""What the API's report figures take and answer (api/reports.py), as marshmallow schemas:
the dashboard's and leaderboard's figures, with the same names as the pages give them
(docs/product.md, "Metrics")."""

from __future__ import annotations

import marshmallow as ma

from serviceideas.api.text import Text
from serviceideas.insights.periods import PeriodKind
from serviceideas.people.models import DepartmentKind


class PeriodArgsSchema(ma.Schema):
    """The period the figures are for, as the dashboard's period picker names it."""

    period = ma.fields.Enum(
        PeriodKind,
        by_value=True,
        load_default=PeriodKind.QUARTER,
        metadata={"description": "This quarter (the default), month or year, or custom dates"},
    )
    start = ma.fields.Date(metadata={"description": "For custom: the first day (included)"})
    end = ma.fields.Date(metadata={"description": "For custom: the last day (included)"})


class ReportPeriodSchema(ma.Schema):
    kind = ma.fields.Enum(PeriodKind, by_value=True, required=True)
    start = ma.fields.Date(required=True)
    end = ma.fields.Date(required=True)
    label = Text(required=True, metadata={"description": "As the pages name it"})


class DaysToPracticeSchema(ma.Schema):
    """Whole days from submission to the implementation date, for the ideas put into practice
    in the period; the 90th percentile is the nearest rank."""

    ideas = ma.fields.Integer(required=True)
    median_days = ma.fields.Float(required=True, allow_none=True)
    p90_days = ma.fields.Integer(required=True, allow_none=True)


class HeadlineSchema(ma.Schema):
    """The dashboard's headline: ideas put into practice and submitted, in the period and the
    one before it."""

    period = ma.fields.Nested(ReportPeriodSchema, required=True)
    previous = ma.fields.Nested(
        ReportPeriodSchema, required=True, metadata={"description": "The period before"}
    )
    implemented = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Ideas standing as implemented whose implementation date lies in"
            " the period"
        },
    )
    implemented_before = ma.fields.Integer(required=True)
    change = ma.fields.Integer(required=True)
    all_time = ma.fields.Integer(required=True)
    submitted = ma.fields.Integer(required=True)
    submitted_before = ma.fields.Integer(required=True)
    days_to_practice = ma.fields.Nested(DaysToPracticeSchema, required=True)
    days_to_practice_before = ma.fields.Nested(DaysToPracticeSchema, required=True)


class TrendPointSchema(ma.Schema):
    month = Text(required=True, metadata={"description": "YYYY-MM"})
    implemented = ma.fields.Integer(required=True)


class TrendSchema(ma.Schema):
    """Ideas put into practice per calendar month, each month counted whole: the 12 months up
    to the period's end (or, for a longer custom period, each of its months)."""

    period = ma.fields.Nested(ReportPeriodSchema, required=True)
    months = ma.fields.List(ma.fields.Nested(TrendPointSchema), required=True)


class DepartmentFiguresSchema(ma.Schema):
    """A department, a kind of team (front line, back office), or everyone (kind null)."""

    department_id = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null for a kind or everyone"}
    )
    name = Text(required=True)
    kind = ma.fields.Enum(DepartmentKind, by_value=True, required=True, allow_none=True)
    staff = ma.fields.Integer(required=True, metadata={"description": "Active people today"})
    submitted = ma.fields.Integer(required=True)
    implemented = ma.fields.Integer(required=True)
    per_100_staff = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "Put into practice per 100 active staff; null with nobody"},
    )


class DepartmentsReportSchema(ma.Schema):
    period = ma.fields.Nested(ReportPeriodSchema, required=True)
    kinds = ma.fields.List(
        ma.fields.Nested(DepartmentFiguresSchema),
        required=True,
        metadata={"description": "Front line, back office, then everyone"},
    )
    departments = ma.fields.List(
        ma.fields.Nested(DepartmentFiguresSchema),
        required=True,
        metadata={"description": "Every department, by name"},
    )


class LeaderCreditSchema(ma.Schema):
    """The leader's ideas that count for one department: the one they were in when submitting."""

    department = Text(required=True)
    kind = ma.fields.Enum(DepartmentKind, by_value=True, required=True)
    implemented = ma.fields.Integer(required=True)


class LeaderSchema(ma.Schema):
    rank = ma.fields.Integer(required=True)
    person_id = ma.fields.Integer(required=True)
    name = Text(required=True)
    active = ma.fields.Boolean(required=True, metadata={"description": "false: no longer here"})
    implemented = ma.fields.Integer(required=True)
    first_on = ma.fields.Date(
        required=True, metadata={"description": "Their first idea put into practice in the period"}
    )
    credits = ma.fields.List(ma.fields.Nested(LeaderCreditSchema), required=True)
    department_now = Text(
        required=True,
        allow_none=True,
        metadata={"description": "Where they work today; null once they are no longer here"},
    )


class LeaderboardSchema(ma.Schema):
    """The leaderboard page: people, and departments by count and per 100 active staff."""

    period = ma.fields.Nested(ReportPeriodSchema, required=True)
    people = ma.fields.List(
        ma.fields.Nested(LeaderSchema),
        required=True,
        metadata={
            "description": "The top 25. An idea whose author hid their name counts for the"
            " department only."
        },
    )
    departments_by_count = ma.fields.List(ma.fields.Nested(DepartmentFiguresSchema), required=True)
    departments_per_100_staff = ma.fields.List(
        ma.fields.Nested(DepartmentFiguresSchema), required=True
    )
