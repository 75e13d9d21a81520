"""Training through the API: my enrolments, answering and drafts, modules and assignments for
trainers, and reflections kept private to their authors."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.api.models import Scope
from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.training import services as training
from serviceideas.training.models import AnswerDraft, Assignment, Enrolment, Module, Reflection
from tests.api.conftest import API_ROOT
from tests.conftest import count_queries

SECRET = "I was short with a caller on Tuesday and I regret how I handled it, truly."


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER, name="Tara Trainer")


# My training


def test_my_enrolments_come_by_due_date_with_where_each_stands_in_pages(
    api_as, make_user, make_enrolment
):
    learner = make_user()
    today = utcnow().date()
    overdue = make_enrolment(learner=learner, today=today - timedelta(days=30))
    soon = make_enrolment(learner=learner, due_days=3)
    done = make_enrolment(learner=learner, due_days=40, answer="")
    make_enrolment()  # someone else's

    api = api_as(learner, scopes=(Scope.READ,))
    first = api.get("/training/enrolments?limit=2")
    assert first.status_code == 200
    body = first.get_json()
    assert [(e["id"], e["state"]) for e in body["items"]] == [
        (overdue.id, "overdue"),
        (soon.id, "due_soon"),
    ]
    assert body["items"][0]["module"]["title"] == overdue.assignment.module.title
    assert body["items"][0]["due_on"] == overdue.due_on.isoformat()
    following = body["links"]["next"]
    assert first.headers["Link"] == f'<{following}>; rel="next"'
    rest = api.get(following.removeprefix(API_ROOT)).get_json()
    assert [(e["id"], e["state"], e["late"]) for e in rest["items"]] == [(done.id, "done", False)]
    assert rest["links"]["next"] is None

    progress = api.get("/training/progress").get_json()
    assert progress == {
        "total": 3,
        "done": 1,
        "overdue": 1,
        "due_soon": 1,
        "later": 0,
        "percent_done": 33,
    }


def test_a_broken_page_link_is_refused(api_as, make_user):
    response = api_as(make_user()).get("/training/enrolments?after=bm9uc2Vuc2U")
    assert response.status_code == 422
    assert "after" in response.get_json()["errors"]


def test_my_enrolments_keep_a_constant_number_of_queries(
    api_as, make_user, make_enrolment, make_module
):
    learner = make_user()
    api = api_as(learner)

    def queries():
        with count_queries() as log:
            assert api.get("/training/enrolments").status_code == 200
        return log.count

    make_enrolment(learner=learner, module=make_module("reflection"), answer="z" * 60)
    queries()  # the token's first use is stamped on it: not part of the list
    few = queries()
    for _ in range(4):
        make_enrolment(learner=learner, module=make_module("reflection"), answer="z" * 60)
        make_enrolment(learner=learner)
    assert queries() == few


def test_without_a_token_nothing_is_answered(api_as, make_enrolment):
    enrolment = make_enrolment()
    api = api_as(None)
    for method, path in [
        ("GET", "/training/enrolments"),
        ("GET", f"/training/enrolments/{enrolment.id}"),
        ("POST", f"/training/enrolments/{enrolment.id}/completion"),
        ("GET", "/training/modules"),
        ("POST", f"/training/modules/{enrolment.assignment.module_id}/assignments"),
    ]:
        response = api.open(method, path, json={})
        assert response.status_code == 401, path
        assert response.content_type == "application/problem+json"


def test_a_learner_reads_their_enrolment_with_their_answer_and_the_feedback(
    api_as, make_enrolment, trainer
):
    enrolment = make_enrolment("reflection", answer=SECRET)
    reflection = db.session.get(Reflection, enrolment.id)
    training.give_feedback(trainer, reflection, "Thank you for writing this.")
    db.session.commit()

    response = api_as(enrolment.user, scopes=(Scope.READ,)).get(
        f"/training/enrolments/{enrolment.id}"
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "done"
    assert body["module"]["prompt"] == "What did you notice?"
    assert body["reflection"]["text"] == SECRET
    assert body["reflection"]["feedback"] == "Thank you for writing this."
    assert body["reflection"]["feedback_by"] == "Tara Trainer"
    assert body["draft"] is None and body["changes"] is None


def test_nobody_but_the_author_gets_a_reflections_text(api_as, make_user, make_enrolment, trainer):
    """Not a trainer, a manager or an admin, with every scope, through any endpoint."""
    enrolment = make_enrolment("reflection", answer=SECRET, module=None)
    module_id = enrolment.assignment.module_id
    others = [trainer, make_user(Role.MANAGER), make_user(Role.ADMIN), make_user()]
    for person in others:
        api = api_as(person)
        mine = api.get(f"/training/enrolments/{enrolment.id}")
        assert mine.status_code == 403
        assert SECRET not in mine.get_data(as_text=True)
        for path in [
            "/training/enrolments",
            "/training/modules",
            f"/training/modules/{module_id}",
            f"/training/modules/{module_id}/assignments",
        ]:
            assert SECRET not in api.get(path).get_data(as_text=True)


def test_an_unknown_enrolment_or_module_is_404(api_as, trainer):
    api = api_as(trainer)
    for path in ["/training/enrolments/999999", "/training/modules/999999"]:
        response = api.get(path)
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"
    assert api.post("/training/enrolments/999999/completion", json={}).status_code == 404


def test_completing_a_reading_then_again_is_a_conflict(api_as, make_enrolment):
    enrolment = make_enrolment("reading")
    api = api_as(enrolment.user)
    response = api.post(f"/training/enrolments/{enrolment.id}/completion", json={})
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "done"
    assert response.get_json()["enrolment"]["state"] == "done"
    again = api.post(f"/training/enrolments/{enrolment.id}/completion", json={})
    assert again.status_code == 409


def test_a_short_answer_is_refused_beside_it_and_nothing_is_stored(api_as, make_enrolment):
    enrolment = make_enrolment("reflection")
    api = api_as(enrolment.user)
    path = f"/training/enrolments/{enrolment.id}/completion"
    short = api.post(path, json={"answer": "Too short."})
    assert short.status_code == 422
    assert "at least 50 characters" in short.get_json()["errors"]["answer"][0]
    bad = api.post(path, json={"answer": 12, "module_version": "one", "extra": 1})
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]) == {"answer", "module_version", "extra"}
    db.session.refresh(enrolment)
    assert enrolment.completed_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reflection)) == 0

    done = api.post(path, json={"answer": SECRET, "module_version": 1})
    assert done.status_code == 200
    assert done.get_json()["enrolment"]["reflection"]["text"] == SECRET
    assert db.session.get(Reflection, enrolment.id).text == SECRET


def test_a_read_only_token_or_someone_else_cannot_complete(api_as, make_user, make_enrolment):
    enrolment = make_enrolment("reading")
    path = f"/training/enrolments/{enrolment.id}/completion"
    assert api_as(enrolment.user, scopes=(Scope.READ,)).post(path, json={}).status_code == 403
    assert api_as(make_user(Role.ADMIN)).post(path, json={}).status_code == 403
    db.session.refresh(enrolment)
    assert enrolment.completed_at is None


def test_a_draft_is_kept_for_its_author_and_given_back(api_as, make_enrolment):
    enrolment = make_enrolment("reflection")
    api = api_as(enrolment.user)
    path = f"/training/enrolments/{enrolment.id}/draft"
    assert api.put(path, json={"answer": "   "}).status_code == 422
    saved = api.put(path, json={"answer": "Half of what I think.", "module_version": 1})
    assert saved.status_code == 200
    assert saved.get_json()["text"] == "Half of what I think."
    shown = api.get(f"/training/enrolments/{enrolment.id}").get_json()
    assert shown["draft"]["text"] == "Half of what I think."
    assert shown["reflection"] is None


def test_an_answer_sent_after_a_withdrawal_is_kept_as_a_draft(api_as, make_enrolment, trainer):
    enrolment = make_enrolment("reflection")
    training.withdraw(trainer, enrolment.assignment)
    db.session.commit()
    response = api_as(enrolment.user).post(
        f"/training/enrolments/{enrolment.id}/completion", json={"answer": SECRET}
    )
    assert response.status_code == 200
    assert response.get_json()["outcome"] == "kept_as_draft"
    assert response.get_json()["enrolment"]["state"] == "withdrawn"
    assert db.session.get(AnswerDraft, enrolment.id).text == SECRET


# Trainers: modules and assignments


def test_a_trainer_lists_modules_in_pages_and_reads_one(api_as, make_module, trainer):
    published = [make_module(author=trainer) for _ in range(3)]
    draft = make_module("reflection", publish=False, author=trainer)
    api = api_as(trainer, scopes=(Scope.READ,))
    first = api.get("/training/modules?limit=2").get_json()
    assert [m["id"] for m in first["items"]] == [m.id for m in published[:2]]
    rest = api.get(first["links"]["next"].removeprefix(API_ROOT)).get_json()
    assert [m["id"] for m in rest["items"]] == [published[2].id, draft.id]
    drafts = api.get("/training/modules?status=draft").get_json()["items"]
    assert [(m["id"], m["status"], m["published_at"]) for m in drafts] == [
        (draft.id, "draft", None)
    ]
    assert api.get("/training/modules?status=lost").status_code == 422
    assert api.get("/training/modules?stauts=draft").status_code == 422
    one = api.get(f"/training/modules/{draft.id}").get_json()
    assert one["prompt"] == "What did you notice?"
    assert one["author"] == "Tara Trainer"


def test_modules_keep_a_constant_number_of_queries(api_as, make_module, make_enrolment, trainer):
    api = api_as(trainer)

    def queries():
        with count_queries() as log:
            assert api.get("/training/modules").status_code == 200
        return log.count

    make_enrolment(module=make_module())
    queries()  # the token's first use is stamped on it: not part of the list
    few = queries()
    for _ in range(4):
        make_enrolment(module=make_module())
    make_module(publish=False)
    assert queries() == few


def test_an_employee_or_a_manager_may_not_see_modules_or_assign(api_as, make_user, make_module):
    module = make_module()
    for person in [make_user(), make_user(Role.MANAGER)]:
        api = api_as(person)
        assert api.get("/training/modules").status_code == 403
        assert api.get(f"/training/modules/{module.id}").status_code == 403
        assert api.get(f"/training/modules/{module.id}/assignments").status_code == 403
        response = api.post(
            f"/training/modules/{module.id}/assignments",
            json={"audience": "everyone", "due_days": 7},
        )
        assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_a_trainer_assigns_a_module_to_people_by_email(api_as, make_user, make_module, trainer):
    module = make_module(author=trainer)
    learners = [make_user(), make_user()]
    api = api_as(trainer)
    path = f"/training/modules/{module.id}/assignments"
    request = {
        "audience": "people",
        "people": [learners[0].email.upper(), learners[1].email],
        "due_days": 10,
        "submission_token": "sent-once",
    }
    response = api.post(path, json=request)
    assert response.status_code == 201
    made = response.get_json()
    assert made["audience"] == "people" and made["enrolled"] == 2 and made["completed"] == 0
    assert sorted(p["id"] for p in made["people"]) == sorted(p.id for p in learners)
    again = api.post(path, json=request)
    assert again.status_code == 201 and again.get_json()["id"] == made["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 2
    listed = api.get(path).get_json()
    assert [a["id"] for a in listed["items"]] == [made["id"]]
    assert listed["links"]["next"] is None


@pytest.mark.parametrize(
    ("request_body", "field", "message"),
    [
        ({"due_days": 7}, "audience", "Choose who this is for."),
        (
            {"audience": "people", "people": ["nobody@example.com"], "due_days": 7},
            "people",
            "Nobody has these email addresses: nobody@example.com.",
        ),
        (
            {"audience": "departments", "departments": [999999], "due_days": 7},
            "departments",
            "No department has these ids: 999999.",
        ),
        (
            {"audience": "departments", "due_days": 7},
            "departments",
            "Choose at least one department.",
        ),
        ({"audience": "everyone"}, "due_days", "Give either a due date or a number of days."),
        (
            {"audience": "everyone", "due_on": "2001-01-01"},
            "due_on",
            "The due date has passed: choose today or later.",
        ),
        ({"audience": "everyone", "due_days": 400}, "due_days", "Give between 1 and 365 days."),
        ({"audience": "everyone", "due_days": 7, "repeat": "yearly"}, "repeat", "Must be one of"),
    ],
)
def test_a_refused_assignment_says_why_beside_the_field_and_stores_nothing(
    api_as, make_user, make_module, trainer, request_body, field, message
):
    make_user()
    module = make_module(author=trainer)
    response = api_as(trainer).post(f"/training/modules/{module.id}/assignments", json=request_body)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert message in response.get_json()["errors"][field][0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Assignment)) == 0


def test_only_a_published_module_is_assigned(api_as, make_module, trainer):
    draft = make_module(publish=False, author=trainer)
    response = api_as(trainer).post(
        f"/training/modules/{draft.id}/assignments", json={"audience": "everyone", "due_days": 7}
    )
    assert response.status_code == 422
    assert "Publish it first" in response.get_json()["detail"]


def test_unknown_people_matter_only_when_the_assignment_is_for_people(
    api_as, make_user, make_module, trainer
):
    """As on the assign page: the people box is read only for an audience of people."""
    make_user()
    module = make_module(author=trainer)
    response = api_as(trainer).post(
        f"/training/modules/{module.id}/assignments",
        json={"audience": "everyone", "people": ["nobody@example.com"], "due_days": 7},
    )
    assert response.status_code == 201
    assert response.get_json()["people"] == []
    assert response.get_json()["enrolled"] == 2  # everyone: the trainer too


def test_a_nul_character_in_any_text_is_refused_beside_it(api_as, make_enrolment, trainer):
    """PostgreSQL cannot store it, and JSON bodies do not pass the pages' check at the door."""
    enrolment = make_enrolment("reflection")
    api = api_as(enrolment.user)
    for method, path in [("POST", "completion"), ("PUT", "draft")]:
        response = api.open(
            method, f"/training/enrolments/{enrolment.id}/{path}", json={"answer": SECRET + "\x00"}
        )
        assert response.status_code == 422
        assert "errors" in response.get_json() and "answer" in response.get_json()["errors"]
    assigned = api_as(trainer).post(
        f"/training/modules/{enrolment.assignment.module_id}/assignments",
        json={
            "audience": "people",
            "people": ["a\x00@example.com"],
            "due_days": 7,
            "submission_token": "\x00",
        },
    )
    assert assigned.status_code == 422
    assert set(assigned.get_json()["errors"]) == {"people", "submission_token"}
    db.session.refresh(enrolment)
    assert enrolment.completed_at is None
    assert db.session.get(AnswerDraft, enrolment.id) is None


