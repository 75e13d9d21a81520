"""The committed migrations build exactly the schema the models describe (`flask db check`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from serviceideas import create_app
from serviceideas.extensions import db
from serviceideas.ideas.search import outside_the_models
from tests.conftest import settings_for_tests


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    """A brand-new empty database of the same kind as the test database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    name = f"migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.engine.make_url(database_url).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def test_upgrade_builds_the_models_schema_with_nothing_pending(empty_database_url):
    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            # As migrations/env.py does: the search objects are outside the models.
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": outside_the_models}
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == [], "models changed without a migration: run `flask db migrate`"


def test_downgrade_to_nothing_and_back_up_again(empty_database_url):
    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert "users" in sa.inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_training_migration_goes_down_and_up_over_a_companys_data(empty_database_url):
    """e0a74f3b1c85 copies `modules` and `assignments` on SQLite: with foreign keys on, the copy
    was refused (assignments RESTRICT modules) and would have cascaded to every enrolment.
    Over the benchmark's small company, down past it and up again keeps every row, and the
    whole chain goes down to nothing with data in it."""
    import random

    from bench.seed import _fill

    app = create_app(settings_for_tests(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            _fill(connection, db.metadata.tables, 20, 30, random.Random(1))

        def rows() -> dict[str, int]:
            with db.engine.connect() as connection:
                return {
                    table: connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: S608
                    for table in ("modules", "assignments", "enrolments", "ideas", "votes")
                }

        before = rows()
        assert before["enrolments"] > 0
        downgrade(revision="d9f63e2a0b74")
        assert rows() == before
        upgrade()
        assert rows() == before
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        db.engine.dispose()


def test_the_history_reads_without_a_database_and_has_one_head():
    """`flask db heads` and `flask db history` load every migration file outside a migration,
    where alembic's `op` does not exist yet: no file may use it at import time."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from serviceideas import ROOT

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    scripts = ScriptDirectory.from_config(config)
    assert len(scripts.get_heads()) == 1
    assert len(list(scripts.walk_revisions())) >= 18
