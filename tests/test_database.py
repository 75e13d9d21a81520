"""What the database's refusals mean: services turn only the ones they expect into refusals a
person reads (a name already taken, a step someone else already took), on both databases."""

import time

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from serviceideas.database import violates_check, violates_unique
from serviceideas.extensions import db
from serviceideas.people.models import Department, DepartmentKind


def refusal(statement: str | sa.Executable, **values: object) -> IntegrityError:
    if isinstance(statement, str):
        statement = sa.text(statement)
    with pytest.raises(IntegrityError) as caught, db.session.begin_nested():
        db.session.execute(statement, values)
    return caught.value


def test_a_taken_value_a_check_and_a_missing_row_are_told_apart(app, make_user):
    person = make_user()
    taken = refusal(
        sa.insert(Department).values(name=person.department.name, kind=DepartmentKind.FRONT_LINE)
    )
    upper_case = refusal(
        "UPDATE users SET email = 'SHOUT@EXAMPLE.COM' WHERE id = :id", id=person.id
    )
    nowhere = refusal("UPDATE users SET department_id = 999999 WHERE id = :id", id=person.id)

    assert violates_unique(taken) and not violates_check(taken, "email_lower_case")
    assert violates_check(upper_case, "email_lower_case") and not violates_unique(upper_case)
    assert not violates_check(upper_case, "legal_transition")
    assert not violates_unique(nowhere) and not violates_check(nowhere, "email_lower_case")


def test_a_service_lets_a_bug_through_instead_of_calling_it_a_taken_name(app, monkeypatch):
    """people.services' savepoint answers "already exists" for a unique constraint only."""
    from serviceideas.errors import RuleViolation
    from serviceideas.people import services

    department = services.create_department("Logistics", DepartmentKind.BACK_OFFICE)
    db.session.commit()
    other = Department(name="Finance", kind=DepartmentKind.BACK_OFFICE)
    db.session.add(other)
    db.session.commit()

    # Someone else takes the name between the check and the write: a refusal beside "name".
    monkeypatch.setattr(services, "_check_department_name", lambda name, _department: name)
    with pytest.raises(RuleViolation) as refused:
        services.update_department(department, "Finance", DepartmentKind.BACK_OFFICE)
    assert refused.value.field == "name"
    # A value the database refuses for another reason is not "already taken".
    with pytest.raises(IntegrityError):
        services.update_department(department, "Sales", None)  # type: ignore[arg-type]


def test_postgresql_plans_every_search_for_what_is_searched(app, make_idea):
    """On PostgreSQL statements are prepared from their fifth run on a connection, but never a
    full-text search (docs/architecture.md, "Full-text search"): a generic plan made searches
    20-60 times slower. SQLite's driver takes no such option."""
    from serviceideas.ideas import search

    make_idea(title="Refunds at the door")
    for _ in range(8):
        assert [match.title for match in search.similar_ideas("refund")] == ["Refunds at the door"]
        assert db.session.scalar(sa.select(Department.name).where(Department.id == 0)) is None
    connect_args = app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {})
    if db.engine.dialect.name == "postgresql":
        assert connect_args["prepare_threshold"] == 5
        prepared = db.session.scalars(sa.text("SELECT statement FROM pg_prepared_statements"))
        statements = list(prepared)
        assert any("FROM departments" in statement for statement in statements), statements
        assert not any("tsquery" in statement or "@@" in statement for statement in statements)
    else:
        assert "prepare_threshold" not in connect_args


@pytest.mark.postgres_only  # SQLite has no server to go away
def test_postgresql_replaces_a_pooled_connection_the_server_closed(app):
    """A pooled connection is checked before use by a look at its socket, not a SELECT 1
    (docs/architecture.md, "Requests and transactions"): one whose server process is gone (a
    restart, a crash, a terminated backend) is replaced, and the statement simply runs."""
    with db.engine.connect() as connection:
        closed = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    killer = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": closed})
        for _ in range(100):  # the backend says goodbye and exits in a moment
            gone = connection.execute(
                sa.text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": closed},
            ).scalar()
            if gone:
                break
            time.sleep(0.02)
    killer.dispose()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != closed
