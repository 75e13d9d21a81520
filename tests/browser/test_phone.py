"""On a phone (375 CSS px wide; in English, German and Spanish): no page scrolls sideways, wide
tables scroll inside a container a keyboard can reach, the dashboard's chart stays readable and
/ideas shows ideas first.

The demo company, plus the long names real staff have, fills the tables as in real use.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Lens, Status
from serviceideas.people import services as people
from serviceideas.people.models import Department, DepartmentKind, User
from serviceideas.training.models import Enrolment, Module
from tests.browser.conftest import LiveServer
from tests.browser.test_people_journeys import sign_in
from tests.conftest import (
    app_for,
    database_of_its_own,
    put_demo_company,
    settings_for_tests,
    xdist_worker,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}

LONG_DEPARTMENT = "Customer Experience and Complaints Resolution (North-West Region)"
LONG_NAME = "Maximiliana Konstantinopoulou-Wojciechowska"
LONG_EMAIL = "maximiliana.konstantinopoulou-wojciechowska@example.com"
LONG_TITLE = "Offer a same-day callback to every customer whose parcel is delayed by two days"
# People paste addresses: one long "word" must wrap, not widen the page.
LONG_LINK = "https://intranet.example.com/customer-service/processes/callbacks/delayed-parcels-2026"


@dataclass
class Company:
    url: str  # the live server's
    ids: dict[str, int]  # for the pages' URLs


@pytest.fixture(scope="module")
def busy_company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    """The busy company, seeded once for this module (seeding takes seconds, and the tests
    here only read pages) on a database of its own: a SQLite file, or in the PostgreSQL run a
    database beside the run's. Served on a live server."""
    postgresql = os.environ.get("SERVICEIDEAS_TEST_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if postgresql:
            name = f"serviceideas_phone_{xdist_worker() or 'main'}"
            url = stack.enter_context(database_of_its_own(postgresql, name))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('phone') / 'busy.sqlite'}"
        app = app_for(settings_for_tests(url, WTF_CSRF_ENABLED=True))
        with app.app_context():
            db.create_all()
            ids = seed_busy_company(tmp_path_factory)
            db.session.remove()
        with LiveServer(app) as server:
            yield Company(server.url, ids)
        with app.app_context():
            db.engine.dispose()


