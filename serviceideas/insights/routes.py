"""The dashboard, the leaderboard and "What changed", with a CSV for every table.

Everyone signed in sees all three (transparency is part of the culture); the per-person
activity table is for managers and admins. Figures come from `metrics`, lists of ideas from
`queries`, never computed here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import force_locale, get_locale, gettext, pgettext
from flask_login import current_user
from markupsafe import Markup

from serviceideas.database import utcnow
from serviceideas.downloads import csv_download
from serviceideas.errors import RuleViolation, render_error
from serviceideas.figures import remembered
from serviceideas.htmx import is_fragment_request
from serviceideas.ideas.models import Stalled, Status
from serviceideas.ideas.policies import can_review
from serviceideas.insights import metrics, queries
from serviceideas.insights.periods import Period, PeriodKind, parse_period
from serviceideas.people.policies import requires, signed_in
from serviceideas.training.policies import can_see_coverage
from serviceideas.training.queries import CoverageRow, coverage_by_kind

bp = Blueprint("insights", __name__)

Rendered = tuple[str, int] | str


def _today() -> date:
    return utcnow().date()


def _period() -> Period:
    args = request.args
    return parse_period(args.get("period"), args.get("start"), args.get("end"), today=_today())


def _language() -> str:
    """The request's language, part of the key of every figure drawn as text: the figures
    themselves are kept without words, for readers of every language."""
    return str(get_locale() or current_app.config["DEFAULT_LOCALE"])


def _period_args() -> dict[str, str]:
    """The period's own query parameters, and nothing else a visitor added: these go into
    url_for, where keys like `_external` or `endpoint` would change or break the links."""
    return {k: v for k, v in request.args.items() if k in ("period", "start", "end")}


def _statuses() -> tuple[dict[Status, int], int]:
    """The funnel as of now (remembered under today's date, as every figure may be a little
    stale; see docs/architecture.md, "Report figures")."""
    return remembered(_funnel_today, _today(), current_app.config["STALLED_AFTER_DAYS"])


def _funnel_today(_today: date, _days: int) -> tuple[dict[Status, int], int]:
    return metrics.funnel(Stalled.as_configured(utcnow()))


def _period_or_error(template: str) -> Period | tuple[str, int]:
    try:
        return _period()
    except RuleViolation as error:
        return render_template(
            template, period=None, error=error, kinds=list(PeriodKind), args=_period_args()
        ), 400


@bp.route("/dashboard")
@signed_in
def dashboard() -> Rendered:
    period = _period_or_error("insights/dashboard.html")
    if not isinstance(period, Period):
        return period
    figures = remembered(
        _dashboard_html,
        period,
        can_review(current_user),
        can_see_coverage(current_user),
        _language(),
    )
    return render_template(
        "insights/dashboard.html",
        period=period,
        kinds=list(PeriodKind),
        args=_period_args(),
        figures=figures,
    )


@dataclass(frozen=True)
class DashboardReading:
    period: Period
    headline: metrics.Headline
    trend: list[tuple[date, int]]
    teams: list[metrics.TeamFigures]
    departments: list[metrics.TeamFigures]
    speed: metrics.TimeToPractice
    speed_before: metrics.TimeToPractice
    statuses: dict[Status, int]
    stalled: int
    participation: list[metrics.Participation]
    coverage: list[CoverageRow]
    born: metrics.BornFromTraining
    journey: list[metrics.StageFigures]
    compass: list[metrics.CompassFigures]


def _read_dashboard(period: Period) -> DashboardReading:
    """Every figure of the dashboard for one period: the second of database time a visit
    would cost, remembered (figures.py)."""
    statuses, stalled = metrics.funnel(Stalled.as_configured(utcnow()))
    return DashboardReading(
        period=period,
        headline=metrics.headline(period),
        trend=metrics.trend(period),
        teams=metrics.by_kind(period),
        departments=metrics.by_department(period),
        speed=metrics.time_to_practice(period),
        speed_before=metrics.time_to_practice(period.previous()),
        statuses=statuses,
        stalled=stalled,
        participation=metrics.participation(period),
        coverage=coverage_by_kind(_today()),
        born=metrics.born_from_training(period),
        journey=metrics.by_journey_stage(period),
        compass=metrics.by_compass(period),
    )


def _dashboard_html(period: Period, reviewer: bool, sees_coverage: bool, language: str) -> Markup:
    """The period's figures drawn as HTML in `language`, for each of the few ways a viewer's
    roles change them (keyed by plain values, so that every server can share it): a visit
    draws only the page around it. Drawn from the remembered reading, and as old as it."""
    reading = remembered(_read_dashboard, period)
    with force_locale(language):  # also when recomputed after another request's response
        return _draw_dashboard(reading, reviewer, sees_coverage)


def _draw_dashboard(reading: DashboardReading, reviewer: bool, sees_coverage: bool) -> Markup:
    """A reading drawn as HTML; nothing in it is about one viewer but their role flags."""
    return Markup(  # noqa: S704 - a template rendered with autoescaping
        render_template(
            "insights/_dashboard_figures.html",
            **{field.name: getattr(reading, field.name) for field in fields(reading)},
            previous=reading.period.previous(),
            args=reading.period.query_args,
            reviewer=reviewer,
            sees_coverage=sees_coverage,
            Status=Status,
        )
    )


@bp.route("/leaderboard")
@signed_in
def leaderboard() -> Rendered:
    period = _period_or_error("insights/leaderboard.html")
    if not isinstance(period, Period):
        return period
    return render_template(
        "insights/leaderboard.html",
        period=period,
        kinds=list(PeriodKind),
        args=_period_args(),
        people=remembered(metrics.people_leaderboard, period),  # marks "you": drawn here
        departments=remembered(_department_tables, period, _language()),
    )


def _department_tables(period: Period, language: str) -> Markup:
    """The department tables drawn as HTML in `language`."""
    by_count, by_rate = metrics.department_leaderboards(period)
    with force_locale(language):
        return Markup(  # noqa: S704 - a template rendered with autoescaping
            render_template(
                "insights/_leaderboard_departments.html",
                period=period,
                args=period.query_args,
                by_count=by_count,
                by_rate=by_rate,
            )
        )


@bp.route("/dashboard/what-changed")
@signed_in
def what_changed() -> Rendered:
    """The stories behind the headline: every idea put into practice in the period, newest
    first, with what changed — read fresh, a page at a time ("load more")."""
    period = _period_or_error("insights/what_changed.html")
    if not isinstance(period, Period):
        return period
    after = request.args.get("after") or None
    try:
        page = queries.what_changed(
            period, current_user, after=after, limit=current_app.config["PAGE_SIZE"]
        )
    except RuleViolation as error:  # a broken "load more" link: a read, nothing to roll back
        return render_error(400, error.message)
    if after and is_fragment_request():
        return render_template("insights/_stories.html", page=page)
    return render_template(
        "insights/what_changed.html",
        period=period,
        kinds=list(PeriodKind),
        args=_period_args(),
        page=page,
        after=after,
    )


@bp.route("/dashboard/people")
@requires(can_review)
def people() -> Rendered:
    period = _period_or_error("insights/people.html")
    if not isinstance(period, Period):
        return period
    return render_template(
        "insights/people.html",
        period=period,
        kinds=list(PeriodKind),
        args=_period_args(),
        rows=metrics.people_activity(period),
    )


# CSV: one table each, named for what it holds and when. Cells hold labels, as the pages do
# ("Front line", "Under review"), never the values stored in the database; the header row and
# the labels are in the reader's language, the content people wrote as they wrote it, and
# dates in ISO form (spreadsheets read them as dates).


Rows = Iterator[list[Any]]


def _teams(teams: Iterable[metrics.TeamFigures]) -> Rows:
    yield [
        gettext("team"),
        gettext("kind"),
        gettext("active staff"),
        gettext("submitted"),
        gettext("put into practice"),
        gettext("per 100 staff"),
    ]
    for t in teams:
        kind = t.kind.label if t.kind else gettext("All")
        rate = "" if t.per_100_staff is None else t.per_100_staff  # "" only for nobody there
        yield [t.name, kind, t.staff, t.submitted, t.implemented, rate]


def _trend(period: Period) -> Rows:
    yield [gettext("month"), gettext("put into practice")]
    for month, count in remembered(metrics.trend, period):
        yield [month.strftime("%Y-%m"), count]


def _funnel(_period: Period) -> Rows:
    yield [gettext("status"), gettext("ideas")]
    for status, count in _statuses()[0].items():
        yield [status.label, count]


def _training(_period: Period) -> Rows:
    """Training up to date as it stands today, for whatever period: the dashboard's table."""
    yield [
        gettext("kind"),
        gettext("due so far"),
        gettext("overdue"),
        gettext("percent up to date"),
    ]
    for row in remembered(coverage_by_kind, _today()):
        percent = "" if row.percent_up_to_date is None else row.percent_up_to_date
        yield [row.label, row.due, row.overdue, percent]  # "" only when nothing is due yet


