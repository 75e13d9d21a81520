"""Accessibility, checked by machines: axe-core in Chromium and the Nu HTML Checker.

axe-core runs its WCAG 2.x A and AA rules on the main pages of every role, in the light and in
the dark theme (the system's `prefers-color-scheme`), and again after the main htmx
interactions. The Nu HTML Checker (vnu.jar, Java) validates the same pages as the server sends
them, all in one run of the checker; htmx's `hx-*` attributes are the only errors allowed.

Both checkers are package.json's devDependencies, installed by `make test` (`make setup-dev`).
The checker needs Java: without it that test is skipped on a developer's machine, and fails in
CI (CI=true), where Java is always installed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import VOTABLE_STATUSES, Idea, Status
from serviceideas.people.models import Department, User
from serviceideas.training.models import Enrolment, Module
from tests.browser.conftest import LiveServer
from tests.browser.test_people_journeys import sign_in
from tests.conftest import (
    app_for,
    database_of_its_own,
    login_as,
    put_demo_company,
    settings_for_tests,
    xdist_worker,
)

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
COLOUR_RULES = ["color-contrast", "link-in-text-block"]
# Ids on more than one element (the Nu HTML Checker finds them too, where Java is installed).
DUPLICATE_IDS = """() => {
  const ids = [...document.querySelectorAll("[id]")].map((element) => element.id);
  return [...new Set(ids.filter((id, index) => ids.indexOf(id) !== index))];
}"""


def installed(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"{path.relative_to(ROOT)} is missing: run `make setup-dev` (npm ci)")
    return path


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe-core goes in as an inline script, which the app's Content-Security-Policy forbids.
    return {**browser_context_args, "bypass_csp": True}


@dataclass
class Demo:
    """The demo company served on a live server, and the main pages of each role."""

    app: Flask
    url: str
    pages: dict[str, list[str]]
    idea: str  # open for votes, someone else's, with a comment of the employee's


@pytest.fixture(scope="module")
def demo_company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo company, seeded once for this module on a database of its own: a SQLite file,
    or in the PostgreSQL run a database beside the run's (so that run checks the pages too).

    Seeding takes seconds; the tests here read pages, and their few writes (a vote, a comment,
    feedback) change nothing another test here looks for.
    """
    postgresql = os.environ.get("SERVICEIDEAS_TEST_DATABASE_URL")
    with contextlib.ExitStack() as stack:
        if postgresql:
            name = f"serviceideas_a11y_{xdist_worker() or 'main'}"
            url = stack.enter_context(database_of_its_own(postgresql, name))
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('accessibility') / 'demo.sqlite'}"
        yield from _served_demo(url, tmp_path_factory)


def _served_demo(url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    app = app_for(settings_for_tests(url, WTF_CSRF_ENABLED=True))
    with app.app_context():
        db.create_all()
        assert put_demo_company(tmp_path_factory).exit_code == 0
        pages, idea = main_pages()
        db.session.remove()
    with LiveServer(app) as server:
        yield Demo(app, server.url, pages, idea)
    with app.app_context():
        db.engine.dispose()


def main_pages() -> tuple[dict[str, list[str]], str]:
    """The main pages each of the demo's five sign-ins uses, by role, and the idea to act on."""
    by_email = {user.email: user for user in db.session.scalars(sa.select(User))}
    employee = by_email["employee@example.com"]
    open_idea = db.session.scalars(
        sa.select(Idea)
        .where(Idea.author_id != employee.id, Idea.status.in_(VOTABLE_STATUSES))
        .order_by(Idea.id)
    ).first()
    assert open_idea is not None
    comment = ideas.add_comment(employee, open_idea, "Counting on this one.")
    db.session.commit()
    idea = f"/ideas/{open_idea.id}"
    enrolment = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.user_id == employee.id).order_by(Enrolment.id)
    ).first()
    module = db.session.scalars(sa.select(Module).order_by(Module.id)).first()
    department = db.session.scalars(sa.select(Department).order_by(Department.id)).first()
    implemented = db.session.scalars(
        sa.select(Idea).where(Idea.status == Status.IMPLEMENTED).order_by(Idea.id)
    ).first()
    assert enrolment and module and department and implemented
    everyone = [
        "/",
        "/ideas",
        idea,
        f"/ideas/{implemented.id}",
        "/ideas/new",
        "/ideas/mine",
        "/dashboard",
        "/dashboard/people",
        "/dashboard/what-changed",
        "/leaderboard",
        "/training",
        "/notifications",
        "/notifications/settings",
        "/settings/language",
    ]
    pages = {
        "employee": [
            *everyone,
            f"/training/enrolments/{enrolment.id}",
            f"{idea}/comments/{comment.id}/edit",
        ],
        # The other roles' pages that look the same for everyone are checked as the employee's.
        "backoffice": ["/", "/ideas/mine", "/training"],
        "trainer": [
            "/",
            "/training/modules",
            f"/training/modules/{module.id}",
            "/training/modules/new",
            f"/training/modules/{module.id}/edit",
            f"/training/modules/{module.id}/assign",
            "/training/assignments",
            "/training/reflections",
            f"/training/coverage/departments/{department.id}",
            f"/training/coverage/modules/{module.id}",
        ],
        "manager": [
            "/",
            "/ideas/review",
            idea,
            "/ideas?stalled=1",
            "/ideas/owned",
            "/dashboard",
            "/training/coverage",
        ],
        "admin": [
            "/",
            "/admin/users",
            "/admin/users/new",
            f"/admin/users/{employee.id}",
            "/admin/departments",
            f"/admin/departments/{department.id}",
            "/admin/import",
            "/admin/role-changes",
            "/admin/stages",
        ],
        "signed out": ["/login", "/no-such-page"],
    }
    return pages, idea


