"""Fixtures for the admin pages' tests: an admin, signed in."""

import pytest

from serviceideas.people.models import Role


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Ada Admin")


@pytest.fixture
def as_admin(client_as, admin):
    return client_as(admin)


def text(response):
    return response.get_data(as_text=True)
