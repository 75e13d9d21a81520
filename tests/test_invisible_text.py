"""Text nobody can see is no text, and direction overrides do not reach names and titles.

A title made only of zero-width spaces looks empty on every page that lists it; a name
carrying a right-to-left override shows its letters, and whatever follows it, reversed
(SECURITY.md, "Invisible text").
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Idea, Lens
from serviceideas.people import services as people
from serviceideas.people.models import DepartmentKind, Role
from serviceideas.training import services as training

INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200b\u200b \u200b",
    "\u200c\u200d",  # zero-width non-joiner and joiner
    "\ufeff",  # byte order mark (zero-width no-break space)
    "\u00ad",  # soft hyphen
    "\u2060",  # word joiner
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # an empty left-to-right isolate
    " \u200e\u200f ",  # left-to-right and right-to-left marks
]
# Embeddings, overrides and isolates, and what a one-line field keeps of each.
DIRECTION_CONTROLS = [
    ("Ann \u202eevil\u202c Smith", "Ann evil Smith"),
    ("\u202dAnn Smith", "Ann Smith"),
    ("Ann \u202aSmith\u202c", "Ann Smith"),
    ("Ann \u202bSmith", "Ann Smith"),
    ("\u2066Ann\u2069 \u2067Smith\u2069 \u2068x\u2069", "Ann Smith x"),
    ("\u202e \u202e Ann", "Ann"),
]


def draft(**change: object) -> ideas.IdeaDraft:
    fields: dict[str, object] = {
        "title": "Call back customers who cancelled",
        "problem": "We never learn why they left.",
        "proposal": "Call five a month, just listen.",
        "lens": Lens.LEARN,
        "beneficiary": None,
    }
    return ideas.IdeaDraft(**{**fields, **change})  # type: ignore[arg-type]


def module_draft(**change: object) -> training.ModuleDraft:
    fields: dict[str, object] = {
        "title": "Listening to customers",
        "summary": "What a complaint teaches.",
        "body": "Read this.",
        "kind": training.ModuleKind.READING,
        "prompt": None,
        "minutes": 5,
    }
    return training.ModuleDraft(**{**fields, **change})  # type: ignore[arg-type]


# Text made only of format characters is empty


@pytest.mark.parametrize("invisible", INVISIBLE)
@pytest.mark.parametrize("field", ["title", "problem", "proposal"])
def test_an_idea_field_of_invisible_characters_is_empty(app, make_user, invisible, field):
    with pytest.raises(RuleViolation) as refused:
        ideas.submit_idea(make_user(), draft(**{field: invisible}))
    assert refused.value.field == field
    assert refused.value.message.startswith("Please fill in")


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_a_comment_of_invisible_characters_is_empty(app, make_user, make_idea, invisible):
    author = make_user()
    idea = make_idea(author=author)
    with pytest.raises(RuleViolation, match="Please fill in your comment"):
        ideas.add_comment(author, idea, invisible)
    comment = ideas.add_comment(author, idea, "Fine")
    with pytest.raises(RuleViolation, match="Please fill in your comment"):
        ideas.edit_comment(author, comment, invisible)


@pytest.mark.parametrize("invisible", INVISIBLE)
@pytest.mark.parametrize("field", ["title", "summary", "body"])
def test_a_module_field_of_invisible_characters_is_empty(app, make_user, invisible, field):
    trainer = make_user(Role.TRAINER)
    with pytest.raises(RuleViolation) as refused:
        training.create_module(trainer, module_draft(**{field: invisible}))
    assert refused.value.field == field


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_a_name_of_invisible_characters_is_empty(app, make_department, invisible):
    with pytest.raises(RuleViolation) as refused:
        people.create_user(email="ann@example.com", name=invisible, department=make_department())
    assert (refused.value.field, refused.value.message) == ("name", "Enter the person's name.")
    with pytest.raises(RuleViolation) as refused:
        people.create_department(invisible, DepartmentKind.FRONT_LINE)
    assert (refused.value.field, refused.value.message) == ("name", "Give the department a name.")


def test_renaming_a_person_or_department_to_invisible_characters_is_refused(
    app, make_user, make_department
):
    department = make_department("Stores")
    person = make_user(name="Ann Smith", department=department)
    with pytest.raises(RuleViolation, match="Enter the person's name"):
        people.update_user(person, name="\u200b", department=department, roles=())
    with pytest.raises(RuleViolation, match="Give the department a name"):
        people.update_department(department, "\ufeff\u200b", DepartmentKind.FRONT_LINE)
    db.session.rollback()
    assert (person.name, department.name) == ("Ann Smith", "Stores")


# Direction overrides are removed from one-line fields


@pytest.mark.parametrize(("typed", "kept"), DIRECTION_CONTROLS)
def test_direction_controls_are_removed_from_names(app, make_department, typed, kept):
    person = people.create_user(email="ann@example.com", name=typed, department=make_department())
    department = people.create_department(f"Team {typed}", DepartmentKind.BACK_OFFICE)
    assert (person.name, department.name) == (kept, f"Team {kept}")
    people.update_user(person, name=f"{typed} Jr", department=department, roles=())
    people.update_department(department, f"{typed} 2", DepartmentKind.FRONT_LINE)
    assert (person.name, department.name) == (f"{kept} Jr", f"{kept} 2")


@pytest.mark.parametrize(("typed", "kept"), DIRECTION_CONTROLS)
def test_direction_controls_are_removed_from_titles(app, make_user, typed, kept):
    idea = ideas.submit_idea(make_user(), draft(title=typed))
    module = training.create_module(make_user(Role.TRAINER), module_draft(title=typed))
    assert (idea.title, module.title) == (kept, kept)


def test_a_department_named_with_an_override_is_the_same_department(app):
    people.create_department("Stores", DepartmentKind.FRONT_LINE)
    with pytest.raises(RuleViolation, match="already a department called Stores"):
        people.create_department("\u202eStores", DepartmentKind.FRONT_LINE)


def test_the_staff_import_removes_direction_controls_from_names(app, make_department):
    from serviceideas.people.staff_import import import_staff

    make_department("Stores")
    import_staff("email,name,department,roles\nann@example.com,\u202eAnn Smith,Stores,\n")
    assert people.find_user("ann@example.com").name == "Ann Smith"  # type: ignore[union-attr]


# Visible text keeps its invisible helpers


@pytest.mark.parametrize(
    "title",
    [
        "Family days \U0001f468\u200d\U0001f469\u200d\U0001f467",  # a family: joined emoji
        "Rainbow flag \U0001f3f3\ufe0f\u200d\U0001f308 for the pride week",
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 better Persian",  # non-joiner in a word
        "\u05e9\u05dc\u05d5\u05dd!\u200f and hello",  # a right-to-left mark after punctuation
        "Zero\u200bwidth space between visible words",
    ],
)
def test_joiners_and_marks_inside_visible_text_are_kept(app, make_user, make_department, title):
    idea = ideas.submit_idea(make_user(), draft(title=title))
    person = people.create_user(email="ann@example.com", name=title, department=make_department())
    department = people.create_department(title, DepartmentKind.FRONT_LINE)
    assert (idea.title, person.name, department.name) == (title, title, title)


# Through the web form


def test_an_invisible_title_comes_back_beside_the_field_with_the_text_kept(client_as, make_user):
    data = {
        "title": "\u200b\u200b\u200b",
        "problem": "We never learn why they left.",
        "proposal": "Call five a month, just listen.",
        "lens": "learn",
        "beneficiary": "external",
    }
    client = client_as(make_user())
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post("/ideas/new", data=data, headers=headers)
        if not headers:  # without htmx: shown again at the form's own address (refusals.py)
            assert response.status_code == 303
            response = client.get(response.headers["Location"])
        else:
            assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert re.search(r'<small id="title-error"[^>]*>\s*Please fill in the title\.', page)
        assert 'value="\u200b\u200b\u200b"' in page  # nothing typed is lost
        assert "We never learn why they left." in page
        assert "Call five a month, just listen." in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Idea)) == 0