def axe_violations(page: Page, where: str, rules: list[str] | None = None) -> list[str]:
    """axe-core's violations on the page as it is now: its WCAG A/AA rules, or only `rules`."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(installed(AXE)))
    only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": WCAG_TAGS}
    result = page.evaluate(
        "only => axe.run(document, {runOnly: only, resultTypes: ['violations']})", only
    )
    lines = [
        f"{where}: id {name!r} is on more than one element" for name in page.evaluate(DUPLICATE_IDS)
    ]
    for violation in result["violations"]:
        nodes = violation["nodes"]
        lines.append(f"{where}: {violation['id']} ({violation['help']}) on {len(nodes)} element(s)")
        lines += [
            f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1][:200]}"
            for node in nodes[:6]
        ]
    return lines


def both_themes(page: Page, where: str) -> list[str]:
    """axe-core in the light theme, then with the system preferring dark.

    The dark theme changes colours and nothing else, so only axe's colour rules run again.
    """
    # Pico fades colours when they change: without this the dark check could read a mid-fade.
    page.add_style_tag(content="*, *::before, *::after { transition: none !important; }")
    page.emulate_media(color_scheme="light")
    found = axe_violations(page, f"{where} (light)")
    page.emulate_media(color_scheme="dark")
    found += axe_violations(page, f"{where} (dark)", COLOUR_RULES)
    page.emulate_media(color_scheme="light")
    return found


def sign_in_as(page: Page, base: str, role: str) -> None:
    sign_in(page, base, f"{role}@example.com")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def visit_main_pages(page: Page, demo_company: Demo, role: str) -> list[str]:
    if role != "signed out":
        sign_in_as(page, demo_company.url, role)
    found = []
    for path in demo_company.pages[role]:
        page.goto(demo_company.url + path)
        found += both_themes(page, path)
    return found


# The employee's pages apart from their interactions below: the two are the module's longest
# checks, and pytest-xdist can run them side by side.
@pytest.mark.parametrize("role", ["employee", "backoffice", "manager", "admin"])
def test_axe_finds_no_violation_on_the_main_pages(
    page: Page, demo_company: Demo, role: str
) -> None:
    found = visit_main_pages(page, demo_company, role)
    assert not found, "\n".join(found)


def test_axe_finds_no_violation_after_an_employees_htmx_interactions(
    page: Page, demo_company: Demo
) -> None:
    sign_in_as(page, demo_company.url, "employee")
    found: list[str] = []
    page.goto(demo_company.url + "/leaderboard")
    expect(page.get_by_role("link", name=re.compile("CSV")).first).to_be_visible()
    for link in page.get_by_role("link", name=re.compile("CSV")).all():
        box = link.bounding_box()
        assert box and box["width"] >= 24 and box["height"] >= 24, f"CSV link {box}"

    page.goto(demo_company.url + "/ideas")
    shown = page.locator(".idea-card").count()
    page.get_by_text("Load more ideas").click()
    expect(page.locator(".idea-card")).not_to_have_count(shown)
    # The focus goes to the first idea loaded, not to the page's start.
    expect(page.locator(".idea-card").nth(shown)).to_be_focused()
    found += both_themes(page, "/ideas after Load more")

    idea = demo_company.idea
    page.goto(demo_company.url + idea)
    vote = page.locator("#vote").get_by_role("button")
    pressed = vote.get_attribute("aria-pressed")
    vote.click()
    expect(page.locator("#vote").get_by_role("button")).not_to_have_attribute(
        "aria-pressed", pressed or ""
    )
    expect(page.locator("#vote").get_by_role("button")).to_be_focused()
    found += both_themes(page, f"{idea} after voting")

    page.get_by_role("button", name="Post comment").click()  # empty: refused
    expect(page.locator("#comments .field-error")).to_be_visible()
    # The focus is on the field in error, which the message describes.
    expect(page.locator("#comments [aria-invalid='true']")).to_be_focused()
    found += both_themes(page, f"{idea} after a refused comment")

    page.get_by_label("Your comment").fill("Checked by axe, too.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator("#comments")).to_contain_text("Checked by axe, too.")
    found += both_themes(page, f"{idea} after a comment was posted")

    posted = page.locator("#comments .comment", has_text="Checked by axe, too.")
    small_targets = [
        f"{target} {box['width']:.0f}x{box['height']:.0f}"
        for target in ("Edit", "Delete", "Remove")
        for link in posted.get_by_role("link", name=target).all()
        + posted.get_by_role("button", name=target).all()
        if (box := link.bounding_box()) and (box["width"] < 24 or box["height"] < 24)
    ]
    assert not small_targets, f"targets smaller than 24 by 24 CSS px: {small_targets}"
    posted.get_by_role("link", name="Edit").click()
    # The box opened for editing has the focus.
    expect(posted.get_by_role("textbox")).to_be_focused()
    found += both_themes(page, f"{idea} with a comment open for editing")
    assert not found, "\n".join(found)


def test_axe_finds_no_violation_on_a_trainers_pages_and_after_feedback_is_sent(
    page: Page, demo_company: Demo
) -> None:
    found = visit_main_pages(page, demo_company, "trainer")
    page.goto(demo_company.url + "/training/reflections")
    reflection = page.locator("article.reflection").first
    reflection.get_by_role("textbox").fill("Thank you: a clear example of a go-away removed.")
    reflection.get_by_role("button", name=re.compile("feedback")).click()
    expect(page.locator("article.reflection").first).to_contain_text("Feedback given")
    # The focus stays with the answered reflection, and the page's live region says so.
    focus_in_reflection = "() => document.activeElement.closest('article.reflection') !== null"
    assert page.evaluate(focus_in_reflection)
    expect(page.locator("#announcer")).to_have_text("Feedback given")
    found += both_themes(page, "/training/reflections after feedback was sent")
    assert not found, "\n".join(found)


def test_axe_finds_no_violation_signed_out_and_after_a_refused_sign_in(
    page: Page, demo_company: Demo
) -> None:
    found = visit_main_pages(page, demo_company, "signed out")

    # The first Tab reaches a skip link, which takes the focus to the main content.
    page.goto(demo_company.url + "/no-such-page")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        assert skip.evaluate("e => getComputedStyle(e).outlineStyle") == "solid", scheme
        assert skip.evaluate("e => parseFloat(getComputedStyle(e).outlineWidth)") >= 2, scheme
    page.emulate_media(color_scheme="light")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.goto(demo_company.url + "/login")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".field-error").first).to_be_visible()
    # The focus is on the first field in error, which its message describes (read out with it).
    first_error = page.locator("main [aria-invalid='true']").first
    expect(first_error).to_be_focused()
    expect(first_error).to_have_accessible_description(
        page.locator(".field-error").first.inner_text()
    )
    found += both_themes(page, "/login after a refused sign-in")
    assert not found, "\n".join(found)


# The Nu HTML Checker


def java() -> str:
    path = shutil.which("java")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI: the Nu HTML Checker needs Java, and java is not installed")
        pytest.skip("the Nu HTML Checker needs Java (apt-get install -y default-jre-headless)")
    return path


def htmx_attribute(message: dict[str, Any]) -> bool:
    """The checker does not know htmx's attributes; they are the one error we accept."""
    return bool(re.match(r"Attribute “hx-[a-z:-]+” not allowed", message.get("message", "")))


