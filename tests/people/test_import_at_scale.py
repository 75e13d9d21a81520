"""A large staff import, through the admin page and through the command, while a colleague
goes on writing: the import finishes, every one of the colleague's writes is kept (none is
refused for a busy database), and they land while the import is still going — it writes in
batches and never holds the database for its whole length.

What this proves depends on the number of batches, not of people: ten batches of the real
size on SQLite (where a batch holds the one write lock), three on PostgreSQL. The full 10,000
people, how long they take and what they do to others' response times are `make bench`'s
(docs/benchmark.md), with colleagues writing meanwhile too."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Comment
from serviceideas.people import staff_import
from serviceideas.people.models import DepartmentKind, Role, StaffImport, User
from tests.people.test_import_jobs import staff_csv, wait_for_imports

ROWS = 10 * staff_import.BATCH_ROWS  # 2,500: ten batches on SQLite, three on PostgreSQL


@pytest.fixture
def departments(make_department):
    make_department("Stores", DepartmentKind.FRONT_LINE)
    make_department("IT", DepartmentKind.BACK_OFFICE)


@contextmanager
def a_colleague_commenting(client_as, make_idea) -> Iterator[list[tuple[int, object]]]:
    """A colleague posts comments one after another until the block ends; yields the list of
    (status code, time it was answered) of every post."""
    idea = make_idea()
    colleague = client_as(idea.author)
    idea_id = idea.id
    db.session.commit()
    answers: list[tuple[int, object]] = []
    stop = threading.Event()

    def comment() -> None:
        number = 0
        while not stop.is_set():
            number += 1
            response = colleague.post(
                f"/ideas/{idea_id}/comments", data={"body": f"Comment {number} while importing"}
            )
            answers.append((response.status_code, utcnow()))

    thread = threading.Thread(target=comment, name="colleague")
    thread.start()
    try:
        yield answers
    finally:
        stop.set()
        thread.join(60)


def assert_the_colleague_was_never_held_up(
    answers: list[tuple[int, object]], began: object, ended: object
) -> None:
    assert answers, "the colleague wrote nothing"
    assert {status for status, _ in answers} == {303}, "every comment is kept"
    during = [when for _, when in answers if began < when < ended]
    assert len(during) >= 3, "the colleague's comments landed while the import ran"
    db.session.commit()
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(Comment))
    assert stored == len(answers)


def people_count() -> int:
    db.session.commit()
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def test_a_large_import_through_the_admin_page_never_holds_up_a_colleague(
    client_as, make_user, make_idea, departments
):
    admin = make_user(Role.ADMIN, email="ada@example.com")
    as_admin = client_as(admin)
    with a_colleague_commenting(client_as, make_idea) as answers:
        before = people_count()
        began = utcnow()
        response = as_admin.post("/admin/import", data={"text": staff_csv(ROWS), "apply": "Import"})
        assert response.status_code == 303
        wait_for_imports()
        ended = utcnow()
    job = db.session.scalars(sa.select(StaffImport)).one()
    assert (job.rows_done, job.finished_at is not None) == (ROWS, True)
    assert people_count() == before + ROWS
    assert_the_colleague_was_never_held_up(answers, began, ended)


def test_a_large_import_through_the_command_never_holds_up_a_colleague(
    app, make_idea, client_as, departments, tmp_path
):
    csv_file = tmp_path / "staff.csv"
    csv_file.write_text(staff_csv(ROWS, department="IT"), encoding="utf-8")
    with a_colleague_commenting(client_as, make_idea) as answers:
        before = people_count()
        began = utcnow()
        db.session.commit()  # the command runs in this test's session: end its read first
        result = app.test_cli_runner().invoke(args=["import-staff", str(csv_file)])
        ended = utcnow()
    assert result.exit_code == 0, result.output
    assert f"Imported: {ROWS:,} rows".replace(",", "") in result.output.replace(",", "")
    assert people_count() == before + ROWS
    assert_the_colleague_was_never_held_up(answers, began, ended)
