"""The customer's side of the dashboard: ideas per journey stage (submitted, put into practice)
and per compass point (put into practice), against SQL written out by hand on a small company.

Stages, in the admins' order: Finding us (1), Old counter (2, retired), Buying (3),
Waiting (4, no idea at all), Fax orders (5, retired, ideas only before the period).
For the second quarter of 2026 (1 April – 30 June):

    idea  stage        compass     submitted     outcome
    i1    Finding us   need        10 Apr        put into practice 20 May      both figures
    i2    Finding us   emotion     12 Apr        merged into i8                submitted
    i3    Buying       want        1 Mar         put into practice 2 Apr       put into practice
    i4    Buying       emotion     15 May        declined                      submitted
    i5    (none)       (none)      1 May         put into practice 10 May      both figures
    i6    Finding us   need        1 Jan         put into practice 15 Mar      neither (before)
    i7    Old counter  stereotype  3 Jun         put into practice 30 Jun      both figures
    i8    Buying       (none)      30 Jun 23:59  still submitted               submitted (last min.)
    i9    Finding us   need        1 Jul 00:00   still submitted               neither (after)
    i10   Fax orders   (none)      2 Jan         still submitted               neither (before)
    i11   (none)       (none)      31 Mar 23:59  still submitted               neither (before)
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import UTCDateTime
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Compass, JourneyStage, Lens, Status
from serviceideas.insights import metrics
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.people.models import Role
from tests.conftest import count_queries

Q2 = calendar_period(PeriodKind.QUARTER, date(2026, 5, 15))
QUERY = "period=custom&start=2026-04-01&end=2026-06-30"


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


def stage(name, position, *, retired=False):
    made = JourneyStage(
        name=name,
        explanation=f"When the customer is at {name.lower()}.",
        position=position,
        retired_at=at("2026-01-31") if retired else None,
    )
    db.session.add(made)
    db.session.flush()
    return made


@pytest.fixture
def company(app, make_user):
    author = make_user(name="Ana")
    manager = make_user(Role.MANAGER, name="Max")
    stages = {
        "finding": stage("Finding us", 1),
        "old": stage("Old counter", 2, retired=True),
        "buying": stage("Buying", 3),
        "waiting": stage("Waiting", 4),
        "fax": stage("Fax orders", 5, retired=True),
    }

    def submit(day, where, compass, *, hour=10, minute=0):
        draft = ideas.IdeaDraft("An idea", "Problem.", "Change.", Lens.LEARN, None)
        idea = ideas.submit_idea(author, draft, now=at(day, hour, minute))
        idea.journey_stage_id = stages[where].id if where else None
        idea.compass = compass
        db.session.flush()
        return idea

    def implement(idea, day):
        for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
            ideas.change_status(manager, idea, ideas.Decision(step), now=at(day, 8))
        decision = ideas.Decision(
            Status.IMPLEMENTED, note="It works.", implemented_on=date.fromisoformat(day)
        )
        ideas.change_status(manager, idea, decision, now=at(day, 9))

    i1 = submit("2026-04-10", "finding", Compass.NEED)
    implement(i1, "2026-05-20")
    merged = submit("2026-04-12", "finding", Compass.EMOTION)
    i3 = submit("2026-03-01", "buying", Compass.WANT)
    implement(i3, "2026-04-02")
    declined = submit("2026-05-15", "buying", Compass.EMOTION)
    ideas.change_status(
        manager, declined, ideas.Decision(Status.DECLINED, note="No."), now=at("2026-05-16")
    )
    implement(submit("2026-05-01", None, None), "2026-05-10")
    i6 = submit("2026-01-01", "finding", Compass.NEED)
    implement(i6, "2026-03-15")
    implement(submit("2026-06-03", "old", Compass.STEREOTYPE), "2026-06-30")
    last_minute = submit("2026-06-30", "buying", None, hour=23, minute=59)
    ideas.change_status(
        manager, merged, ideas.Decision(Status.MERGED, merge_into=last_minute), now=at("2026-07-01")
    )
    submit("2026-07-01", "finding", Compass.NEED, hour=0)
    submit("2026-01-02", "fax", None)
    submit("2026-03-31", None, None, hour=23, minute=59)
    db.session.commit()
    return {**stages, "i1": i1.id, "i3": i3.id, "i6": i6.id}


def hand_params(period):
    params = {
        "first": at(period.start.isoformat(), 0),
        "after": at((period.end + timedelta(days=1)).isoformat(), 0),
        "start": period.start,
        "end": period.end,
    }
    typed = (
        sa.bindparam("first", type_=UTCDateTime()),
        sa.bindparam("after", type_=UTCDateTime()),
    )
    return params, typed


SUBMITTED = "CASE WHEN i.created_at >= :first AND i.created_at < :after THEN 1 ELSE 0 END"
IMPLEMENTED = (
    "CASE WHEN i.status = 'implemented' AND i.implemented_on BETWEEN :start AND :end"
    " THEN 1 ELSE 0 END"
)
# Written out from the two CASE expressions above: constants, nothing typed by anyone.
PER_STAGE = (
    f"SELECT s.name, SUM({SUBMITTED}), SUM({IMPLEMENTED})"  # noqa: S608
    " FROM journey_stages s LEFT JOIN ideas i ON i.journey_stage_id = s.id GROUP BY s.name"
    f" UNION ALL SELECT NULL, SUM({SUBMITTED}), SUM({IMPLEMENTED})"
    " FROM ideas i WHERE i.journey_stage_id IS NULL"
)
PER_POINT = f"SELECT i.compass, SUM({IMPLEMENTED}) FROM ideas i GROUP BY i.compass"  # noqa: S608


def stages_by_hand(period):
    """Per stage name (None for no stage): (submitted, put into practice), every stage and the
    no-stage group, whether or not they would be listed."""
    params, typed = hand_params(period)
    rows = db.session.execute(sa.text(PER_STAGE).bindparams(*typed), params).all()
    return {name: (int(s or 0), int(p or 0)) for name, s, p in rows}


def compass_by_hand(period):
    params, _typed = hand_params(period)
    rows = db.session.execute(sa.text(PER_POINT), params).all()
    return {point: int(count) for point, count in rows if count}


def test_stages_match_a_hand_count_in_order_with_empty_and_retired_ones(company):
    with count_queries() as log:
        rows = metrics.by_journey_stage(Q2)
    assert log.count == 1
    listed = [(r.name, r.retired, r.submitted, r.implemented) for r in rows]
    assert listed == [
        ("Finding us", False, 2, 1),  # i1 and i2 (merged) submitted; i1 put into practice
        ("Old counter", True, 1, 1),  # retired, but i7 is in the period
        ("Buying", False, 2, 1),  # i4 (declined) and i8 submitted; i3 put into practice
        ("Waiting", False, 0, 0),  # no idea names it: listed, to be seen
        (metrics.NO_STAGE, False, 1, 1),  # i5; i11 is a minute before the period
    ]  # Fax orders: retired, with ideas only before the period
    assert rows[0].stage_id == company["finding"].id and rows[-1].stage_id is None
    assert rows[0].explanation == "When the customer is at finding us."
    by_hand = stages_by_hand(Q2)
    assert by_hand["Fax orders"] == (0, 0)
    assert {r.stage_id and r.name: (r.submitted, r.implemented) for r in rows} == {
        name: figures for name, figures in by_hand.items() if name != "Fax orders"
    }
    headline = metrics.headline(Q2)
    assert sum(r.submitted for r in rows) == headline.submitted == 6
    assert sum(r.implemented for r in rows) == headline.implemented == 4


def test_a_retired_stage_without_ideas_in_the_period_is_left_out(company):
    april = calendar_period(PeriodKind.MONTH, date(2026, 4, 1))
    rows = metrics.by_journey_stage(april)
    assert [(r.name, r.submitted, r.implemented) for r in rows] == [
        ("Finding us", 2, 0),
        ("Buying", 0, 1),  # i3, put into practice 2 April
        ("Waiting", 0, 0),
        (metrics.NO_STAGE, 0, 0),  # always there, even with none
    ]
    january = calendar_period(PeriodKind.MONTH, date(2026, 1, 1))
    names = [r.name for r in metrics.by_journey_stage(january)]
    assert "Fax orders" in names and "Old counter" not in names  # i10 in January


def test_the_compass_matches_a_hand_count_each_point_listed(company):
    with count_queries() as log:
        rows = metrics.by_compass(Q2)
    assert log.count == 1
    assert [(r.point, r.implemented) for r in rows] == [
        (Compass.NEED, 1),  # i1; i6 before the period
        (Compass.WANT, 1),  # i3
        (Compass.EMOTION, 0),  # i2 merged and i4 declined never count
        (Compass.STEREOTYPE, 1),  # i7
        (None, 1),  # i5
    ]
    assert compass_by_hand(Q2) == {"need": 1, "want": 1, "stereotype": 1, None: 1}
    assert sum(r.implemented for r in rows) == metrics.count_implemented(Q2)


def test_the_figures_take_one_query_each_however_many_stages_and_ideas(app, make_user, make_idea):
    def queries():
        counts = []
        for figures in (metrics.by_journey_stage, metrics.by_compass):
            with count_queries() as log:
                figures(Q2)
            counts.append(log.count)
        return counts

    assert queries() == [1, 1]
    for n in range(6):
        made = stage(f"Stage {n}", n, retired=n % 2 == 0)
        idea = make_idea(Status.IMPLEMENTED)
        idea.journey_stage_id = made.id
        idea.compass = list(Compass)[n % 4]
    db.session.commit()
    assert queries() == [1, 1]


def test_the_dashboard_shows_both_tables_with_links_and_how_they_are_counted(
    company, client_as, make_user
):
    html = client_as(make_user()).get(f"/dashboard?{QUERY}").get_data(as_text=True)
    journey = html[html.index('id="journey-heading"') : html.index('id="compass-heading"')]
    finding = company["finding"].id
    assert "When the customer is at finding us." in journey
    assert f'href="/ideas?sort=newest&amp;stage={finding}"' in journey
    assert f'href="/ideas?sort=newest&amp;stage={finding}&amp;status=implemented"' in journey
    assert 'Old counter <small class="muted">(retired)</small>' in journey
    assert "Fax orders" not in journey and metrics.NO_STAGE in journey
    assert "How this is counted" in journey and "also when no idea names it" in journey
    compass = html[html.index('id="compass-heading"') :]
    assert Compass.EMOTION.explanation in compass
    assert 'href="/ideas?sort=newest&amp;compass=need&amp;status=implemented"' in compass
    assert "How this is counted" in compass and "the rows add up to the headline" in compass


def test_a_count_links_to_the_ideas_it_counts_of_every_date(company, client_as, make_user):
    """The list has no period: the links show such ideas of every date (i1 and i6 for need)."""
    client = client_as(make_user())
    html = client.get(f"/dashboard?{QUERY}").get_data(as_text=True)

    def listed(link):
        page = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        return sorted(
            int(n) for n in re.findall(r'<article class="idea-card" id="idea-(\d+)"', page)
        )

    need = re.search(r'href="(/ideas\?[^"]*compass=need[^"]*)"', html).group(1)
    assert listed(need) == sorted([company["i1"], company["i6"]])
    buying = re.search(
        rf'href="(/ideas\?[^"]*stage={company["buying"].id}&amp;status=[^"]*)"', html
    )
    assert listed(buying.group(1)) == [company["i3"]]


def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_the_downloads_hold_the_figures_as_labels(company, client_as, make_user):
    client = client_as(make_user())
    response = client.get(f"/insights/journey.csv?{QUERY}")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=dashboard-where-in-the-customers-journey-2026-04-01-to-2026-06-30.csv"
    )
    assert response.get_data().startswith(b"\xef\xbb\xbf")
    explained = "When the customer is at {}."
    assert rows_of(response) == [
        ["journey stage", "explanation", "state", "submitted", "put into practice"],
        ["Finding us", explained.format("finding us"), "In use", "2", "1"],
        ["Old counter", explained.format("old counter"), "Retired", "1", "1"],
        ["Buying", explained.format("buying"), "In use", "2", "1"],
        ["Waiting", explained.format("waiting"), "In use", "0", "0"],
        [metrics.NO_STAGE, "", "", "1", "1"],
    ]
    response = client.get(f"/insights/compass.csv?{QUERY}")
    assert response.headers["Content-Disposition"] == (
        "attachment; filename="
        "dashboard-what-the-changes-did-for-the-customer-2026-04-01-to-2026-06-30.csv"
    )
    assert rows_of(response) == [
        ["compass point", "what it does for the customer", "put into practice"],
        *([p.label, p.explanation, str(n)] for p, n in zip(Compass, (1, 1, 0, 1), strict=True)),
        ["None given", "", "1"],
    ]
