"""Text the API reads: no NUL and nothing that is not Unicode text (a lone surrogate, which JSON
can spell as "\\ud800" but no database can store) in any field, refused as 422 beside the field
(serviceideas/api/text.py)."""

from __future__ import annotations

import importlib
import pkgutil

import marshmallow as ma
import pytest

import serviceideas.api
from serviceideas.api.text import Text
from serviceideas.people.models import Role

SURROGATE = '"a\\ud800b"'
NUL = '"a\\u0000b"'


@pytest.mark.parametrize("text", [SURROGATE, NUL])
def test_text_that_cannot_be_stored_is_a_422_beside_its_field(api_as, make_user, make_idea, text):
    api = api_as(make_user(roles=(Role.ADMIN, Role.TRAINER)))
    idea, other = make_idea(), make_user()
    for method, path, body, field in [
        (
            "POST",
            "/ideas",
            '{"title":@,"problem":"p","proposal":"q","lens":"care",'
            '"beneficiary_department_id":null}',
            "title",
        ),
        ("POST", f"/ideas/{idea.id}/comments", '{"body":@}', "body"),
        ("PATCH", f"/people/{other.id}", '{"name":@}', "name"),
        ("POST", "/departments", '{"name":@,"kind":"front_line"}', "name"),
        (
            "POST",
            "/training/modules",
            '{"title":"t","summary":@,"body":"b","kind":"reading","minutes":5}',
            "summary",
        ),
    ]:
        body = body.replace("@", text)
        response = api.open(method, path, data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        assert response.content_type == "application/problem+json"
        assert list(response.get_json()["errors"]) == [field], path


def _schemas():
    for module in pkgutil.iter_modules(serviceideas.api.__path__):
        loaded = importlib.import_module(f"serviceideas.api.{module.name}")
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, ma.Schema) and value is not ma.Schema:
                yield value


def _string_fields(field, name):
    if isinstance(field, ma.fields.List):
        yield from _string_fields(field.inner, name + "[]")
    elif isinstance(field, ma.fields.String):
        yield name, field


def test_every_text_field_of_the_api_is_checked_text():
    """Every String field of every API schema is a Text (ProblemSchema only describes errors)."""
    plain = []
    for schema in _schemas():
        if schema.__name__ == "ProblemSchema":
            continue
        for name, field in schema().fields.items():
            for where, found in _string_fields(field, name):
                if not isinstance(found, Text):
                    plain.append(f"{schema.__name__}.{where}")
    assert plain == []
