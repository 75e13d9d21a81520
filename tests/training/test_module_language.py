"""A module's language: a trainer says which it is written in (or not), and My training lists
modules in the reader's own language first (docs/product.md, "Modules")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import Role
from serviceideas.training.models import Module
from tests.conftest import count_queries

MODULE = {
    "title": "Call a customer who left",
    "summary": "Listen without a script.",
    "body": "Customers tell us why.",
    "kind": "reading",
    "minutes": "30",
}


@pytest.fixture
def trainer(make_user):
    return make_user(Role.TRAINER, name="Tara Trainer")


def test_a_trainer_says_which_language_a_module_is_in_and_it_shows(client_as, trainer):
    client = client_as(trainer)
    form = client.get("/training/modules/new").get_data(as_text=True)
    assert '<option value="">Not said</option>' in form
    assert '<option value="de">Deutsch</option>' in form
    assert '<option value="es">Español</option>' in form

    response = client.post("/training/modules/new", data={**MODULE, "language": "de"})
    assert response.status_code == 303
    module = db.session.scalar(sa.select(Module))
    assert module.language == "de"
    assert "Deutsch" in client.get(f"/training/modules/{module.id}").get_data(as_text=True)
    assert "Deutsch" in client.get("/training/modules").get_data(as_text=True)
    edit = client.get(f"/training/modules/{module.id}/edit").get_data(as_text=True)
    assert '<option value="de" selected>Deutsch</option>' in edit

    # "Not said" takes it back.
    response = client.post(
        f"/training/modules/{module.id}/edit",
        data={**MODULE, "language": "", "revision": str(module.revision)},
    )
    assert response.status_code == 303
    db.session.refresh(module)
    assert module.language is None
    assert "Deutsch" not in client.get("/training/modules").get_data(as_text=True)


def test_an_unknown_language_is_refused_beside_the_field_and_nothing_typed_is_lost(
    client_as, trainer
):
    client = client_as(trainer)
    response = client.post("/training/modules/new", data={**MODULE, "language": "xx"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/training/modules/new?refused=")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="language-error"' in page
    assert "Choose one of the languages listed." in page
    assert 'value="Call a customer who left"' in page and "Listen without a script." in page
    assert db.session.scalar(sa.select(sa.func.count(Module.id))) == 0


def _titles_in_order(page: str, titles: list[str]) -> list[str]:
    return sorted(titles, key=page.index)


@pytest.fixture
def learner_with_modules(make_user, make_module, make_enrolment):
    """A learner with four modules coming up (due in that order): in Spanish, in no said
    language, in German, in English; and two done, in English then German."""
    learner = make_user()
    for days, title, language in [
        (20, "Spanish one", "es"),
        (21, "Unsaid one", None),
        (22, "German one", "de"),
        (23, "English one", "en"),
    ]:
        module = make_module(title=title)
        module.language = language
        make_enrolment(learner=learner, module=module, due_days=days)
    for title, language in [("English done", "en"), ("German done", "de")]:
        module = make_module(title=title)
        module.language = language
        make_enrolment(learner=learner, module=module, answer="")  # done, in this order
    db.session.commit()
    return learner


COMING_UP = ["Spanish one", "Unsaid one", "German one", "English one"]


def test_my_training_lists_a_german_speakers_modules_in_german_first(
    client_as, learner_with_modules
):
    learner_with_modules.locale = "de"
    db.session.commit()
    page = client_as(learner_with_modules).get("/training").get_data(as_text=True)
    # Their language, then unsaid, then the others in their order (due dates).
    assert _titles_in_order(page, COMING_UP) == [
        "German one",
        "Unsaid one",
        "Spanish one",
        "English one",
    ]
    # Done: latest first, except that their language comes first.
    assert _titles_in_order(page, ["English done", "German done"]) == [
        "German done",
        "English done",
    ]


def test_my_training_lists_an_english_speakers_modules_in_english_first(
    client_as, learner_with_modules
):
    page = client_as(learner_with_modules).get("/training").get_data(as_text=True)
    assert _titles_in_order(page, COMING_UP) == [
        "English one",
        "Unsaid one",
        "Spanish one",
        "German one",
    ]
    assert _titles_in_order(page, ["English done", "German done"]) == [
        "English done",
        "German done",
    ]


def test_my_training_in_any_language_keeps_a_constant_number_of_queries(
    client_as, make_user, make_module, make_enrolment
):
    learner = make_user()
    learner.locale = "de"
    db.session.commit()

    def queries() -> int:
        with count_queries() as log:
            assert client_as(learner).get("/training").status_code == 200
        return log.count

    make_enrolment(learner=learner, module=make_module())
    few = queries()
    for language in ("de", "es", None, "en", "de"):
        module = make_module()
        module.language = language
        make_enrolment(learner=learner, module=module, answer="" if language else None)
    assert queries() == few
