"""The everyday experience of ideas (issue 14): one submission makes one idea, votes are
remembered everywhere they are shown, and a posted comment leaves an empty box."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Comment, Idea, Lens, Status
from serviceideas.people.models import Role
from tests.conftest import count_queries

HX = {"HX-Request": "true"}


def text(response):
    return response.get_data(as_text=True)


def vote_buttons(page):
    """Each vote button on a page: (its id, whether it shows as pressed, the vote it sends)."""
    found = []
    for form in re.findall(r"<form[^>]*/vote\".*?</form>", page, flags=re.S):
        sends = re.search(r'name="vote" value="([01])"', form).group(1)
        button = re.search(r"<button[^>]*>", form).group(0)
        button_id = re.search(r'id="([^"]+)"', button)
        pressed = re.search(r'aria-pressed="(true|false)"', button).group(1) == "true"
        found.append((button_id.group(1) if button_id else None, pressed, sends))
    return found


# Votes


def test_the_idea_page_remembers_your_vote_after_a_reload(client_as, make_user, make_idea):
    idea = make_idea()
    voter = make_user()
    services.set_vote(voter, idea, True)
    db.session.commit()
    page = text(client_as(voter).get(f"/ideas/{idea.id}"))
    buttons = vote_buttons(page)
    assert buttons, "the idea page shows a vote button"
    # Pressed, and the next press takes the vote back (one click, not two).
    assert all(pressed and sends == "0" for _, pressed, sends in buttons)


def test_both_vote_buttons_on_the_idea_page_show_the_vote_and_have_their_own_ids(
    client_as, make_user, make_idea
):
    idea = make_idea()
    client = client_as(make_user())
    before = vote_buttons(text(client.get(f"/ideas/{idea.id}")))
    assert [(pressed, sends) for _, pressed, sends in before] == [(False, "1"), (False, "1")]
    assert len({button_id for button_id, _, _ in before}) == 2

    client.post(f"/ideas/{idea.id}/vote", data={"vote": "1", "place": "top"})
    after = vote_buttons(text(client.get(f"/ideas/{idea.id}")))
    assert [(pressed, sends) for _, pressed, sends in after] == [(True, "0"), (True, "0")]


def test_a_vote_by_the_title_also_updates_the_button_beside_the_facts(
    client_as, make_user, make_idea
):
    idea = make_idea()
    response = client_as(make_user()).post(
        f"/ideas/{idea.id}/vote", data={"vote": "1", "place": "top"}, headers=HX
    )
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="vote-top"')
    # The other button on the page comes along, swapped out of band.
    assert re.search(r'<div id="vote" class="vote" hx-swap-oob="true">', fragment)
    assert [(pressed, sends) for _, pressed, sends in vote_buttons(fragment)] == [
        (True, "0"),
        (True, "0"),
    ]
    # The pressed button keeps its id: htmx gives it the focus back after the swap.
    assert 'id="vote-top-button"' in fragment
    # What changed is read out by the page's live region, which is not itself replaced.
    assert '<div id="announcer" hx-swap-oob="innerHTML">Your vote is counted: 1 vote.</div>' in (
        fragment
    )


def test_a_refused_take_back_still_shows_the_vote_that_stands(client_as, make_user, make_idea):
    idea = make_idea()
    voter = make_user()
    services.set_vote(voter, idea, True)
    db.session.commit()
    declined = services.Decision(Status.DECLINED, note="Not this year.")
    services.change_status(make_user(Role.MANAGER), idea, declined)  # voting closes
    db.session.commit()
    response = client_as(voter).post(
        f"/ideas/{idea.id}/vote", data={"vote": "0", "place": "top"}, headers=HX
    )
    assert response.status_code == 409
    assert "Voting has closed" in text(response)
    assert "<strong>1</strong> vote (yours among them)" in text(response)


def test_each_card_has_a_vote_button_showing_the_viewers_vote(client_as, make_user, make_idea):
    voter = make_user()
    voted_on, not_yet = make_idea(title="Voted on"), make_idea(title="Not yet")
    own = make_idea(author=voter, title="My own")
    services.set_vote(voter, voted_on, True)
    db.session.commit()
    page = text(client_as(voter).get("/ideas"))
    buttons = {button_id: (pressed, sends) for button_id, pressed, sends in vote_buttons(page)}
    assert buttons == {
        f"vote-{voted_on.id}-button": (True, "0"),
        f"vote-{not_yet.id}-button": (False, "1"),
    }
    assert f'id="vote-{own.id}"' in page and f"vote-{own.id}-button" not in page
    assert "(yours among them)" in page


def test_a_card_vote_answers_with_the_card_button_and_without_javascript_returns_to_the_list(
    client_as, make_user, make_idea
):
    idea = make_idea()
    client = client_as(make_user())
    fragment = text(
        client.post(f"/ideas/{idea.id}/vote", data={"vote": "1", "place": "card"}, headers=HX)
    )
    assert fragment.lstrip().startswith(f'<div id="vote-{idea.id}"')
    assert 'class="vote" hx-swap-oob' not in fragment  # a list has no other button for it
    back = client.post(
        f"/ideas/{idea.id}/vote",
        data={"vote": "0", "place": "card", "back": "/ideas?sort=newest"},
    )
    assert back.status_code == 303
    assert back.headers["Location"] == f"/ideas?sort=newest#idea-{idea.id}"
    assert db.session.get(Idea, idea.id).vote_count == 0
    elsewhere = client.post(
        f"/ideas/{idea.id}/vote",
        data={"vote": "1", "place": "card", "back": "//evil.example/ideas"},
    )
    assert elsewhere.headers["Location"] == f"/ideas/{idea.id}#vote"


def test_the_list_reads_every_cards_vote_in_the_same_queries(client_as, make_user, make_idea):
    voter = make_user()
    client = client_as(voter)

    def queries_for_list():
        with count_queries() as queries:
            page = text(client.get("/ideas"))
        return queries.count, page

    services.set_vote(voter, make_idea(), True)
    db.session.commit()
    few, _ = queries_for_list()
    for n in range(12):
        idea = make_idea()
        if n % 2:
            services.set_vote(voter, idea, True)
    db.session.commit()
    many, page = queries_for_list()
    assert len(vote_buttons(page)) == 13
    assert many == few


def test_ids_are_unique_on_the_idea_page_and_the_list(client_as, make_user, make_idea):
    viewer = make_user()
    idea = make_idea()
    services.add_comment(viewer, idea, "One comment")
    db.session.commit()
    urls = (f"/ideas/{idea.id}", "/ideas", "/ideas/mine", "/ideas/new")
    # A manager's idea page also has the review panel, and the review queue its cards.
    for client, more in (
        (client_as(viewer), ()),
        (client_as(make_user(Role.MANAGER)), ("/ideas/review",)),
    ):
        for url in (*urls, *more):
            ids = re.findall(r'\sid="([^"]+)"', text(client.get(url)))
            assert len(ids) == len(set(ids)), (url, sorted(i for i in ids if ids.count(i) > 1))


# One submission, one idea

GOOD = {
    "title": "Call back customers who cancelled",
    "problem": "We never learn why they left.",
    "proposal": "Call five a month, just listen.",
    "lens": "learn",
    "beneficiary": "external",
}


def token_in(page, name="submission_token"):
    return re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)


def ideas_count():
    db.session.commit()  # end this test's snapshot: read what the requests committed
    return db.session.scalar(sa.select(sa.func.count()).select_from(Idea))


def test_each_form_shown_carries_a_new_token(client_as, make_user):
    client = client_as(make_user())
    first, second = (token_in(text(client.get("/ideas/new"))) for _ in range(2))
    assert first != second and len(first) >= 20
    # Not even an address that names one can make two forms share it.
    assert token_in(text(client.get(f"/ideas/new?submission_token={first}"))) != first


def test_the_same_form_sent_twice_makes_one_idea_and_leads_to_it(client_as, make_user):
    client = client_as(make_user())
    data = {**GOOD, "submission_token": token_in(text(client.get("/ideas/new")))}
    first = client.post("/ideas/new", data=data)
    again = client.post("/ideas/new", data=data)
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["Location"] == first.headers["Location"]
    assert ideas_count() == 1
    page = text(client.get(again.headers["Location"]))
    assert "your idea is in" in page and "Call back customers who cancelled" in page


def test_the_same_form_sent_twice_by_htmx_redirects_both_to_the_idea(client_as, make_user):
    client = client_as(make_user())
    data = {**GOOD, "submission_token": token_in(text(client.get("/ideas/new")))}
    answers = [client.post("/ideas/new", data=data, headers=HX) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [204, 204]
    assert answers[0].headers["HX-Redirect"] == answers[1].headers["HX-Redirect"]
    assert ideas_count() == 1


def test_a_token_belongs_to_its_author(client_as, make_user):
    data = {**GOOD, "submission_token": "the-same-token-for-both-of-them"}
    for person in (make_user(), make_user()):
        assert client_as(person).post("/ideas/new", data=data).status_code == 303
    assert ideas_count() == 2


def test_a_form_sent_again_with_other_text_keeps_it_and_asks_once_more(client_as, make_user):
    client = client_as(make_user())
    token = token_in(text(client.get("/ideas/new")))
    first = client.post("/ideas/new", data={**GOOD, "submission_token": token})
    changed = {**GOOD, "title": "Ask why they cancelled", "submission_token": token}
    refused = client.post("/ideas/new", data=changed)
    assert refused.status_code == 303  # to the form's own page, where it shows again
    page = text(client.get(refused.headers["Location"]))
    assert "This form already sent idea #" in page and 'value="Ask why they cancelled"' in page
    new_token = token_in(page)
    assert new_token != token
    again = client.post("/ideas/new", data={**changed, "submission_token": new_token})
    assert again.status_code == 303 and again.headers["Location"] != first.headers["Location"]
    assert ideas_count() == 2


def test_a_broken_token_is_replaced_and_nothing_typed_is_lost(client_as, make_user):
    client = client_as(make_user())
    refused = client.post("/ideas/new", data={**GOOD, "submission_token": "x" * 65})
    assert refused.status_code == 303
    page = text(client.get(refused.headers["Location"]))
    assert "Call back customers who cancelled" in page
    assert len(token_in(page)) < 65
    assert ideas_count() == 0


def test_an_idea_from_a_reflection_sent_twice_is_linked_to_its_module_once(
    client_as, make_enrolment
):
    from serviceideas.training.models import ModuleIdea

    enrolment = make_enrolment("reflection", answer="A" * 60)
    client = client_as(enrolment.user)
    origin = f"module:{enrolment.assignment.module_id}"
    form = text(client.post("/ideas/new", data={"prefill": "1", "problem": "P", "origin": origin}))
    data = {**GOOD, "origin": origin, "submission_token": token_in(form)}
    for _ in range(2):
        assert client.post("/ideas/new", data=data).status_code == 303
    assert ideas_count() == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ModuleIdea)) == 1


def test_the_service_refuses_a_second_idea_with_the_same_token(make_user):
    author = make_user()
    draft = services.IdeaDraft(
        "Title", "Problem.", "Change.", Lens.CARE, None, submission_token="t" * 22
    )
    first = services.submit_idea(author, draft)
    db.session.commit()
    with pytest.raises(services.AlreadySubmitted) as refused:
        services.submit_idea(author, draft)
    assert refused.value.record_id == first.id
    db.session.rollback()
    assert ideas_count() == 1


def send_together(client, data, start):
    """Post `data` once every thread has reached `start`."""
    start.wait()
    return client.post("/ideas/new", data=data)


def test_a_double_submit_racing_in_two_threads_makes_one_idea(app, client_as, make_user):
    """Both requests in flight at once: the database's unique constraint decides, and the
    loser leads to the winner's idea, never to a 500."""
    author = make_user()
    clients = [client_as(author) for _ in range(2)]
    for round_number in range(4):
        data = {**GOOD, "submission_token": f"race-{round_number}-0123456789abcdef"}
        start = threading.Barrier(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(send_together, clients, [data] * 2, [start] * 2))
        assert [answer.status_code for answer in answers] == [303, 303]
        assert len({answer.headers["Location"] for answer in answers}) == 1
    assert ideas_count() == 4


