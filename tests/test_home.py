"""The front page: recent ideas put into practice, in a fixed number of queries."""

from __future__ import annotations

from serviceideas.ideas.models import Status
from tests.conftest import count_queries


def test_home_shows_what_was_recently_put_into_practice(client_as, make_user, make_idea):
    make_idea(Status.IMPLEMENTED, title="Texts before delivery")
    make_idea(title="Still only an idea")
    client = client_as(make_user(name="Nora Lind"))
    with count_queries() as queries:
        page = client.get("/").get_data(as_text=True)
    assert "Hello, Nora" in page
    assert "Texts before delivery" in page and "Done, and it worked." in page
    assert "Still only an idea" not in page
    few = queries.count
    for n in range(8):
        make_idea(Status.IMPLEMENTED, title=f"Another {n}")
    with count_queries() as queries:
        client.get("/")
    assert queries.count == few


def test_home_without_implemented_ideas_invites_the_first(client_as, make_user):
    page = client_as(make_user()).get("/").get_data(as_text=True)
    assert "yours could be the first" in page
