"""One form, one record: the token a form that creates something carries, so that sending it
twice (a double click, a resent request on a slow connection) records it once.

Each rendered form gets a new random token in a hidden field; the service stores it with
what it creates, under a UNIQUE constraint, and a second request with the same token finds
the first record instead of making another (docs/product.md, "Votes and comments").
"""

from __future__ import annotations

import secrets

from wtforms import HiddenField
from wtforms.validators import Length, Optional

# Long enough for any token this app writes (22 characters) and for none much longer.
TOKEN_MAX = 64


def new_token() -> str:
    """A fresh token for one rendered form: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def token_field() -> HiddenField:
    """The hidden field that carries a form's token: a new one in each form built without
    the request's data (a page shown afresh), the sent one in a form shown again with its
    errors (still the same submission). A request without one (a script) gets a new one too,
    so it is simply not deduplicated."""
    return HiddenField(default=new_token, validators=[Optional(), Length(max=TOKEN_MAX)])
