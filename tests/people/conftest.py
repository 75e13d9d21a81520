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


def refused(client, response):
    """A refused form is sent back to its own page, where it shows again with its errors and
    answers 422 (serviceideas/refusals.py): follow there and answer that page."""
    assert response.status_code == 303, response.status_code
    assert "refused=" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 422
    return page
