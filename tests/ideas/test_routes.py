"""Ideas through HTTP: submitting, the list, the idea page, votes, comments and the review."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Comment, Idea, Lens, Status, StatusChange, Vote
from serviceideas.people.models import DepartmentKind, Role
from tests.conftest import count_queries

HX = {"HX-Request": "true"}


def text(response):
    return response.get_data(as_text=True)


def count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def review(client, idea, action, **data):
    """Post a review form as the page would: with what it shows of the idea as it stands now
    (the last step of its history, its owner)."""
    seen = db.session.execute(
        sa.select(
            sa.select(sa.func.coalesce(sa.func.max(StatusChange.id), 0))
            .where(StatusChange.idea_id == idea.id)
            .scalar_subquery(),
            Idea.owner_id,
        ).where(Idea.id == idea.id)
    ).one()
    shown = {"seen_change": seen[0], "seen_owner": seen[1] or "nobody"}
    return client.post(f"/ideas/{idea.id}/{action}", data={**shown, **data})


@pytest.fixture
def employee(make_user):
    return make_user(name="Emma Employee")


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


GOOD = {
    "title": "Call back customers who cancelled",
    "problem": "We never learn why they left.",
    "proposal": "Call five a month, just listen.",
    "lens": "learn",
    "beneficiary": "external",
}


# Submitting


def test_an_employee_submits_an_idea_and_lands_on_it(client_as, employee):
    client = client_as(employee)
    response = client.post("/ideas/new", data=GOOD)
    assert response.status_code == 303
    idea = db.session.scalar(sa.select(Idea))
    assert response.headers["Location"] == f"/ideas/{idea.id}"
    assert (idea.author_id, idea.lens, idea.beneficiary_department) == (
        employee.id,
        Lens.LEARN,
        None,
    )
    page = text(client.get(response.headers["Location"]))
    assert "Call back customers who cancelled" in page and "your idea is in" in page


def test_an_internal_team_can_be_the_beneficiary(client_as, employee, make_department):
    stores = make_department("Stores")
    client_as(employee).post("/ideas/new", data={**GOOD, "beneficiary": str(stores.id)})
    assert db.session.scalar(sa.select(Idea)).beneficiary_label == "Stores"


def test_whom_an_idea_is_for_reads_as_a_phrase_in_each_language(
    client_as, employee, make_department
):
    stores = make_department("Stores")
    client = client_as(employee)
    client.post("/ideas/new", data=GOOD)
    client.post("/ideas/new", data={**GOOD, "title": "Shelf labels", "beneficiary": str(stores.id)})
    for language, external, internal in [
        ("en", "for external customers", "for Stores"),
        ("de", "für externe Kundschaft", "für Stores"),  # the list's label is "Externe Kundschaft"
        ("es", "para clientes externos", "para Stores"),
    ]:
        for address in ("/ideas", f"/ideas/{db.session.scalar(sa.select(sa.func.min(Idea.id)))}"):
            page = text(client.get(address, headers={"Accept-Language": language}))
            assert external in page, (language, address)
        assert internal in text(client.get("/ideas", headers={"Accept-Language": language}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "x" * 121}, "Field cannot be longer than 120 characters."),
        ({"problem": "   "}, "This field is required."),
        ({"proposal": "p" * 5001}, "Field cannot be longer than 5000 characters."),
        ({"lens": "magic"}, "Not a valid choice"),
        ({"lens": ""}, "Choose a lens."),
        ({"beneficiary": "99999"}, "Not a valid choice"),
        ({"beneficiary": "nobody"}, "Not a valid choice"),
    ],
)
def test_bad_ideas_come_back_with_the_message_and_the_input(client_as, employee, change, message):
    client = client_as(employee)
    data = {**GOOD, **change}
    sent = client.post("/ideas/new", data=data)
    # Without htmx the refused form is shown at its own page's address (refusals.py)
    assert sent.status_code == 303 and "refused=" in sent.headers["Location"]
    page_response = client.get(sent.headers["Location"])
    assert page_response.status_code == 422  # the page shows a refused form, like the fragment
    fragment_response = client.post("/ideas/new", data=data, headers=HX)
    assert fragment_response.status_code == 422
    assert "refused=" in fragment_response.headers["HX-Replace-Url"]
    for response in (page_response, fragment_response):
        assert message in text(response)
        kept = next(GOOD[k] for k in ("title", "problem", "proposal") if k not in change)
        assert kept in text(response)  # nothing typed is lost
    assert "<html" in text(page_response)
    assert text(fragment_response).lstrip().startswith('<form id="idea-form"')
    assert count(Idea) == 0


def test_htmx_submit_redirects_with_a_header(client_as, employee):
    response = client_as(employee).post("/ideas/new", data=GOOD, headers=HX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/ideas/")


def test_the_form_can_be_prefilled_from_the_address(client_as, employee):
    page = text(client_as(employee).get("/ideas/new?title=From+a+reflection&lens=teach"))
    assert 'value="From a reflection"' in page
    assert 'checked id="lens-2"' in page
    assert "This field is required." not in page


def test_each_lens_choice_is_read_with_its_explanation(client_as, employee):
    page = text(client_as(employee).get("/ideas/new"))
    for lens in Lens:
        described = re.search(rf'<input[^>]*value="{lens.value}"[^>]*>', page)
        assert described is not None
        assert f'aria-describedby="lens-{lens.value}-help"' in described.group(0)
        assert f'id="lens-{lens.value}-help"' in page


# The list


@pytest.fixture
def catalogue(make_idea, make_user, make_department):
    """Four ideas from a front-line and a back-office team, in different states."""
    stores = make_department("Stores", DepartmentKind.FRONT_LINE)
    it = make_department("IT", DepartmentKind.BACK_OFFICE)
    now = utcnow()
    ideas = {
        "queue": make_idea(
            author=make_user(department=stores),
            title="Shorter phone queue",
            problem="Customers hang up after ten minutes on hold.",
            lens=Lens.REMOVE_GO_AWAY,
            now=now - timedelta(days=40),
        ),
        "reset": make_idea(
            Status.IMPLEMENTED,
            author=make_user(department=it),
            title="Self-service password reset",
            lens=Lens.TEACH,
            beneficiary=stores,
            now=now - timedelta(days=20),
        ),
        "video": make_idea(
            author=make_user(department=it),
            title="Video guide",
            lens=Lens.TEACH,
            now=now - timedelta(days=10),
        ),
        "percent": make_idea(
            author=make_user(department=stores), title="100% refunds", now=now - timedelta(days=5)
        ),
    }
    voters = [make_user() for _ in range(3)]
    for voter in voters:
        services.set_vote(voter, ideas["video"], True)
    services.set_vote(voters[0], ideas["queue"], True)
    db.session.commit()
    return ideas, stores, it


def titles(client, query=""):
    page = text(client.get(f"/ideas?{query}"))
    # A search marks the words that matched: the title is the text without the marks.
    found = re.findall(r'<h3><a href="/ideas/\d+">((?:[^<]|</?mark>)+)</a></h3>', page)
    return [re.sub(r"</?mark>", "", title) for title in found]


def test_the_list_filters_searches_and_sorts(client_as, employee, catalogue):
    _, stores, it = catalogue
    client = client_as(employee)
    assert titles(client)[:2] == ["Video guide", "Shorter phone queue"]  # most votes first
    assert titles(client, "sort=newest") == [
        "100% refunds",
        "Video guide",
        "Self-service password reset",
        "Shorter phone queue",
    ]
    assert titles(client, "sort=waiting") == ["Shorter phone queue", "Video guide", "100% refunds"]
    assert titles(client, "status=implemented") == ["Self-service password reset"]
    assert titles(client, "lens=teach&sort=newest") == [
        "Video guide",
        "Self-service password reset",
    ]
    assert titles(client, f"department={it.id}&sort=newest") == [
        "Video guide",
        "Self-service password reset",
    ]
    assert set(titles(client, "kind=front_line")) == {"Shorter phone queue", "100% refunds"}
    assert titles(client, f"beneficiary={stores.id}") == ["Self-service password reset"]
    assert "Self-service password reset" not in titles(client, "beneficiary=external")
    assert titles(client, "q=HANG+UP") == ["Shorter phone queue"]  # searches the problem too
    assert titles(client, "q=100%25") == ["100% refunds"]  # % is a character, not a wildcard
    assert titles(client, "q=nothing+like+this") == []


def test_cards_show_votes_comments_status_lens_and_department(client_as, employee, catalogue):
    ideas, _, _ = catalogue
    services.add_comment(employee, ideas["video"], "Great")
    db.session.commit()
    page = text(client_as(employee).get("/ideas?lens=teach&status=submitted"))
    assert "<strong>3</strong> votes" in page and "1 comment<" in page
    assert "Submitted" in page and "Teach" in page and "IT" in page and "Back office" in page


@pytest.mark.parametrize(
    "query", ["status=wishful", "lens=x", "kind=middle", "sort=random", "department=abc"]
)
def test_nonsense_filters_are_a_400_with_the_reason(client_as, employee, query):
    response = client_as(employee).get(f"/ideas?{query}")
    assert response.status_code == 400
    assert "Not a valid choice" in text(response)


def test_load_more_pages_without_and_with_javascript(client_as, employee, make_idea, app):
    app.config["PAGE_SIZE"] = 2
    for n in range(5):
        make_idea(title=f"Idea number {n}", now=utcnow() - timedelta(days=n))
    client = client_as(employee)
    seen = titles(client, "sort=newest")
    page = text(client.get("/ideas?sort=newest"))
    more = (
        re.search(r'<a href="(/ideas\?[^"]+)" role="button"', page).group(1).replace("&amp;", "&")
    )
    while more:
        fragment = text(client.get(more, headers=HX))
        assert "<html" not in fragment
        seen += re.findall(r'<h3><a href="/ideas/\d+">([^<]+)</a></h3>', fragment)
        full = text(client.get(more))  # the same link works as a page without JavaScript
        assert "<html" in full
        found = re.search(r'<a href="(/ideas\?[^"]+)" role="button"', fragment)
        more = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [f"Idea number {n}" for n in range(5)]


def test_a_broken_page_link_is_a_400(client_as, employee):
    response = client_as(employee).get("/ideas?after=not-a-cursor")
    assert response.status_code == 400
    assert "page link is broken" in text(response)


def test_list_queries_do_not_grow_with_the_number_of_ideas(
    client_as, employee, make_idea, make_user
):
    client = client_as(employee)

    def queries_for(url):
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return queries.count

    voters = [make_user() for _ in range(3)]
    authors = [make_user() for _ in range(3)]
    for n in range(5):
        idea = make_idea(author=authors[n % 3])
        services.set_vote(voters[n % 3], idea, True)
        services.add_comment(voters[0], idea, "Yes")
    db.session.commit()
    urls = ["/ideas", "/ideas?sort=newest&q=idea", "/ideas/mine", "/ideas?kind=front_line"]
    few = [queries_for(url) for url in urls]
    for n in range(60):
        idea = make_idea(author=authors[n % 3])
        services.set_vote(voters[n % 3], idea, True)
        services.add_comment(voters[1], idea, "Also yes")
    db.session.commit()
    assert [queries_for(url) for url in urls] == few


# The idea page


def test_idea_page_shows_everything_with_a_constant_number_of_queries(
    client_as, employee, make_idea, make_user, manager
):
    idea = make_idea(Status.UNDER_REVIEW, reviewer=manager)
    client = client_as(employee)
    address = f"/ideas/{idea.id}"

    def queries_for_page():
        with count_queries() as queries:
            page = text(client.get(address))
        return queries.count, page

    services.add_comment(make_user(), idea, "First comment")
    db.session.commit()
    few, page = queries_for_page()
    assert (
        "First comment" in page
        and "moved it from <em>submitted</em> to <em>under review</em>" in page
    )
    for n in range(49):
        services.add_comment(make_user(), idea, f"Comment {n}")
        services.set_vote(make_user(), idea, True)
    db.session.commit()
    many, page = queries_for_page()
    assert page.count('class="comment"') == 50
    assert many == few
    # The person with the bell's count, the idea, its history, comments, the viewer's stakes
    # with whether there are merged ideas or progress notes (none: not read), its module.
    assert few == 6


def test_unknown_idea_is_a_404(client_as, employee):
    assert client_as(employee).get("/ideas/424242").status_code == 404


# Votes


def test_vote_with_htmx_returns_the_pressed_button(client_as, employee, make_idea):
    idea = make_idea()
    client = client_as(employee)
    response = client.post(f"/ideas/{idea.id}/vote", data={"vote": "1"}, headers=HX)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="vote"')
    assert 'aria-pressed="true"' in fragment and "<strong>1</strong> vote" in fragment
    assert 'name="vote" value="0"' in fragment  # the next press takes it back

    again = text(client.post(f"/ideas/{idea.id}/vote", data={"vote": "0"}, headers=HX))
    assert 'aria-pressed="false"' in again and "<strong>0</strong> votes" in again
    assert count(Vote) == 0


def test_vote_without_javascript_redirects_back(client_as, employee, make_idea):
    idea = make_idea()
    response = client_as(employee).post(f"/ideas/{idea.id}/vote", data={"vote": "1"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ideas/{idea.id}#vote"
    assert db.session.get(Idea, idea.id).vote_count == 1


def test_own_and_closed_ideas_refuse_votes_with_a_409(client_as, employee, make_idea):
    own = make_idea(author=employee)
    closed = make_idea(Status.DECLINED)
    client = client_as(employee)
    refused_own = client.post(f"/ideas/{own.id}/vote", data={"vote": "1"}, headers=HX)
    refused_closed = client.post(f"/ideas/{closed.id}/vote", data={"vote": "1"}, headers=HX)
    assert (refused_own.status_code, refused_closed.status_code) == (409, 409)
    assert "cannot vote on your own idea" in text(refused_own)
    assert "Voting has closed" in text(refused_closed)
    assert count(Vote) == 0


def test_a_nonsense_vote_is_a_400(client_as, employee, make_idea):
    idea = make_idea()
    response = client_as(employee).post(f"/ideas/{idea.id}/vote", data={"vote": "2"})
    assert response.status_code == 400


# Comments


def test_comment_with_htmx_returns_the_comment_section(client_as, employee, make_idea):
    idea = make_idea()
    response = client_as(employee).post(
        f"/ideas/{idea.id}/comments", data={"body": "We see this <b>daily</b>"}, headers=HX
    )
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="comments"')
    assert "We see this &lt;b&gt;daily&lt;/b&gt;" in fragment  # escaped, never markup


@pytest.mark.parametrize("body", ["", "   ", "c" * 2001])
def test_bad_comments_are_refused_beside_the_field(client_as, employee, make_idea, body):
    idea = make_idea()
    response = client_as(employee).post(
        f"/ideas/{idea.id}/comments", data={"body": body}, headers=HX
    )
    assert response.status_code == 422
    assert 'class="field-error"' in text(response)
    assert count(Comment) == 0


def test_authors_edit_their_comment_others_cannot_even_by_guessing(
    client_as, employee, make_user, make_idea
):
    idea = make_idea()
    comment = services.add_comment(employee, idea, "Original")
    db.session.commit()
    url = f"/ideas/{idea.id}/comments/{comment.id}/edit"
    assert client_as(make_user()).post(url, data={"body": "Hijacked"}).status_code == 403
    assert client_as(make_user(Role.ADMIN)).get(url).status_code == 403
    other_idea = make_idea()
    assert (
        client_as(employee).get(f"/ideas/{other_idea.id}/comments/{comment.id}/edit").status_code
        == 404
    )

    client = client_as(employee)
    assert 'name="body"' in text(client.get(url, headers=HX))
    response = client.post(url, data={"body": "Edited"}, headers=HX)
    assert response.status_code == 200 and "Edited" in text(response) and "edited" in text(response)
    assert client.post(url, data={"body": ""}, headers=HX).status_code == 422
    db.session.refresh(comment)
    assert comment.body == "Edited"


def test_removing_comments_is_recorded_and_shown(
    client_as, employee, manager, make_user, make_idea
):
    idea = make_idea()
    mine = services.add_comment(employee, idea, "Mine")
    theirs = services.add_comment(make_user(), idea, "Theirs")
    db.session.commit()
    assert (
        client_as(employee).post(f"/ideas/{idea.id}/comments/{theirs.id}/remove").status_code == 403
    )
    client_as(employee).post(f"/ideas/{idea.id}/comments/{mine.id}/remove")
    client_as(manager).post(f"/ideas/{idea.id}/comments/{theirs.id}/remove")
    page = text(client_as(employee).get(f"/ideas/{idea.id}"))
    assert "Deleted by its author." in page and "Removed by a manager." in page
    assert "Theirs" not in page
    db.session.refresh(theirs)
    assert theirs.removed_by_id == manager.id


# Review


def test_a_manager_takes_an_idea_from_submitted_to_implemented(client_as, manager, make_idea):
    idea = make_idea()
    client = client_as(manager)
    for step in ("under_review", "approved", "in_progress"):
        response = review(client, idea, "status", to=step, note=f"To {step}")
        assert response.status_code == 303, text(response)
    today = utcnow().date().isoformat()
    response = review(
        client,
        idea,
        "status",
        to="implemented",
        note="Calls fell by a third.",
        implemented_on=today,
    )
    assert response.status_code == 303
    page = text(client.get(f"/ideas/{idea.id}"))
    assert "Put into practice on" in page and "Calls fell by a third." in page
    steps = db.session.scalars(
        sa.select(StatusChange.to_status)
        .where(StatusChange.idea_id == idea.id)
        .order_by(StatusChange.id)
    ).all()
    assert steps == [
        Status.SUBMITTED,
        Status.UNDER_REVIEW,
        Status.APPROVED,
        Status.IN_PROGRESS,
        Status.IMPLEMENTED,
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"to": "in_progress"}, "cannot become in progress"),  # not reachable from submitted
        ({"to": "pilot"}, "Not a valid choice"),
        ({"to": "declined", "note": ""}, "Say why the idea is declined"),
        ({"to": "merged", "merge_into": "999999"}, "There is no idea #999999."),
        ({"to": "merged", "merge_into": "abc"}, "No open idea&#39;s title matches “abc”"),
        ({"to": "merged"}, "Choose the idea to merge this one into."),
        ({"to": "declined", "note": "n" * 2001}, "Field cannot be longer than 2000 characters."),
    ],
)
def test_bad_status_changes_are_refused_with_a_message(
    client_as, manager, make_idea, data, message
):
    idea = make_idea()
    response = review(client_as(manager), idea, "status", **data)
    assert response.status_code == 422
    assert message in text(response)
    assert db.session.get(Idea, idea.id).status is Status.SUBMITTED


def test_a_future_implementation_date_is_refused(client_as, manager, make_idea):
    idea = make_idea(Status.IN_PROGRESS, reviewer=manager)
    day_after_tomorrow = (utcnow().date() + timedelta(days=2)).isoformat()
    response = review(
        client_as(manager),
        idea,
        "status",
        to="implemented",
        note="Done",
        implemented_on=day_after_tomorrow,
    )
    assert response.status_code == 422
    assert "cannot be in the future" in text(response)
    assert "Done</textarea>" in text(response)  # the note is kept
    assert f'value="{day_after_tomorrow}"' in text(response)


def test_a_decision_on_a_page_that_changed_meanwhile_is_a_409(client_as, manager, make_idea):
    idea = make_idea()
    opened = db.session.scalar(sa.select(StatusChange.id).where(StatusChange.idea_id == idea.id))
    review(client_as(manager), idea, "status", to="under_review")  # another manager, first
    late = client_as(manager).post(
        f"/ideas/{idea.id}/status", data={"to": "declined", "note": "No", "seen_change": opened}
    )
    assert late.status_code == 409
    assert "Your decision was not saved" in text(late)
    assert db.session.get(Idea, idea.id).status is Status.UNDER_REVIEW


def test_an_owner_chosen_on_a_page_that_changed_meanwhile_is_a_409(
    client_as, manager, make_idea, make_user
):
    idea = make_idea()
    make_user(email="owner@example.com")
    review(client_as(manager), idea, "owner", owner=manager.email)  # another manager, first
    late = client_as(manager).post(
        f"/ideas/{idea.id}/owner", data={"owner": "owner@example.com", "seen_owner": "nobody"}
    )
    assert late.status_code == 409
    assert "Your choice of owner was not saved" in text(late)
    db.session.refresh(idea)
    assert idea.owner_id == manager.id


def test_employees_cannot_change_status(client_as, employee, make_idea):
    idea = make_idea()
    response = client_as(employee).post(f"/ideas/{idea.id}/status", data={"to": "under_review"})
    assert response.status_code == 403
    assert db.session.get(Idea, idea.id).status is Status.SUBMITTED


def test_merge_through_the_page(client_as, manager, make_idea, make_user):
    target, duplicate = make_idea(title="The original"), make_idea(title="The copy")
    services.set_vote(make_user(), duplicate, True)
    db.session.commit()
    client = client_as(manager)
    response = review(client, duplicate, "status", to="merged", merge_into=str(target.id))
    assert response.status_code == 303
    assert "was merged into" in text(client.get(f"/ideas/{duplicate.id}"))
    assert "The copy" in text(client.get(f"/ideas/{target.id}"))
    db.session.refresh(target)
    assert target.vote_count == 1


def test_owner_is_set_by_email(client_as, manager, make_idea, make_user):
    idea = make_idea()
    owner = make_user(email="owner@example.com", name="Olive Owner")
    client = client_as(manager)
    assert review(client, idea, "owner", owner="OWNER@example.com").status_code == 303
    assert "Olive Owner" in text(client.get(f"/ideas/{idea.id}"))
    unknown = review(client, idea, "owner", owner="ghost@example.com")
    assert unknown.status_code == 422 and "Nobody active matches" in text(unknown)
    db.session.refresh(idea)
    assert idea.owner_id == owner.id


def test_review_queue_lists_open_ideas_oldest_first_and_flags_stalled(
    client_as, manager, make_idea
):
    now = utcnow()
    make_idea(title="Old and stalled", now=now - timedelta(days=45))
    make_idea(title="Fresh", now=now - timedelta(days=2))
    make_idea(Status.DECLINED, title="Closed", now=now - timedelta(days=90))
    page = text(client_as(manager).get("/ideas/review"))
    found = re.findall(r'<h3><a href="/ideas/\d+">([^<]+)</a></h3>', page)
    assert found == ["Old and stalled", "Fresh"]
    assert "1 stalled" in page and "Stalled 45 days" in page


def test_my_ideas_lists_only_mine(client_as, employee, make_idea):
    make_idea(author=employee, title="Mine")
    make_idea(title="Not mine")
    page = text(client_as(employee).get("/ideas/mine"))
    assert "Mine" in page and "Not mine" not in page


def test_a_broad_list_is_counted_up_to_a_point(client_as, employee, make_idea, monkeypatch):
    from serviceideas.ideas import queries

    monkeypatch.setattr(queries, "COUNT_UP_TO", 3)
    monkeypatch.setattr(queries, "SEARCH_COUNT_UP_TO", 2)
    for _ in range(4):
        make_idea(title="Quicker refunds")
    client = client_as(employee)
    assert "More than 3 ideas" in text(client.get("/ideas"))
    assert "More than 2 ideas" in text(client.get("/ideas?q=refunds"))  # a search stops sooner


@pytest.mark.parametrize("seen", [None, "", "seven", "1.5", "-1"])
@pytest.mark.parametrize(
    ("action", "data", "field"),
    [("owner", {"owner": ""}, "seen_owner"), ("status", {"to": "under_review"}, "seen_change")],
)
def test_a_review_form_without_what_the_page_showed_says_so(
    client_as, make_user, make_idea, action, data, field, seen
):
    idea = make_idea()
    client = client_as(make_user(Role.MANAGER))
    sent = data if seen is None else {**data, field: seen}
    response = client.post(f"/ideas/{idea.id}/{action}", data=sent)
    assert response.status_code == 400
    assert "came without what the idea&#39;s page showed" in response.get_data(as_text=True)
    assert 'id="review"' in response.get_data(as_text=True)  # the idea's page, to send again
    db.session.refresh(idea)
    assert idea.status is Status.SUBMITTED and idea.owner is None
