"""A person's name never holds NUL or another control character, whoever brings it: the forms
refuse NUL at the door (serviceideas/security.py), and people.services.check_name drops them
for every other way in (the company's provider, its directory), so PostgreSQL, which cannot
store NUL, never sees one and no page shows an invisible bell or escape."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.people import services
from serviceideas.people.models import RoleChangeSource, User


def test_a_name_with_control_characters_is_kept_without_them(app, make_department):
    person = services.create_user(
        email="nia@example.com",
        name="Nia\x00 New\x1b\x07ton\x0b",
        department=make_department(),
        source=RoleChangeSource.IDENTITY_PROVIDER,
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.name).where(User.id == person.id)) == "Nia Newton"

    with pytest.raises(RuleViolation, match="Enter the person's name"):
        services.check_name("\x00\x07")