def seed_busy_company(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """The demo company, with a long department name and a long-named person whose long-titled
    idea was put into practice today and another awaits review. Returns ids for the URLs."""
    assert put_demo_company(tmp_path_factory).exit_code == 0
    sign_ins = {person.email: person for person in db.session.scalars(sa.select(User))}
    department = people.create_department(LONG_DEPARTMENT, DepartmentKind.FRONT_LINE)
    person = people.create_user(email=LONG_EMAIL, name=LONG_NAME, department=department)
    manager = sign_ins["manager@example.com"]
    done = ideas.submit_idea(
        person, ideas.IdeaDraft(LONG_TITLE, "They wait.", "Call them.", Lens.CARE, department)
    )
    for step in (Status.UNDER_REVIEW, Status.APPROVED, Status.IN_PROGRESS):
        ideas.change_status(manager, done, ideas.Decision(step))
    ideas.change_status(
        manager,
        done,
        ideas.Decision(Status.IMPLEMENTED, note="Kept.", implemented_on=utcnow().date()),
    )
    waiting = ideas.submit_idea(
        person,
        ideas.IdeaDraft(f"{LONG_TITLE}, again", f"See {LONG_LINK}", "Again.", Lens.CARE, None),
    )
    ideas.change_status(manager, waiting, ideas.Decision(Status.UNDER_REVIEW))
    ideas.add_comment(person, waiting, f"The process is at {LONG_LINK}.")
    agreed = ideas.add_comment(sign_ins["employee@example.com"], done, f"Agreed: {LONG_LINK}")
    db.session.commit()
    emma = sign_ins["employee@example.com"]
    return {
        "done": done.id,
        "waiting": waiting.id,
        "person": person.id,
        "comment": agreed.id,
        "department": department.id,
        "module": db.session.scalars(sa.select(Module.id)).first() or 0,
        "enrolment": db.session.scalars(
            sa.select(Enrolment.id).where(Enrolment.user_id == emma.id)
        ).first()
        or 0,
        "any_idea": db.session.scalars(sa.select(Idea.id)).first() or 0,
        "any_department": db.session.scalars(sa.select(Department.id)).first() or 0,
        "any_user": db.session.scalars(sa.select(User.id)).first() or 0,
    }


EVERYONE = [
    "/",
    "/ideas",
    "/ideas/{done}",
    "/ideas/{waiting}",
    "/ideas/new",
    "/ideas/mine",
    "/dashboard",
    "/leaderboard",
    "/training",
    "/notifications",
    "/notifications/settings",
    "/settings/language",
]

PAGES = {
    "employee@example.com": [
        *EVERYONE,
        "/training/enrolments/{enrolment}",
        "/ideas/{done}/comments/{comment}/edit",
    ],
    "backoffice@example.com": EVERYONE,
    "trainer@example.com": [
        *EVERYONE,
        "/training/modules",
        "/training/modules/new",
        "/training/modules/{module}",
        "/training/modules/{module}/edit",
        "/training/modules/{module}/assign",
        "/training/assignments",
        "/training/reflections",
        "/training/coverage",
        "/training/coverage/departments/{any_department}",
    ],
    "manager@example.com": [
        *EVERYONE,
        "/ideas/review",
        "/dashboard/people",
        "/training/coverage",
        "/training/coverage/departments/{department}",
    ],
    "admin@example.com": [
        *EVERYONE,
        "/ideas/review",
        "/dashboard/people",
        "/admin/users",
        "/admin/users/new",
        "/admin/users/{person}",
        "/admin/departments",
        "/admin/departments/{department}",
        "/admin/import",
        "/admin/role-changes",
        "/admin/scim/tokens",
        "/admin/scim/requests",
        "/training/modules",
        "/training/assignments",
        "/training/coverage",
    ],
}

# Some sign-ins read their pages in another language, whose long words ("Verzeichnissynchro-
# nisierung") and long labels ("Puestas en práctica") are what overflows in real use: the
# browser asks for it (these people chose no language of their own).
LANGUAGE = {"manager@example.com": "es", "admin@example.com": "de"}

# What overflows a 375 px viewport: the document itself, any element sticking out of it that no
# scroll container holds, and any scroll container that overflows but a keyboard cannot reach
# (no tabindex="0", role="region" and a name).
FIND_OVERFLOW = """
async () => {
  // After a form's redirect, the new page's text can show before its style sheets are applied:
  // measure the page as laid out with them.
  if (document.readyState !== 'complete') {
    await new Promise((loaded) => window.addEventListener('load', loaded, {once: true}));
  }
  const width = document.documentElement.clientWidth;
  const problems = [];
  const describe = (el) => {
    const classes = typeof el.className === 'string' ? el.className.trim().split(/\\s+/) : [];
    const name = [el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), ...classes].join('.');
    return name + ' "' + (el.textContent || '').trim().slice(0, 40) + '"';
  };
  if (document.documentElement.scrollWidth > width) {
    problems.push('page is ' + document.documentElement.scrollWidth + ' px wide');
  }
  const scrolls = (el) => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX);
  };
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const control = ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);  // scroll their own text
    const scrollable = ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    if (!control && scrollable && el.scrollWidth > el.clientWidth + 1 && el !== document.body) {
      const name = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (el.getAttribute('tabindex') !== '0' || el.getAttribute('role') !== 'region' || !name) {
        problems.push('scrolls but a keyboard cannot reach it: ' + describe(el));
      }
    }
    if (box.right <= width + 1 && box.left >= -1) continue;
    let parent = el.parentElement;
    let held = false;
    while (parent && parent !== document.body) {
      if (scrolls(parent)) { held = true; break; }
      parent = parent.parentElement;
    }
    if (!held) {
      const where = Math.round(box.left) + '..' + Math.round(box.right);
      problems.push('sticks out (' + where + '): ' + describe(el));
    }
  }
  return problems;
}
"""


@pytest.mark.parametrize("email", list(PAGES))
def test_no_page_scrolls_sideways_on_a_phone(page: Page, busy_company: Company, email: str) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, busy_company.url, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    page.set_extra_http_headers({"Accept-Language": LANGUAGE.get(email, "en")})
    found: dict[str, list[str]] = {}
    for path in PAGES[email]:
        url = path.format(**busy_company.ids)
        response = page.goto(busy_company.url + url)
        assert response is not None
        problems = page.evaluate(FIND_OVERFLOW) if response.ok else [f"{response.status}"]
        if problems:
            found[url] = problems[:5]
    assert not found, "\n".join(f"{url}: {problems}" for url, problems in found.items())


def test_the_sign_in_page_fits_a_phone(page: Page, busy_company: Company) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{busy_company.url}/login")
    assert page.evaluate(FIND_OVERFLOW) == []


def test_a_wide_table_scrolls_by_keyboard_on_a_phone(page: Page, busy_company: Company) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, busy_company.url, "admin@example.com")
    page.goto(f"{busy_company.url}/admin/users")
    region = page.get_by_role("region", name="People").first
    expect(region).to_be_visible()
    region.focus()
    expect(region).to_be_focused()
    before = region.evaluate("el => el.scrollLeft")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # the browser may scroll smoothly: wait for it to have moved, rather than read at once
    page.wait_for_function(
        "([el, before]) => el.scrollLeft > before", arg=[region.element_handle(), before]
    )


