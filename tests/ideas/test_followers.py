"""Following an idea (issue 15): who follows automatically, following and unfollowing on the
idea page (with and without htmx), and what followers and the team an idea was for are told."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services
from serviceideas.ideas.models import Follower, Status
from serviceideas.notifications import services as notifications
from serviceideas.notifications.models import Category, Delivery, Notification
from serviceideas.people.models import Role, User
from tests.conftest import count_queries

# E-mail on, to a real SMTP server, for the test of preferences and digests.
from tests.notifications.conftest import app_settings, smtp  # noqa: F401
from tests.test_migrations import empty_database_url  # noqa: F401  # a fixture

HX = {"HX-Request": "true"}


def following(idea):
    """Who follows `idea` now, by id, and whether each follows automatically."""
    rows = db.session.execute(
        sa.select(Follower.user_id, Follower.automatic).where(
            Follower.idea_id == idea.id, Follower.unfollowed_at.is_(None)
        )
    )
    return {user_id: automatic for user_id, automatic in rows}


def told(user):
    return list(
        db.session.scalars(
            sa.select(Notification.title)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def follow_button(page):
    """The follow form's button: (its id, pressed, what pressing it sends)."""
    form = re.search(r'<form[^>]*/follow".*?</form>', page, flags=re.S).group(0)
    sends = re.search(r'name="follow" value="([01])"', form).group(1)
    button = re.search(r"<button[^>]*>", form).group(0)
    pressed = re.search(r'aria-pressed="(true|false)"', button).group(1) == "true"
    return re.search(r'id="([^"]+)"', button).group(1), pressed, sends


@pytest.fixture
def manager(make_user):
    return make_user(Role.MANAGER, name="Max Manager")


# Who follows


def test_the_author_voters_and_commenters_follow_automatically(make_idea, make_user):
    author, voter, commenter, bystander = (make_user() for _ in range(4))
    idea = make_idea(author=author)
    services.set_vote(voter, idea, True)
    services.add_comment(commenter, idea, "Yes, and at the counter too.")
    db.session.commit()
    assert following(idea) == {author.id: True, voter.id: True, commenter.id: True}
    assert bystander.id not in following(idea)
    services.set_vote(voter, idea, False)  # taking a vote back is not unfollowing
    db.session.commit()
    assert voter.id in following(idea)


def test_an_unfollow_sticks_when_they_comment_or_vote_again(make_idea, make_user):
    idea = make_idea()
    person = make_user()
    services.add_comment(person, idea, "First thought.")
    services.set_following(person, idea, False)
    services.add_comment(person, idea, "Second thought.")
    services.set_vote(person, idea, True)
    db.session.commit()
    assert person.id not in following(idea)
    services.set_following(person, idea, True)  # following again is their choice
    db.session.commit()
    assert following(idea)[person.id] is False


# The button


