"""Script-injection payloads in every text field a person can fill are shown as text.

Each payload goes into idea fields, comments, people's and departments' names, module
fields and Markdown, reflections, feedback and a CSV import; every page that shows them must
carry them escaped (or, for Markdown, cleaned), never as markup.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Status
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.people.staff_import import import_staff
from serviceideas.training import services as training
from serviceideas.training.models import Audience, Reflection


class Elements(HTMLParser):
    """What the browser would build from a page that could run or hide a payload."""

    def __init__(self) -> None:
        super().__init__()
        self.dangerous: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"iframe", "style", "object", "embed"}:  # our own SVG icons are fine
            self.dangerous.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.dangerous.append(f"{tag} {name}={value}")
        self.in_script = tag == "script"

    def handle_data(self, data: str) -> None:
        if self.in_script and "pwned" in data:
            self.dangerous.append("script")

    def handle_endtag(self, tag: str) -> None:
        self.in_script = False

    @classmethod
    def found_in(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        return parser.dangerous


PAYLOADS = [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    "<svg onload=window.pwned=1>",
    '"><script>window.pwned=1</script>',
    "'><img src=x onerror=window.pwned=1>",
    '<a href="javascript:window.pwned=1">click</a>',
    "<scr<script>ipt>window.pwned=1</scr</script>ipt>",
    "\u202e<iframe src=javascript:window.pwned=1>",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_text_is_never_markup(
    client_as, make_user, make_department, make_idea, make_module, payload
):
    department = make_department(f"Team {payload}"[:80], DepartmentKind.BACK_OFFICE)
    author = make_user(name=f"Name {payload}"[:120], department=department)
    admin = make_user(Role.ADMIN, roles=(Role.TRAINER, Role.MANAGER))
    idea = make_idea(
        author=author,
        title=payload[:120],
        problem=f"Problem {payload}",
        proposal=f"Proposal {payload}",
    )
    ideas.add_comment(author, idea, f"Comment {payload}")
    ideas.change_status(admin, idea, ideas.Decision(Status.DECLINED, note=f"Reason {payload}"))
    module = training.create_module(
        admin,
        training.ModuleDraft(
            title=payload[:120],
            summary=f"Summary {payload}",
            body=f"Body {payload}\n\n[link](javascript:window.pwned=1)",
            kind=training.ModuleKind.REFLECTION,
            prompt=f"Prompt {payload}",
            minutes=5,
        ),
    )
    training.publish(admin, module)
    assignment = training.create_assignment(
        admin, module, training.AssignmentDraft(Audience.PEOPLE, people=[author], due_days=5)
    )
    enrolment = db.session.scalars(
        db.select(training.Enrolment).where(training.Enrolment.assignment_id == assignment.id)
    ).one()
    training.complete(author, enrolment, f"Reflection long enough to count. {payload}")
    training.give_feedback(admin, db.session.get(Reflection, enrolment.id), f"Feedback {payload}")
    name, team = payload.replace(",", " ")[:100], department.name.replace(",", " ")
    import_staff(f"email,name,department,roles\nhostile@example.com,{name},{team},\n")
    db.session.commit()

    pages = {
        "admin": [
            "/ideas",
            f"/ideas/{idea.id}",
            "/ideas?status=declined",
            "/admin/users?status=all",
            "/admin/departments",
            f"/training/modules/{module.id}",
            "/training/modules",
            "/training/reflections?show=all",
            "/training/coverage",
            f"/training/coverage/departments/{department.id}",
            "/dashboard",
            "/leaderboard",
            "/training/assignments",
        ],
        "author": [
            f"/training/enrolments/{enrolment.id}",
            "/training",
            "/notifications",
            "/ideas/mine",
            "/",
        ],
    }
    for who, urls in pages.items():
        client = client_as(admin if who == "admin" else author)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            assert payload not in html, f"{url} shows the payload as markup"
            assert Elements.found_in(html) == [], url