def test_the_dashboard_chart_is_readable_on_a_phone(page: Page, busy_company: Company) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, busy_company.url, "manager@example.com")
    page.goto(f"{busy_company.url}/dashboard")
    chart = page.get_by_role("img", name="Ideas put into practice per month")
    expect(chart).to_be_visible()
    labels = chart.locator("text")
    assert labels.count() > 0
    heights = labels.evaluate_all("els => els.map(el => el.getBoundingClientRect().height)")
    sizes = labels.evaluate_all(
        """els => els.map(el => {
          const svg = el.ownerSVGElement;
          const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
          return parseFloat(getComputedStyle(el).fontSize) * scale;
        })"""
    )
    assert min(sizes) >= 12, sizes
    assert min(heights) >= 12, heights


def test_ideas_come_before_the_filters_on_a_phone(page: Page, busy_company: Company) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, busy_company.url, "employee@example.com")
    page.goto(f"{busy_company.url}/ideas")
    first = page.locator(".idea-card").first
    box = first.bounding_box()
    assert box is not None and box["y"] < PHONE["height"], box
    filters = page.locator("summary", has_text="Filters")
    expect(filters).to_be_visible()
    expect(page.get_by_label("Status")).to_be_hidden()
    # Opened by keyboard, the filters work; an active filter is counted on the control.
    filters.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Status")).to_be_visible()
    page.get_by_label("Status").select_option(label="Implemented")
    page.get_by_role("button", name="Show ideas").click()
    expect(page.locator("summary", has_text="Filters (1)")).to_be_visible()


def test_the_filters_stay_open_on_a_wide_screen(page: Page, busy_company: Company) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, busy_company.url, "employee@example.com")
    page.goto(f"{busy_company.url}/ideas")
    expect(page.get_by_label("Status")).to_be_visible()


def test_the_review_panel_fits_a_phone_whatever_step_is_chosen(
    page: Page, busy_company: Company
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, busy_company.url, "manager@example.com")
    page.goto(f"{busy_company.url}/ideas/{busy_company.ids['waiting']}")
    move_to = page.get_by_label("Move to")
    steps = move_to.evaluate("select => [...select.options].map(o => o.value).filter(Boolean)")
    assert steps
    for step in steps:
        move_to.select_option(step)  # the fields that step needs appear
        assert page.evaluate(FIND_OVERFLOW) == [], step
