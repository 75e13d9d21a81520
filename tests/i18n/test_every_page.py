"""Every text on the main pages of each role went through the catalogue.

Each role's pages are rendered, as that role, in the pseudo-language (tests/i18n/pseudo.py),
over a company whose written content is Cyrillic (tests/i18n/company.py): any Latin text left
outside ⟦ ⟧ is interface text that was never marked for translation. One test per role
collects every page's leftovers and fails once, naming each page and what it left.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from serviceideas.extensions import db
from serviceideas.people import import_jobs
from serviceideas.people.models import User
from tests.i18n import company, pseudo


@dataclass
class Leftovers:
    """English found per page; `check` renders one page and keeps what it left."""

    client: FlaskClient
    content: list[str] = field(default_factory=lambda: list(company.UNTRANSLATED))
    found: dict[str, list[str]] = field(default_factory=dict)

    def check(self, url: str, *, data: dict[str, Any] | None = None, status: int = 200) -> str:
        name = url if data is None else f"POST {url}"
        try:
            if data is None:
                response = self.client.get(url)
            else:
                # A refused form is sent back to its own address (?refused=…) with its reasons,
                # which answers 422 (serviceideas/refusals.py).
                response = self.client.post(url, data=data, follow_redirects=True)
        except Exception as error:  # the testing app raises what would be a 500
            self.found[name] = [f"raised {error!r}"]
            return ""
        html = response.get_data(as_text=True)
        if response.status_code != status:
            self.found[name] = [f"status {response.status_code}, expected {status}"]
        elif left := pseudo.untranslated(html, self.content):
            self.found[name] = left
        return html

    def assert_none(self) -> None:
        report = "\n".join(
            f"{page}:\n" + "\n".join(f"    {text!r}" for text in texts)
            for page, texts in self.found.items()
        )
        assert not self.found, f"English outside the catalogue:\n{report}"


@pytest.fixture
def firm(app: Any) -> company.Company:
    return company.build()


@pytest.fixture
def pages_as(pseudo_as: Callable[[User | None], FlaskClient]) -> Callable[..., Leftovers]:
    def make(user: User | None) -> Leftovers:
        return Leftovers(pseudo_as(user))

    return make


def test_an_employees_pages(firm: company.Company, pages_as: Callable[..., Leftovers]) -> None:
    pages = pages_as(firm.employee)
    for url in [
        "/",
        "/ideas",
        "/ideas?status=in_progress",
        "/ideas/new",
        f"/ideas/{firm.idea.id}",
        f"/ideas/{firm.implemented.id}",
        "/ideas/mine",
        "/notifications",
        "/notifications/settings",
        "/training",
        f"/training/enrolments/{firm.enrolment.id}",
        f"/training/enrolments/{firm.open_enrolment.id}",
        "/settings/language",
        "/settings/tokens",
        f"/ideas/{firm.idea.id}/comments/{firm.comment_id}/edit",
        # Parts of pages htmx fetches as the person types or as time passes.
        "/ideas/similar?title=Перезванивать",
        "/notifications/bell",
    ]:
        pages.check(url)
    pages.check("/admin/users", status=403)
    # A form sent back with its mistakes: the reasons beside the fields are translated too.
    pages.check("/ideas/new", data={"title": "", "problem": "", "proposal": ""}, status=422)
    pages.check(f"/ideas/{firm.idea.id}/comments", data={"body": ""}, status=422)
    pages.assert_none()


def test_an_owners_pages(firm: company.Company, pages_as: Callable[..., Leftovers]) -> None:
    pages = pages_as(firm.colleague)
    for url in ["/ideas/owned", f"/ideas/{firm.idea.id}", "/training"]:
        pages.check(url)
    pages.assert_none()


def test_a_trainers_pages(firm: company.Company, pages_as: Callable[..., Leftovers]) -> None:
    pages = pages_as(firm.trainer)
    for url in [
        "/training/modules",
        "/training/modules/new",
        f"/training/modules/{firm.reading.id}",
        f"/training/modules/{firm.reflection.id}/edit",
        f"/training/modules/{firm.draft.id}",
        f"/training/modules/{firm.reading.id}/assign",
        "/training/assignments",
        f"/training/assignments/{firm.assignment_id}/withdraw",
        "/training/reflections",
        "/training/reflections?show=all",
        "/training/coverage",
        f"/training/coverage/departments/{firm.sales.id}",
        f"/training/coverage/modules/{firm.reading.id}",
    ]:
        pages.check(url)
    pages.check("/training/modules/new", data={"title": "", "kind": "reflection"}, status=422)
    pages.assert_none()


def test_a_managers_pages(firm: company.Company, pages_as: Callable[..., Leftovers]) -> None:
    pages = pages_as(firm.manager)
    for url in [
        f"/ideas/{firm.idea.id}",  # with the review panel
        f"/ideas/{firm.stalled.id}",
        "/ideas/review",
        "/ideas?status=submitted",
        "/dashboard",
        "/dashboard?period=year",
        "/dashboard/people",
        "/dashboard/what-changed",
        "/leaderboard",
        f"/ideas/{firm.stalled.id}/owner/matches?owner=Бор",
        f"/ideas/{firm.stalled.id}/merge/matches?merge_into=Перезв",
        "/ideas?q=Пере&lens=care",
    ]:
        pages.check(url)
    # A period the dashboard cannot read is refused, saying why.
    pages.check("/dashboard?period=custom&start=2026-13-01&end=x", status=400)
    pages.assert_none()


def test_an_admins_pages(
    app: Flask, firm: company.Company, pages_as: Callable[..., Leftovers]
) -> None:
    pages = pages_as(firm.admin)
    for url in [
        "/admin/users",
        "/admin/users?status=all",
        "/admin/users/new",
        f"/admin/users/{firm.employee.id}",
        "/admin/departments",
        f"/admin/departments/{firm.sales.id}",
        "/admin/import",
        "/admin/role-changes",
        "/admin/stages",
        f"/admin/stages/{firm.stage_id}",
        "/admin/webhooks",
        f"/admin/webhooks/{firm.endpoint_id}",
        f"/admin/webhooks/{firm.endpoint_id}/edit",
        "/admin/scim/tokens",
        "/admin/scim/requests",
        f"/admin/scim/tokens/{firm.scim_token_id}/revoke",
    ]:
        pages.check(url)
    # A large staff file's import, run in the background: its page shows its report.
    job = import_jobs.start(
        "email,name,department,roles\nсломано,Ж,Нет такого отдела,\n",
        file_name="сотрудники.csv",
        acting=firm.admin,
        applies=False,
    )
    db.session.commit()
    import_jobs.run(app, job.id)
    pages.check(f"/admin/import/{job.id}")
    pages.check(f"/admin/webhooks/{firm.endpoint_id}/secret")
    pages.check(f"/admin/webhooks/{firm.endpoint_id}/delete")
    pages.check(f"/admin/users/{firm.employee.id}/password-link", data={})
    # A staff file previewed (small files are read in the request), one line of it wrong:
    # the file's own lines, shown beside their outcome, are content.
    lines = [
        "email,name,department,roles",
        "new@example.com,Елена Новикова,Отдел продаж,",
        "сломано,Ж,Нет такого отдела,",
    ]
    pages.content += lines
    pages.check("/admin/import", data={"text": "\n".join(lines), "preview": "x"})
    pages.check("/admin/departments", data={"name": "", "kind": ""}, status=422)
    pages.assert_none()


def test_pages_signed_out(firm: company.Company, pages_as: Callable[..., Leftovers]) -> None:
    pages = pages_as(None)
    pages.check("/login")
    pages.check("/login", data={"email": "anna@example.com", "password": "не тот"}, status=422)
    pages.check("/no-such-page", status=404)
    pages.check("/password/not-a-token", status=404)
    pages.check(f"/unsubscribe/{firm.unsubscribe_token}")
    pages.assert_none()
