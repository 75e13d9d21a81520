"""The API's report figures (docs/product.md, "The API", "Resources"): the dashboard's
headline, trend and departments, and the leaderboard, for the same periods as the pages.

Every figure comes from insights/metrics.py, remembered as the pages' downloads remember it
(figures.py; docs/architecture.md, "Report figures"), so the API and the pages agree. Anyone
signed in sees the dashboard and the leaderboard, so a `read` token does too.
"""

from __future__ import annotations

from dataclasses import asdict
from http import HTTPStatus
from typing import Any

import marshmallow as ma
from flask import Response
from flask_babel import gettext

from serviceideas.api import problems, resource_blueprint
from serviceideas.api.auth import requires
from serviceideas.api.models import Scope
from serviceideas.api.report_schemas import (
    DepartmentsReportSchema,
    HeadlineSchema,
    LeaderboardSchema,
    PeriodArgsSchema,
    TrendSchema,
)
from serviceideas.database import utcnow
from serviceideas.errors import RuleViolation
from serviceideas.figures import remembered
from serviceideas.insights import metrics
from serviceideas.insights.periods import Period, PeriodKind, parse_period

blp = resource_blueprint(
    "api_reports",
    __name__,
    "Report figures: the dashboard's headline, trend and departments, and the leaderboard.",
)


def _period(args: dict[str, Any]) -> Period | Response:
    """The period asked for, as the pages read it; a 422 problem naming the parameter when it
    makes no sense."""
    start, end = args.get("start"), args.get("end")
    if args["period"] is not PeriodKind.CUSTOM:
        for name, given in (("start", start), ("end", end)):
            if given is not None:
                return problems.refusal(
                    RuleViolation(
                        gettext("%(parameter)s goes with period=custom only.", parameter=name), name
                    )
                )
    try:
        return parse_period(
            args["period"].value,
            start.isoformat() if start else None,
            end.isoformat() if end else None,
            today=utcnow().date(),
        )
    except RuleViolation as error:
        return problems.refusal(error)


def _shown(period: Period) -> dict[str, Any]:
    return {"kind": period.kind, "start": period.start, "end": period.end, "label": period.label}


def _team(team: metrics.TeamFigures) -> dict[str, Any]:
    return {
        "department_id": team.department_id,
        "name": team.name,
        "kind": team.kind,
        "staff": team.staff,
        "submitted": team.submitted,
        "implemented": team.implemented,
        "per_100_staff": team.per_100_staff,
    }


@blp.route("/reports/headline")
@requires(Scope.READ)
@blp.arguments(PeriodArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(HTTPStatus.OK, HeadlineSchema)
def headline(args: dict[str, Any]) -> Any:
    """Ideas put into practice and submitted in the period and the one before, and the days
    they took (docs/product.md, "Ideas put into practice")."""
    period = _period(args)
    if isinstance(period, Response):
        return period
    figures = remembered(metrics.headline, period)
    return {
        "period": _shown(period),
        "previous": _shown(period.previous()),
        **asdict(figures),
        "change": figures.change,
        "days_to_practice": asdict(remembered(metrics.time_to_practice, period)),
        "days_to_practice_before": asdict(remembered(metrics.time_to_practice, period.previous())),
    }


@blp.route("/reports/trend")
@requires(Scope.READ)
@blp.arguments(PeriodArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(HTTPStatus.OK, TrendSchema)
def trend(args: dict[str, Any]) -> Any:
    """Ideas put into practice month by month, as the dashboard's chart."""
    period = _period(args)
    if isinstance(period, Response):
        return period
    months = remembered(metrics.trend, period)
    return {
        "period": _shown(period),
        "months": [
            {"month": month.strftime("%Y-%m"), "implemented": count} for month, count in months
        ],
    }


@blp.route("/reports/departments")
@requires(Scope.READ)
@blp.arguments(PeriodArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(HTTPStatus.OK, DepartmentsReportSchema)
def departments(args: dict[str, Any]) -> Any:
    """Front line and back office side by side, then every department: submitted, put into
    practice, and per 100 active staff."""
    period = _period(args)
    if isinstance(period, Response):
        return period
    return {
        "period": _shown(period),
        "kinds": [_team(team) for team in remembered(metrics.by_kind, period)],
        "departments": [_team(team) for team in remembered(metrics.by_department, period)],
    }


@blp.route("/reports/leaderboard")
@requires(Scope.READ)
@blp.arguments(PeriodArgsSchema, location="query", unknown=ma.RAISE)
@blp.response(HTTPStatus.OK, LeaderboardSchema)
def leaderboard(args: dict[str, Any]) -> Any:
    """The leaderboard page's tables (docs/product.md, "Leaderboard"): people by ideas put
    into practice (an author who hid their name is not listed; their idea counts for their
    department), and departments by count and per 100 active staff."""
    period = _period(args)
    if isinstance(period, Response):
        return period
    by_count, by_rate = remembered(metrics.department_leaderboards, period)
    return {
        "period": _shown(period),
        "people": [_leader(leader) for leader in remembered(metrics.people_leaderboard, period)],
        "departments_by_count": [_team(team) for team in by_count],
        "departments_per_100_staff": [_team(team) for team in by_rate],
    }


def _leader(leader: metrics.Leader) -> dict[str, Any]:
    return {
        "rank": leader.rank,
        "person_id": leader.user_id,
        "name": leader.name,
        "active": leader.active,
        "implemented": leader.implemented,
        "first_on": leader.first_on,
        "credits": [asdict(credit) for credit in leader.credits],
        # The page says where someone works now only while they are here.
        "department_now": leader.department_now if leader.active else None,
    }
