"""The migration that replaced each notification's stored address with what it leads to
reads the addresses the code used to write back into kinds, and writes them out again on
the way down."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from serviceideas import create_app
from serviceideas.extensions import db
from tests.conftest import settings_for_tests
from tests.test_migrations import empty_database_url  # noqa: F401  (a fixture)

BEFORE = "d2fc17dd44e8"  # notifications still store their link
AFTER = "fe150a1ec0db"
NOW = "2026-01-01 00:00:00+00:00"

# stored link → (target, target_id) after the upgrade → link after the downgrade
LINKS = {
    "/ideas/1#history": ("idea", 1, "/ideas/1#history"),
    "/ideas/1": ("idea", 1, "/ideas/1#history"),
    "/ideas/1#comment-1": ("comment", 1, "/ideas/1#comment-1"),
    "/ideas/1#comment-99": ("comment", 99, "/notifications"),  # no such comment
    "/training/enrolments/45": ("enrolment", 45, "/training/enrolments/45"),
    "/ideas/review": ("review_queue", None, "/ideas/review"),
    "/training/reflections": ("reflections", None, "/training/reflections"),
    "/ideas": ("notifications", None, "/notifications"),
    "//evil.example": ("notifications", None, "/notifications"),
    "https://evil.example/ideas/1": ("notifications", None, "/notifications"),
    "/ideas/99999999999#history": ("notifications", None, "/notifications"),  # not an id
}


def fill_the_old_schema() -> None:
    statements = [
        "INSERT INTO departments (id, name, kind, created_at) VALUES (1, 'D', 'front_line', :now)",
        "INSERT INTO users (id, email, name, department_id, is_trainer, is_manager, is_admin,"
        " active, session_token, created_at, updated_at)"
        " VALUES (1, 'a@example.com', 'A', 1, false, false, false, true, 't', :now, :now)",
        "INSERT INTO ideas (id, title, problem, proposal, lens, author_id, author_department_id,"
        " status, vote_count, created_at, status_changed_at, version)"
        " VALUES (1, 'T', 'P', 'Q', 'care', 1, 1, 'submitted', 0, :now, :now, 1)",
        "INSERT INTO comments (id, idea_id, author_id, body, created_at)"
        " VALUES (1, 1, 1, 'C', :now)",
    ]
    with db.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement), {"now": NOW})
        for n, link in enumerate(LINKS, start=1):
            connection.execute(
                sa.text(
                    "INSERT INTO notifications (id, user_id, category, key, title, body, link,"
                    " created_at) VALUES (:id, 1, 'ideas', :key, 'T', '', :link, :now)"
                ),
                {"id": n, "key": f"k{n}", "link": link, "now": NOW},
            )


def rows(columns: str) -> list[tuple[object, ...]]:
    with db.engine.connect() as connection:
        query = f"SELECT {columns} FROM notifications ORDER BY id"  # noqa: S608  (ours)
        return [tuple(row) for row in connection.execute(sa.text(query))]


def test_stored_links_become_kinds_of_target_and_back(empty_database_url):  # noqa: F811
    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade(revision=BEFORE)
        fill_the_old_schema()
        upgrade(revision=AFTER)
        assert rows("target, target_id") == [(t, i) for t, i, _ in LINKS.values()]
        downgrade(revision=BEFORE)
        assert rows("link") == [(link,) for _, _, link in LINKS.values()]
        db.engine.dispose()