def test_anyone_follows_and_unfollows_from_the_idea_page_without_javascript(
    client_as, make_idea, make_user
):
    idea = make_idea()
    person = make_user()
    client = client_as(person)
    assert follow_button(client.get(f"/ideas/{idea.id}").get_data(as_text=True)) == (
        "follow-button",
        False,
        "1",
    )
    response = client.post(f"/ideas/{idea.id}/follow", data={"follow": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}#follow")
    assert following(idea)[person.id] is False
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert follow_button(page) == ("follow-button", True, "0")  # state kept on reload
    assert page.count('id="follow"') == 1 and page.count('id="follow-button"') == 1
    client.post(f"/ideas/{idea.id}/follow", data={"follow": "0"})
    assert person.id not in following(idea)
    page = client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    assert follow_button(page)[1:] == (False, "1")


def test_with_htmx_the_button_answers_with_itself_and_says_what_changed(
    client_as, make_idea, make_user
):
    idea = make_idea()
    person = make_user()
    client = client_as(person)
    response = client.post(f"/ideas/{idea.id}/follow", data={"follow": "1"}, headers=HX)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="follow"')
    assert follow_button(fragment) == ("follow-button", True, "0")
    assert "You follow this idea." in fragment
    again = client.post(f"/ideas/{idea.id}/follow", data={"follow": "1"}, headers=HX)
    assert again.status_code == 200 and following(idea)[person.id] is False  # harmless twice


def test_a_broken_follow_form_is_a_400_and_an_unknown_idea_a_404(client_as, make_idea, make_user):
    idea = make_idea()
    client = client_as(make_user())
    assert client.post(f"/ideas/{idea.id}/follow", data={"follow": "yes"}).status_code == 400
    assert client.post("/ideas/999999/follow", data={"follow": "1"}).status_code == 404
    assert client_as(None).post(f"/ideas/{idea.id}/follow", data={"follow": "1"}).status_code in (
        302,
        303,
        401,
    )


# What followers hear


def test_followers_hear_when_it_is_implemented_declined_or_merged_and_not_of_the_steps_between(
    make_idea, make_user, manager
):
    follower, unfollower = make_user(), make_user()
    kept, declined, merged, stays = make_idea(), make_idea(), make_idea(), make_idea()
    for idea in (kept, declined, merged):
        services.set_vote(follower, idea, True)
        services.set_vote(unfollower, idea, True)
        services.set_following(unfollower, idea, False)
    db.session.commit()
    today = utcnow().date()
    for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
        services.change_status(manager, kept, services.Decision(step))
    assert told(follower) == []  # the steps between are for the author
    services.change_status(
        manager,
        kept,
        services.Decision(
            Status.IMPLEMENTED, note="Callbacks within the hour.", implemented_on=today
        ),
    )
    services.change_status(manager, declined, services.Decision(Status.DECLINED, note="No budget."))
    services.change_status(manager, merged, services.Decision(Status.MERGED, merge_into=stays))
    db.session.commit()
    assert told(follower) == [
        f"Put into practice: “{kept.title}”, an idea you follow",
        f"Declined: “{declined.title}”, an idea you follow",
        f"Merged into idea #{stays.id}: “{merged.title}”, an idea you follow",
    ]
    assert told(unfollower) == []
    # The author is told once per step, in their own words, not also as a follower.
    assert told(kept.author)[-1] == f"Thank you: “{kept.title}” has been put into practice"
    assert len(told(kept.author)) == 4
    assert told(manager) == []  # whoever acted is not told of it


def test_merging_makes_followers_follow_the_idea_that_stays(make_idea, make_user, manager):
    stays, duplicate = make_idea(), make_idea()
    follower, unfollower = make_user(), make_user()
    services.set_following(follower, duplicate, True)
    services.set_following(unfollower, duplicate, True)
    services.set_following(unfollower, stays, False)
    services.change_status(manager, duplicate, services.Decision(Status.MERGED, merge_into=stays))
    db.session.commit()
    assert follower.id in following(stays) and duplicate.author.id in following(stays)
    assert unfollower.id not in following(stays)


def test_the_team_an_idea_was_for_hears_it_was_put_into_practice_once_each(
    make_idea, make_user, make_department, manager
):
    team = make_department("Billing")
    colleague, follower_in_team = make_user(department=team), make_user(department=team)
    gone = make_user(department=team, active=False)
    outsider = make_user()
    idea = make_idea(Status.IN_PROGRESS, beneficiary=team, reviewer=manager)
    services.set_following(follower_in_team, idea, True)
    db.session.commit()
    services.change_status(
        manager,
        idea,
        services.Decision(
            Status.IMPLEMENTED, note="Invoices explained.", implemented_on=utcnow().date()
        ),
    )
    db.session.commit()
    assert told(colleague) == [f"Put into practice for Billing: “{idea.title}”"]
    assert told(follower_in_team) == [f"Put into practice: “{idea.title}”, an idea you follow"]
    assert told(gone) == [] and told(outsider) == []


def test_an_idea_for_external_customers_tells_no_team(make_idea, make_user, manager):
    bystander = make_user()
    make_idea(Status.IMPLEMENTED, reviewer=manager)
    assert told(bystander) == []


def test_followers_are_told_in_a_fixed_number_of_statements(make_idea, make_user, manager):
    def decline_with(followers):
        idea = make_idea(Status.UNDER_REVIEW, reviewer=manager)
        for person in (make_user() for _ in range(followers)):
            services.set_following(person, idea, True)
        db.session.commit()
        with count_queries() as log:
            services.change_status(manager, idea, services.Decision(Status.DECLINED, note="No."))
            db.session.flush()
        db.session.commit()
        return log.count

    assert decline_with(1) == decline_with(8)


def test_followers_news_honours_their_preferences_and_daily_digest(
    app,
    smtp,  # noqa: F811  # the fixture imported above
    make_idea,
    make_user,
    manager,
):
    now_person, daily_person, off_person = (
        make_user(email=f"{n}@example.com") for n in ("now", "daily", "off")
    )
    notifications.set_preference(daily_person.id, Category.IDEAS, Delivery.DAILY)
    notifications.set_preference(off_person.id, Category.IDEAS, Delivery.OFF)
    idea = make_idea(Status.UNDER_REVIEW, reviewer=manager)
    for person in (now_person, daily_person, off_person):
        services.set_following(person, idea, True)
    services.change_status(manager, idea, services.Decision(Status.DECLINED, note="Not now."))
    db.session.commit()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["send-reminders"]).exit_code == 0
    assert [len(smtp.to(f"{n}@example.com")) for n in ("now", "daily", "off")] == [1, 0, 0]
    assert smtp.to("now@example.com")[0]["Subject"].startswith("Declined: ")
    db.session.execute(sa.update(Notification).values(created_at=utcnow() - timedelta(days=1)))
    db.session.commit()
    assert runner.invoke(args=["send-digests"]).exit_code == 0
    assert [len(smtp.to(f"{n}@example.com")) for n in ("now", "daily", "off")] == [1, 1, 0]
    assert len(told(off_person)) == 1  # still told in the app