# Comments


def test_a_posted_comment_leaves_an_empty_box_with_the_focus_and_is_announced(
    client_as, make_user, make_idea
):
    idea = make_idea()
    client = client_as(make_user())
    token = token_in(text(client.get(f"/ideas/{idea.id}")))
    response = client.post(
        f"/ideas/{idea.id}/comments",
        data={"body": "We see this every day.", "submission_token": token},
        headers=HX,
    )
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.count("We see this every day.") == 1  # in the list, not left in the box
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", fragment, flags=re.S)
    assert box.group(1).strip() == ""
    assert "autofocus" in box.group(0)
    assert token_in(fragment) != token  # the next comment is another submission
    assert re.search(
        r'<div id="announcer" hx-swap-oob="innerHTML">Your comment is posted.</div>',
        fragment,
    )


def test_a_refused_comment_keeps_its_text_and_focuses_the_message(client_as, make_user, make_idea):
    idea = make_idea()
    response = client_as(make_user()).post(
        f"/ideas/{idea.id}/comments", data={"body": "x" * 2001}, headers=HX
    )
    assert response.status_code == 422
    box = re.search(r"<textarea[^>]*>(.*?)</textarea>", text(response), flags=re.S)
    assert box.group(1).strip() == "x" * 2001 and "autofocus" in box.group(0)
    assert "Your comment is posted" not in text(response)