def test_the_nu_html_checker_finds_no_error_on_the_main_pages(
    demo_company: Demo, tmp_path: Path
) -> None:
    command = [java(), "-jar", str(installed(VNU))]
    files: dict[str, str] = {}
    with demo_company.app.app_context():
        by_email = {user.email: user for user in db.session.scalars(sa.select(User))}
        for role, paths in demo_company.pages.items():
            client = demo_company.app.test_client()
            if role != "signed out":
                login_as(client, by_email[f"{role}@example.com"])
            for path in paths:
                response = client.get(path)
                assert response.mimetype == "text/html", path
                file = tmp_path / f"{len(files):02d}.html"
                file.write_bytes(response.data)
                files[file.name] = f"{role} {path}"
        db.session.remove()
    run = subprocess.run(
        [*command, "--errors-only", "--format", "json", "--exit-zero-always"]
        + [str(tmp_path / name) for name in sorted(files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    messages = json.loads(run.stderr)["messages"]
    errors = [
        f"{files.get(m.get('url', '').rsplit('/', 1)[-1], m.get('url'))} line {m.get('lastLine')}:"
        f" {m['message']} — {m.get('extract', '').strip()[:120]}"
        for m in messages
        if m.get("type") != "info" and not htmx_attribute(m)
    ]
    assert not errors, f"{len(errors)} error(s):\n" + "\n".join(errors)