def test_the_demo_company_has_followers_and_the_news_they_were_sent(demo_company):
    assert demo_company.exit_code == 0
    employee = db.session.scalar(sa.select(User).where(User.email == "employee@example.com"))
    by_hand = sa.select(sa.func.count()).where(
        Follower.user_id == employee.id, Follower.automatic.is_(False)
    )
    assert db.session.scalar(by_hand) >= 3
    news = sa.select(Notification.title).where(
        sa.or_(
            Notification.title.contains("an idea you follow"),
            Notification.title.startswith("Put into practice for "),
        )
    )
    titles = db.session.scalars(news).all()
    assert any("an idea you follow" in title for title in titles)
    assert any(title.startswith("Put into practice for ") for title in titles)


# The migration


def test_the_migration_makes_existing_authors_voters_and_commenters_follow_once_each(
    empty_database_url,  # noqa: F811  # the fixture imported above
):
    from flask_migrate import downgrade, upgrade

    from serviceideas import create_app
    from tests.conftest import settings_for_tests

    before, after = "0a2c96d5e3f7", "1b3da7e6f408"
    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade(revision=before)
        now, later = "2026-01-01 00:00:00+00:00", "2026-01-02 00:00:00+00:00"
        with db.engine.begin() as connection:

            def insert(statement, *rows):
                connection.execute(sa.text(statement), [dict(row) for row in rows])

            insert(
                "INSERT INTO departments (id, name, kind, created_at)"
                " VALUES (1, 'D', 'front_line', :now)",
                {"now": now},
            )
            insert(
                "INSERT INTO users (id, email, name, department_id, is_trainer, is_manager,"
                " is_admin, active, session_token, created_at, updated_at)"
                " VALUES (:id, :email, 'P', 1, false, false, false, true, :token, :now, :now)",
                *(
                    {"id": n, "email": f"p{n}@example.com", "token": f"t{n}", "now": now}
                    for n in (1, 2, 3, 4)
                ),
            )
            insert(
                "INSERT INTO ideas (id, title, problem, proposal, lens, author_id,"
                " author_department_id, status, vote_count, created_at, status_changed_at,"
                " version)"
                " VALUES (:id, 'T', 'P', 'Q', 'care', 1, 1, 'submitted', 0, :now, :now, 1)",
                *({"id": n, "now": now} for n in (1, 2)),
            )
            # Person 2 votes and comments twice on idea 1; person 3 only comments, on idea 2.
            insert(
                "INSERT INTO votes (idea_id, user_id, created_at) VALUES (1, 2, :now)",
                {"now": later},
            )
            insert(
                "INSERT INTO comments (id, idea_id, author_id, body, created_at)"
                " VALUES (:id, :idea, :author, 'C', :now)",
                {"id": 1, "idea": 1, "author": 2, "now": now},
                {"id": 2, "idea": 1, "author": 2, "now": later},
                {"id": 3, "idea": 2, "author": 3, "now": later},
            )
        upgrade(revision=after)
        with db.engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT idea_id, user_id, automatic, unfollowed_at FROM idea_followers"
                    " ORDER BY idea_id, user_id"
                )
            ).all()
        assert [tuple(row) for row in rows] == [
            (1, 1, True, None),
            (1, 2, True, None),
            (2, 1, True, None),
            (2, 3, True, None),
        ]
        downgrade(revision=before)
        assert "idea_followers" not in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()
