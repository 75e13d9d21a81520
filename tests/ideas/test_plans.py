"""The idea page reads through indexes, even where the database's statistics say an index
narrows nothing: `ideas.merged_into_id` is NULL for nearly every idea, so after ANALYZE SQLite
judged `EXISTS (SELECT * FROM ideas WHERE merged_into_id = ?)` cheaper as a scan of every idea
(350 ms at 100,000 ideas, the idea page at a quarter of its speed in `make bench`)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from serviceideas.extensions import db
from serviceideas.people.models import Role


def statements_of(client: Any, url: str) -> list[tuple[str, Any]]:
    """Every SELECT a GET of `url` runs, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


def full_scans_of_ideas(statements: list[tuple[str, Any]]) -> list[str]:
    """The statements whose plan reads the whole `ideas` table. On PostgreSQL sequential
    scans are made a last resort, so a scan that remains means no index could serve."""
    scans = []
    with db.engine.connect() as connection:
        postgresql = connection.dialect.name == "postgresql"
        if postgresql:
            connection.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            plan = connection.exec_driver_sql(
                ("EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN ") + statement, parameters
            ).all()
            text = "\n".join(str(row[0] if postgresql else row[3]) for row in plan)
            if ("Seq Scan on ideas" if postgresql else "SCAN ideas") in text:
                scans.append(f"{statement}\n{text}")
    return scans


def test_the_idea_page_reads_no_whole_table_of_ideas(make_idea, make_user, client_as):
    viewer = make_user(role=Role.MANAGER)
    ideas = [make_idea() for _ in range(30)]
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    statements = statements_of(client_as(viewer), f"/ideas/{ideas[0].id}")
    assert any("merged_into_id" in statement for statement, _ in statements)
    assert full_scans_of_ideas(statements) == []