# Trainers: writing modules


NEW_MODULE = {
    "title": "Call a customer who left",
    "summary": "Listen without a script.",
    "body": "## Why\n\nCustomers tell us **why**.",
    "kind": "activity",
    "prompt": "What did you hear?",
    "minutes": 30,
}


def test_a_trainer_writes_publishes_edits_and_archives_a_module(api_as, trainer):
    api = api_as(trainer)
    made = api.post("/training/modules", json=NEW_MODULE)
    assert made.status_code == 201
    module = made.get_json()
    assert (module["status"], module["version"], module["author"]) == ("draft", 1, "Tara Trainer")
    path = f"/training/modules/{module['id']}"
    assert made.headers["Location"] == API_ROOT + path

    published = api.post(f"{path}/publication")
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    assert api.post(f"{path}/publication").status_code == 409

    revision = published.get_json()["revision"]
    edited = api.patch(path, json={"revision": revision, "body": "Customers tell us why."})
    assert edited.status_code == 200
    assert edited.get_json()["version"] == 2 and edited.get_json()["title"] == NEW_MODULE["title"]
    stale = api.patch(path, json={"revision": revision, "body": "Overwritten unseen."})
    assert stale.status_code == 409
    assert "revision" in stale.get_json()["errors"]
    assert api.get(path).get_json()["body"] == "Customers tell us why."

    assert api.post(f"{path}/archival").get_json()["status"] == "archived"
    assert api.post(f"{path}/archival").status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"prompt": None}, "prompt"),
        ({"minutes": 0}, "minutes"),
        ({"kind": "lecture"}, "kind"),
        ({"body": "b" * 20_001}, "body"),
    ],
)
def test_a_refused_module_says_why_beside_the_field_and_stores_nothing(
    api_as, trainer, change, field
):
    response = api_as(trainer).post("/training/modules", json={**NEW_MODULE, **change})
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Module)) == 0


