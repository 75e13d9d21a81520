"""Hostile text in a real browser: no payload runs on any page that shows it.

Every payload would set `window.pwned` if it ran; the browser is asked afterwards.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from serviceideas.demo.people import seed_people
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, Status
from serviceideas.people.models import User
from serviceideas.training import services as training
from serviceideas.training.models import Audience, Enrolment, ModuleKind, Reflection
from tests.browser.test_people_journeys import sign_in
from tests.test_hostile_text import PAYLOADS

pytestmark = pytest.mark.browser


@pytest.fixture(params=[True, False], ids=["with-csp", "escaping-alone"])
def app_settings(request):
    """With the Content-Security-Policy, and without it — so that escaping alone is what
    keeps every payload from running."""
    return {"WTF_CSRF_ENABLED": True, "CONTENT_SECURITY_POLICY": request.param}


@pytest.fixture
def hostile_company(app):
    seed_people()
    admin = db.session.scalar(sa.select(User).where(User.email == "admin@example.com"))
    admin.is_trainer = admin.is_manager = True  # sees every page, reflections included
    emma = db.session.scalar(sa.select(User).where(User.email == "employee@example.com"))
    emma.department.name = "Team " + PAYLOADS[1][:60]
    all_text = " ".join(PAYLOADS)
    emma.name = "Emma " + PAYLOADS[2]
    idea = ideas.submit_idea(
        emma, ideas.IdeaDraft(PAYLOADS[0][:120], all_text, all_text, Lens.CARE, None)
    )
    for payload in PAYLOADS:
        ideas.add_comment(emma, idea, payload)
    ideas.change_status(admin, idea, ideas.Decision(Status.DECLINED, note=all_text))
    module = training.create_module(
        admin,
        training.ModuleDraft(
            PAYLOADS[3][:120], all_text[:300], all_text, ModuleKind.REFLECTION, all_text[:1000], 5
        ),
    )
    training.publish(admin, module)
    assignment = training.create_assignment(
        admin, module, training.AssignmentDraft(Audience.PEOPLE, people=[emma], due_days=3)
    )
    enrolment = db.session.scalar(
        sa.select(Enrolment).where(Enrolment.assignment_id == assignment.id)
    )
    training.complete(emma, enrolment, all_text)
    training.give_feedback(admin, db.session.get(Reflection, enrolment.id), all_text)
    db.session.commit()
    return {
        "idea": idea.id,
        "module": module.id,
        "enrolment": enrolment.id,
        "department": emma.department_id,
    }


def visit_all(page: Page, base: str, paths: list[str]) -> None:
    for path in paths:
        page.goto(base + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.pwned") == "undefined", path


def test_no_payload_runs_anywhere(page: Page, live_server, hostile_company, browser):
    base, ids = live_server.url, hostile_company
    sign_in(page, base, "admin@example.com")
    visit_all(
        page,
        base,
        [
            "/ideas",
            f"/ideas/{ids['idea']}",
            "/ideas?status=declined",
            "/admin/users?status=all",
            "/admin/departments",
            f"/training/modules/{ids['module']}",
            "/training/reflections?show=all",
            "/training/coverage",
            f"/training/coverage/departments/{ids['department']}",
            "/dashboard",
            "/leaderboard",
        ],
    )
    learner = browser.new_context().new_page()
    sign_in(learner, base, "employee@example.com")
    visit_all(
        learner,
        base,
        [
            "/",
            "/training",
            f"/training/enrolments/{ids['enrolment']}",
            "/notifications",
            "/ideas/mine",
        ],
    )
    learner.context.close()
