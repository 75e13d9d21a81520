"""What changed: the stories behind the dashboard's headline — the same ideas the headline
counts, newest first, with their evidence and people, a page at a time, and as a CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.people import services as people
from serviceideas.people.models import DepartmentKind, Role
from tests.conftest import count_queries


def implement(manager, idea, on, note):
    """Record `idea` (in progress) as put into practice on `on` with `note`."""
    decision = ideas.Decision(Status.IMPLEMENTED, note=note, implemented_on=on)
    ideas.change_status(manager, idea, decision)
    db.session.commit()


def rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.fixture
def month(app):
    """This month, and a day in it no later than today (implementation dates are never in
    the future)."""
    today = utcnow().date()
    return calendar_period(PeriodKind.MONTH, today), today


def test_the_stories_are_the_headlines_ideas_newest_first_with_their_people(
    client_as, make_user, make_department, make_idea, make_enrolment, month
):
    period, today = month
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    ana = make_user(name="Ana Aalto", department=stores)
    manager = make_user(Role.MANAGER, name="Max Meyer", department=it)
    owner = make_user(name="Olu Owner", department=it)
    # Ana's first idea, put into practice first; her second started from a module.
    first = make_idea(Status.IN_PROGRESS, author=ana, title="Call back instead", reviewer=manager)
    first.created_at -= timedelta(days=5)  # submitted a few days ago
    enrolment = make_enrolment("reflection", learner=ana, answer="I noticed the queue." * 4)
    draft = ideas.IdeaDraft(
        "Text when the order is ready",
        "They wait at the desk.",
        "Text them.",
        Lens.TEACH,
        it,
        origin=f"module:{enrolment.assignment.module_id}",
    )
    second = ideas.submit_idea(ana, draft)
    db.session.commit()
    for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
        ideas.change_status(manager, second, ideas.Decision(step))
    ideas.set_owner(manager, second, owner)
    db.session.commit()
    # Ana moves to IT: her ideas still count for Stores, where she was when submitting them.
    people.update_user(ana, name=ana.name, department=it, roles=())
    db.session.commit()
    earlier = max(period.start, today - timedelta(days=1))
    implement(manager, first, earlier, "Callers no longer hold; repeat calls fell by a third.")
    implement(manager, second, today, "Customers arrive when the order is on the shelf.")
    make_idea(Status.DECLINED, author=ana)  # never a story
    make_idea(Status.IN_PROGRESS, author=ana)  # not yet

    client = client_as(make_user())  # any employee reads them
    page = client.get("/dashboard/what-changed?period=month")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2 ideas put into practice" in html
    newest, older = html.index("Text when the order is ready"), html.index("Call back instead")
    assert newest < older
    story = html[newest:older]
    assert "Customers arrive when the order is on the shelf." in story
    assert "Teach" in story and "Stores" in story and "for IT" in story
    assert "Idea by Ana Aalto" in story and "made to happen by Olu Owner" in story
    assert f"Started in the module <em>{enrolment.assignment.module.title}</em>" in story
    assert "no owner named" in html[older:]

    download = client.get("/insights/what-changed.csv?period=month")
    assert download.headers["Content-Disposition"] == (
        f"attachment; filename=what-changed-{period.slug}.csv"
    )
    lines = rows(download)
    assert [line["title"] for line in lines] == [
        "Text when the order is ready",
        "Call back instead",
    ]
    assert lines[0] == {
        "put into practice on": today.isoformat(),
        "idea": str(second.id),
        "title": "Text when the order is ready",
        "what changed and the value it added": "Customers arrive when the order is on the shelf.",
        "lens": "Teach",  # labels, never stored values
        "author": "Ana Aalto",
        "team (author's department when submitting)": "Stores",
        "kind": "Front line",
        "owner": "Olu Owner",
        "for": "IT",
        "started in the module": enrolment.assignment.module.title,
    }
    assert (lines[1]["owner"], lines[1]["for"], lines[1]["started in the module"]) == (
        "",
        "External customers",
        "",
    )


def test_the_page_counts_what_the_dashboard_headline_counts_and_the_headline_links_to_it(
    client_as, make_user, make_idea
):
    manager = make_user(Role.MANAGER)
    for _ in range(3):
        make_idea(Status.IMPLEMENTED, reviewer=manager)
    make_idea(Status.DECLINED, reviewer=manager)
    make_idea(Status.APPROVED, reviewer=manager)
    client = client_as(make_user())
    for query in ("period=quarter", "period=year", "period=custom&start=2020-01-01&end=2020-12-31"):
        dashboard = client.get(f"/dashboard?{query}").get_data(as_text=True)
        headline = re.search(
            r'<a href="([^"]+)" class="headline-link"[^>]*><p class="big-number"'
            r' id="headline-number">(\d+)</p></a>',
            dashboard,
        )
        assert headline, query
        link, number = headline.group(1).replace("&amp;", "&"), int(headline.group(2))
        assert link == f"/dashboard/what-changed?{query}"
        stories = client.get(link).get_data(as_text=True)
        assert f"{number} idea" in stories
        assert stories.count('class="idea-card story"') == number
    assert number == 0  # 2020: nothing, and the page says so
    assert "No idea was put into practice in this period yet." in stories


def test_load_more_pages_through_every_story_in_a_fixed_number_of_queries(
    app, client_as, make_user, make_idea
):
    app.config["PAGE_SIZE"] = 2
    manager = make_user(Role.MANAGER)
    client = client_as(make_user())
    make_idea(Status.IMPLEMENTED, reviewer=manager)

    def read_all():
        """Every story, following "Load more" as htmx does; the queries of each request."""
        seen, counts, url = [], [], "/dashboard/what-changed?period=month"
        headers = {}
        while url:
            with count_queries() as log:
                response = client.get(url, headers=headers)
            assert response.status_code == 200
            counts.append(log.count)
            html = response.get_data(as_text=True)
            seen += re.findall(r'id="story-(\d+)"', html)
            more = re.search(r'hx-get="([^"]+)"[^>]*>Load more stories', html)
            url = more.group(1).replace("&amp;", "&") if more else None
            headers = {"HX-Request": "true"}
        return seen, counts

    one, one_counts = read_all()
    assert len(one) == 1
    for _ in range(6):
        make_idea(Status.IMPLEMENTED, reviewer=manager)
    seven, counts = read_all()
    assert len(seven) == len(set(seven)) == 7
    assert [int(n) for n in seven] == sorted((int(n) for n in seven), reverse=True)  # same day
    assert counts[0] == one_counts[0]  # the first page, whatever the number of ideas
    assert len(set(counts[1:])) == 1  # and every further page alike
    with count_queries() as log:
        assert client.get("/insights/what-changed.csv?period=month").status_code == 200
    few_csv = log.count
    make_idea(Status.IMPLEMENTED, reviewer=manager)
    with count_queries() as log:
        assert len(rows(client.get("/insights/what-changed.csv?period=month"))) == 8
    assert log.count == few_csv


def test_without_javascript_load_more_opens_the_next_stories_with_a_way_back(
    app, client_as, make_user, make_idea
):
    app.config["PAGE_SIZE"] = 1
    manager = make_user(Role.MANAGER)
    older, newer = (make_idea(Status.IMPLEMENTED, reviewer=manager) for _ in range(2))
    client = client_as(make_user())
    html = client.get("/dashboard/what-changed?period=month").get_data(as_text=True)
    assert f'id="story-{newer.id}"' in html and f'id="story-{older.id}"' not in html
    more = re.search(r'<a href="([^"]+)" role="button"[^>]*>Load more stories', html)
    assert more
    following = client.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert f'id="story-{older.id}"' in following and "Back to the newest" in following
    assert "<h1>What changed</h1>" in following  # the whole page, not a fragment


@pytest.mark.parametrize(
    "query",
    [
        "period=month&after=nonsense",
        "period=month&after=2026-13-45.3",
        "period=month&after=2026-01-01.99999999999",
    ],
)
def test_a_broken_load_more_link_is_a_400_not_a_500(client_as, make_user, query):
    response = client_as(make_user()).get(f"/dashboard/what-changed?{query}")
    assert response.status_code == 400
    assert "start again from the first page" in response.get_data(as_text=True)


def test_a_bad_period_is_a_400_with_the_reason_beside_the_date(client_as, make_user):
    client = client_as(make_user())
    response = client.get("/dashboard/what-changed?period=custom&start=2026-06-30&end=2026-04-01")
    assert response.status_code == 400
    assert "The last day comes before the first" in response.get_data(as_text=True)
    csv_response = client.get("/insights/what-changed.csv?period=fortnight")
    assert csv_response.status_code == 400


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get("/dashboard/what-changed")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_idea_dated_outside_the_period_is_not_among_its_stories(client_as, make_user, make_idea):
    manager = make_user(Role.MANAGER)
    idea = make_idea(Status.IN_PROGRESS, reviewer=manager, title="An older change")
    idea.created_at = idea.created_at.replace(year=2020)  # submitted long ago
    db.session.commit()
    implement(manager, idea, date(2021, 3, 1), "Done in 2021.")
    client = client_as(make_user())
    assert "An older change" not in client.get("/dashboard/what-changed?period=year").text
    in_2021 = client.get("/dashboard/what-changed?period=custom&start=2021-01-01&end=2021-12-31")
    assert "An older change" in in_2021.text and "Done in 2021." in in_2021.text
