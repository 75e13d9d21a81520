"""Forms shared by every feature."""

from typing import TYPE_CHECKING, Any

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import Field

# A choice of a select field, with its label (WTForms 3.3); types-WTForms does not know it yet.
from wtforms.fields import SelectChoice  # type: ignore[attr-defined]
from wtforms.meta import DefaultMeta

if TYPE_CHECKING:
    from _typeshed import SupportsItems

__all__ = ["EmptyForm", "Form", "SelectChoice", "stripped"]

# Field types whose inputs no label points at: rendered without an id, since a page that shows
# a form many times (the inbox's buttons, a trainer's feedback forms) would repeat it.
UNLABELLED = frozenset({"CSRFTokenField", "HiddenField", "SubmitField"})


def stripped(value: object) -> object:
    """A field filter: surrounding whitespace is not part of a choice (" 3" and "\r" are not
    ids); without it, Optional() lets whitespace through to the code that reads the value."""
    return value.strip() if isinstance(value, str) else value


class Form(FlaskForm):
    """The base of every form: a FlaskForm whose hidden inputs and buttons carry no id, so ids
    stay unique however many forms a page shows (a template may still pass id=...)."""

    class Meta(DefaultMeta):
        def render_field(self, field: Field, render_kw: "SupportsItems[str, Any]") -> Markup:
            if field.type in UNLABELLED:
                render_kw = {"id": False, **dict(render_kw.items())}
            return super().render_field(field, render_kw)


class EmptyForm(Form):
    """No fields: a plain POST button that still carries its CSRF token."""