def test_a_module_s_language_is_one_the_app_speaks_or_none(api_as, trainer):
    api = api_as(trainer)
    made = api.post("/training/modules", json={**NEW_MODULE, "language": "de"})
    assert made.status_code == 201 and made.get_json()["language"] == "de"
    path = f"/training/modules/{made.get_json()['id']}"
    revision = made.get_json()["revision"]
    unknown = api.patch(path, json={"revision": revision, "language": "xx"})
    assert unknown.status_code == 422 and "language" in unknown.get_json()["errors"]
    unsaid = api.patch(path, json={"revision": revision, "language": None})
    assert unsaid.status_code == 200 and unsaid.get_json()["language"] is None
    assert api.get("/training/modules").get_json()["items"][0]["language"] is None
    left_out = api.post("/training/modules", json={**NEW_MODULE, "title": "Another"})
    assert left_out.status_code == 201 and left_out.get_json()["language"] is None
    refused = api.post("/training/modules", json={**NEW_MODULE, "language": "klingon"})
    assert refused.status_code == 422 and "language" in refused.get_json()["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Module)) == 2


def test_only_trainers_write_modules(api_as, make_user, make_module):
    module = make_module(publish=False)
    for person in [make_user(), make_user(Role.MANAGER)]:
        api = api_as(person)
        assert api.post("/training/modules", json=NEW_MODULE).status_code == 403
        assert api.post(f"/training/modules/{module.id}/publication").status_code == 403
        changed = api.patch(f"/training/modules/{module.id}", json={"revision": 1, "title": "X"})
        assert changed.status_code == 403
    db.session.refresh(module)
    assert module.status.value == "draft" and module.title != "X"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Module)) == 1


def test_a_trainer_withdraws_an_assignment_and_completed_work_stays(
    api_as, make_user, make_enrolment, trainer
):
    done = make_enrolment(answer="")
    assignment_id = done.assignment_id
    path = f"/training/assignments/{assignment_id}/withdrawal"
    assert api_as(make_user()).post(path).status_code == 403
    response = api_as(trainer).post(path)
    assert response.status_code == 200
    assert response.get_json()["withdrawn_at"] is not None
    assert response.get_json()["completed"] == 1
    assert api_as(trainer).post(path).status_code == 409
    assert api_as(trainer).post("/training/assignments/999999/withdrawal").status_code == 404
    listed = api_as(done.user).get("/training/enrolments").get_json()["items"]
    assert [(e["id"], e["state"]) for e in listed] == [(done.id, "done")]
