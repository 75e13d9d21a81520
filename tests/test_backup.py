"""Export every row, restore into an empty database, and find the same data."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import upgrade

from serviceideas import create_app
from serviceideas.extensions import db
from tests.conftest import settings_for_tests
from tests.test_migrations import empty_database_url  # noqa: F401 - a fixture


def snapshot() -> dict[str, list[tuple]]:
    data = {}
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            data[table.name] = [
                tuple(row) for row in connection.execute(sa.select(table).order_by(*order))
            ]
    return data


def test_a_dump_restores_to_the_same_data(
    app,
    demo_company,
    tmp_path,
    empty_database_url,  # noqa: F811
):
    runner = app.test_cli_runner()
    assert demo_company.exit_code == 0
    dump = tmp_path / "backup.jsonl"
    result = runner.invoke(args=["export", str(dump)])
    assert result.exit_code == 0, result.output
    before = snapshot()
    assert sum(len(rows) for rows in before.values()) > 1000

    fresh = create_app(settings_for_tests(empty_database_url))
    with fresh.app_context():
        upgrade()
        result = fresh.test_cli_runner().invoke(args=["restore", str(dump)])
        assert result.exit_code == 0, result.output
        assert snapshot() == before
        again = fresh.test_cli_runner().invoke(args=["restore", str(dump)])
        assert again.exit_code == 1 and "not empty" in again.output
        # New rows take ids after the restored ones (PostgreSQL's sequences were moved on).
        new_person = ["new@example.com", "--name", "New", "--department", "IT"]
        added = fresh.test_cli_runner().invoke(
            args=["create-user", *new_person, "--password-stdin"], input="a long enough password\n"
        )
        assert added.exit_code == 0, added.output
        db.engine.dispose()


def test_restore_refuses_what_is_not_a_dump(app, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n')
    result = app.test_cli_runner().invoke(args=["restore", str(bad)])
    assert result.exit_code == 1 and "not a serviceideas dump" in result.output