def _participation(period: Period) -> Rows:
    yield [gettext("kind"), gettext("active staff"), gettext("taking part"), gettext("percent")]
    for row in remembered(metrics.participation, period):
        yield [row.label, row.staff, row.taking_part, "" if row.percent is None else row.percent]


def _speed(period: Period) -> Rows:
    speed = remembered(metrics.time_to_practice, period)
    yield [
        gettext("ideas put into practice"),
        gettext("median days"),
        gettext("90th percentile days"),
    ]
    median = "" if speed.median_days is None else speed.median_days
    yield [speed.ideas, median, "" if speed.p90_days is None else speed.p90_days]


def _leaders(period: Period) -> Rows:
    """One line per person and department their ideas count for (the one they were in when
    submitting), so that the lines of each department add up to the departments' download,
    less the ideas whose authors hid their name (docs/product.md, "Speaking up safely")."""
    yield [
        gettext("rank"),
        gettext("name"),
        gettext("department when submitting"),
        gettext("kind"),
        gettext("put into practice"),
        gettext("person's total"),
        gettext("first on"),
    ]
    for x in remembered(metrics.people_leaderboard, period):
        for credit in x.credits:
            yield [
                x.rank,
                x.name,
                credit.department,
                credit.kind.label,
                credit.implemented,
                x.implemented,
                x.first_on.isoformat(),
            ]


