"""Report figures may be a little stale, by design: remembered for FIGURES_CACHE_SECONDS."""

from __future__ import annotations

import pytest

from serviceideas.ideas.models import Status
from serviceideas.people.models import Role
from tests.conftest import count_queries


@pytest.fixture
def app_settings():
    return {"FIGURES_CACHE_SECONDS": 60}


def test_the_dashboard_remembers_its_figures_for_a_while(client_as, make_user, make_idea, app):
    client = client_as(make_user(Role.MANAGER))
    make_idea(Status.IMPLEMENTED)
    with count_queries() as first:
        page = client.get("/dashboard").get_data(as_text=True)
    assert '<p class="big-number" id="headline-number">1</p>' in page
    assert "recomputed at most every 60 seconds" in page
    make_idea(Status.IMPLEMENTED)
    with count_queries() as second:
        page = client.get("/dashboard").get_data(as_text=True)
    assert second.count < first.count
    assert '<p class="big-number" id="headline-number">1</p>' in page  # not yet
    app.extensions["figures"]._cache.clear()  # as when the minute has passed
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<p class="big-number" id="headline-number">2</p>' in page


def test_what_a_person_changes_themselves_is_always_fresh(client_as, make_user, make_idea):
    author = make_user()
    client = client_as(author)
    client.get("/dashboard")
    make_idea(author=author, title="Brand new")
    assert "Brand new" in client.get("/ideas/mine").get_data(as_text=True)
