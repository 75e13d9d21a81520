"""Real people in a real browser: each demo sign-in, and an admin importing staff."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from serviceideas.demo.people import DEMO_PASSWORD, seed_people
from serviceideas.extensions import db

pytestmark = pytest.mark.browser

ADMIN_LINKS = ("People", "Departments", "Journey stages", "Import staff")


@pytest.fixture
def demo_company(app):
    seed_people()
    db.session.commit()


def sign_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


# What each sign-in's navigation offers beyond what everyone has.
ROLE_LINKS = ("Review queue", "Modules", "Reflections", "Coverage", *ADMIN_LINKS)


@pytest.mark.parametrize(
    ("email", "roles", "links"),
    [
        ("employee@example.com", "Employee", set()),
        ("backoffice@example.com", "Employee", set()),
        ("trainer@example.com", "Employee · Trainer", {"Modules", "Reflections", "Coverage"}),
        ("manager@example.com", "Employee · Manager", {"Review queue", "Coverage"}),
        # Admins hold every power but reading reflections, which needs the trainer role.
        (
            "admin@example.com",
            "Employee · Admin",
            {"Review queue", "Modules", "Coverage", *ADMIN_LINKS},
        ),
    ],
)
def test_each_demo_sign_in_sees_navigation_for_their_roles(
    page: Page, live_server, demo_company, email, roles, links
):
    sign_in(page, live_server.url, email)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_label("Your roles")).to_have_text(roles)
    for everyone in ("Home", "Ideas", "My ideas", "My training"):
        expect(nav.get_by_role("link", name=everyone, exact=True)).to_be_visible()
    for name in ROLE_LINKS:
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_count(
            1 if name in links else 0
        )

    nav.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()


def test_a_wrong_password_is_explained_beside_the_field(page: Page, live_server, demo_company):
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Email").fill("employee@example.com")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That email and password do not match an account.")).to_be_visible()
    expect(page.get_by_label("Email")).to_have_value("employee@example.com")


def test_admin_imports_staff_from_a_csv_file(page: Page, live_server, demo_company, tmp_path):
    csv = tmp_path / "new-staff.csv"
    csv.write_text(
        "email,name,department,roles\n"
        "rosa.new@example.com,Rosa New,Logistics,\n"
        "sam.new@example.com,Sam New,Finance,trainer\n"
        "broken-row,,Nowhere,\n"
    )
    sign_in(page, live_server.url, "admin@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import staff").click()
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Preview").click()

    expect(
        page.get_by_role("heading", name="Preview — nothing has been changed yet")
    ).to_be_visible()
    report = page.locator("#import-report")
    expect(report).to_contain_text("2 created")
    expect(report).to_contain_text("No department called 'Nowhere'")

    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Import report")).to_be_visible()
    expect(page.locator("#import-report").get_by_role("status")).to_contain_text("Imported: 3 rows")

    page.get_by_role("link", name="People").click()
    page.get_by_label("Search name or email").fill("new@example.com")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="Rosa New")).to_be_visible()
    expect(page.get_by_role("link", name="Sam New")).to_be_visible()

    # The customer's journey (docs/product.md, "Journey stages and the compass").
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journey stages").click()
    for name, explanation in (("Paying", "Invoices and refunds."), ("Getting help", "They ask.")):
        page.get_by_label("Name").fill(name)
        page.get_by_label("Explanation").fill(explanation)
        page.get_by_role("button", name="Add stage").click()
    page.get_by_role("button", name="Move Getting help up").click()
    expect(page.locator("#stages tbody th")).to_have_text(["1. Getting help", "2. Paying"])
    page.get_by_label("Name").fill("paying")
    page.get_by_label("Explanation").fill("Again.")
    page.get_by_role("button", name="Add stage").click()
    expect(page.get_by_text("There is already a stage called Paying")).to_be_visible()
    expect(page.get_by_label("Explanation")).to_have_value("Again.")


def test_admin_deactivates_someone_who_then_cannot_sign_in(
    page: Page, live_server, demo_company, browser
):
    sign_in(page, live_server.url, "admin@example.com")
    page.goto(f"{live_server.url}/admin/users?q=employee%40example.com")
    page.get_by_role("link", name="Emma Employee").click()
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("Emma Employee is deactivated")).to_be_visible()

    other = browser.new_context().new_page()
    sign_in(other, live_server.url, "employee@example.com")
    expect(other.get_by_text("This account has been deactivated")).to_be_visible()
    other.context.close()


def test_admin_follows_a_large_import_in_the_background_then_imports_the_preview(
    page: Page, live_server, demo_company, tmp_path
):
    """More than one batch: the preview runs in the background, the page shows a progress
    bar and then the report; importing the previewed file needs no second upload."""
    from tests.people.test_import_jobs import LARGE, staff_csv, wait_for_imports

    csv = tmp_path / "company.csv"
    csv.write_text(staff_csv(LARGE, department="Logistics"))
    sign_in(page, live_server.url, "admin@example.com")
    page.goto(f"{live_server.url}/admin/import")
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Staff import preview")
    expect(page.get_by_role("progressbar")).to_be_attached()
    # htmx asks again every second until the report replaces the progress
    expect(page.get_by_role("heading", name="Preview — nothing has been changed")).to_be_visible(
        timeout=60_000
    )
    job = page.locator("#import-job")
    expect(job.get_by_role("status")).to_contain_text(f"{LARGE} created")

    page.get_by_role("button", name="Import this file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff import")
    expect(page.get_by_role("heading", name="Import report")).to_be_visible(timeout=60_000)
    expect(job.get_by_role("status")).to_contain_text(f"Imported: {LARGE} rows")
    wait_for_imports()

    page.get_by_role("link", name="Import staff").first.click()
    expect(page.get_by_role("heading", name="Recent large imports")).to_be_visible()
    expect(page.get_by_role("link", name="Import of company.csv")).to_be_visible()