def _born_from_training(period: Period) -> Rows:
    born = remembered(metrics.born_from_training, period)
    yield [gettext("module"), gettext("ideas submitted"), gettext("put into practice")]
    for module in born.modules:
        yield [module.title, module.submitted, module.implemented]
    yield [gettext("All modules (each idea once)"), born.submitted, born.implemented]


def _journey(period: Period) -> Rows:
    yield [
        gettext("journey stage"),
        gettext("explanation"),
        gettext("state"),
        gettext("submitted"),
        gettext("put into practice"),
    ]
    for stage in remembered(metrics.by_journey_stage, period):
        if stage.stage_id is None:
            state = ""
        else:
            state = gettext("Retired") if stage.retired else gettext("In use")
        yield [stage.label, stage.explanation, state, stage.submitted, stage.implemented]


def _compass(period: Period) -> Rows:
    yield [
        gettext("compass point"),
        gettext("what it does for the customer"),
        gettext("put into practice"),
    ]
    for point in remembered(metrics.by_compass, period):
        yield [point.label, point.explanation, point.implemented]


def _stories(period: Period) -> Rows:
    yield [
        gettext("put into practice on"),
        gettext("idea"),
        gettext("title"),
        gettext("what changed and the value it added"),
        gettext("lens"),
        gettext("author"),
        gettext("team (author's department when submitting)"),
        gettext("kind"),
        gettext("owner"),
        pgettext("the people an idea is for", "for"),
        gettext("started in the module"),
    ]
    for story in queries.every_story(period, current_user):
        yield [
            story.implemented_on.isoformat(),
            story.id,
            story.title,
            story.implementation_note,
            story.lens.label,
            story.author_name,
            story.team,
            story.team_kind.label,
            story.owner_name or "",
            story.beneficiary_label,
            story.module_title or "",
        ]


def _people_rows(period: Period) -> Rows:
    yield [
        gettext("name"),
        gettext("department today"),
        gettext("kind"),
        gettext("submitted"),
        gettext("put into practice"),
        gettext("votes"),
        gettext("comments"),
    ]
    for r in metrics.people_activity(period):
        yield [r.name, r.department, r.kind.label, r.submitted, r.implemented, r.votes, r.comments]


@dataclass(frozen=True)
class Table:
    rows: Callable[[Period], Rows]
    name: str  # the file's name before its period: what the table holds
    as_of_today: bool = False  # figures as they stand now: the file is dated, not the period


TABLES: dict[str, Table] = {
    "trend": Table(_trend, "dashboard-put-into-practice-by-month"),
    "kinds": Table(
        lambda period: _teams(remembered(metrics.by_kind, period)),
        "dashboard-front-line-and-back-office",
    ),
    "departments": Table(
        lambda period: _teams(remembered(metrics.by_department, period)), "dashboard-departments"
    ),
    "funnel": Table(_funnel, "dashboard-where-ideas-stand", as_of_today=True),
    "participation": Table(_participation, "dashboard-taking-part"),
    "speed": Table(_speed, "dashboard-days-to-practice"),
    "training": Table(_training, "dashboard-training-up-to-date", as_of_today=True),
    "born-from-training": Table(_born_from_training, "dashboard-ideas-born-from-training"),
    "journey": Table(_journey, "dashboard-where-in-the-customers-journey"),
    "compass": Table(_compass, "dashboard-what-the-changes-did-for-the-customer"),
    "what-changed": Table(_stories, "what-changed"),
    "leaders": Table(_leaders, "leaderboard-people"),
    "departments-by-count": Table(
        lambda period: _teams(remembered(metrics.department_leaderboards, period)[0]),
        "leaderboard-departments",
    ),
    "departments-per-100": Table(
        lambda period: _teams(remembered(metrics.department_leaderboards, period)[1]),
        "leaderboard-departments-per-100-staff",
    ),
    "people": Table(_people_rows, "each-persons-part"),
}


@bp.route("/insights/<table>.csv")
@signed_in
def table_csv(table: str) -> Response:
    chosen = TABLES.get(table)
    if chosen is None:
        abort(404)
    if table == "people" and not can_review(current_user):
        abort(403)
    try:
        period = _period()
    except RuleViolation as error:
        abort(400, error.message)
    when = _today().isoformat() if chosen.as_of_today else period.slug
    return csv_download(chosen.rows(period), f"{chosen.name}-{when}.csv")