def test_the_same_comment_form_sent_twice_posts_one_comment(client_as, make_user, make_idea):
    idea = make_idea()
    client = client_as(make_user())
    token = token_in(text(client.get(f"/ideas/{idea.id}")))
    data = {"body": "Only once, please.", "submission_token": token}
    plain = client.post(f"/ideas/{idea.id}/comments", data=data)
    htmx = client.post(f"/ideas/{idea.id}/comments", data=data, headers=HX)
    again = client.post(f"/ideas/{idea.id}/comments", data=data)
    assert (plain.status_code, htmx.status_code, again.status_code) == (303, 200, 303)
    assert text(htmx).count("Only once, please.") == 1
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 1


def test_a_comment_form_sent_again_with_other_text_is_refused_and_gets_a_new_token(
    client_as, make_user, make_idea
):
    """Gone back and changed (or sent on another idea): the first comment is not taken for
    it, nothing is dropped unseen; the form comes back with the text and a fresh token."""
    idea, other = make_idea(), make_idea()
    client = client_as(make_user())
    token = token_in(text(client.get(f"/ideas/{idea.id}")))
    first = {"body": "The first words.", "submission_token": token}
    assert client.post(f"/ideas/{idea.id}/comments", data=first).status_code == 303
    for where, body in ((idea, "Second thoughts."), (other, "The first words.")):
        sent = {"body": body, "submission_token": token}
        refused = client.post(f"/ideas/{where.id}/comments", data=sent, headers=HX)
        assert refused.status_code == 422
        assert "This form already posted a comment" in text(refused)
        assert body in text(refused)
        fresh = token_in(text(refused))
        assert fresh != token
    again = {"body": "Second thoughts.", "submission_token": fresh}
    assert client.post(f"/ideas/{other.id}/comments", data=again).status_code == 303
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 2


def test_a_refused_comment_without_javascript_comes_back_at_the_ideas_address(
    client_as, make_idea, make_user
):
    """Back after it never asks to send the form again: the refusal is shown by a GET."""
    idea = make_idea()
    client = client_as(make_user())
    long = "Thoughtful words. " * 200  # past the longest comment allowed
    refused = client.post(f"/ideas/{idea.id}/comments", data={"body": long})
    assert refused.status_code == 303
    assert refused.headers["Location"].startswith(f"/ideas/{idea.id}?refused=")
    page = client.get(refused.headers["Location"])
    assert page.status_code == 422  # the idea's page, showing a refused form
    body = page.get_data(as_text=True)
    assert "Thoughtful words." in body and "cannot be longer than" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0
    # the idea's page without the refusal shows an empty box
    assert "Thoughtful words." not in client.get(f"/ideas/{idea.id}").get_data(as_text=True)
