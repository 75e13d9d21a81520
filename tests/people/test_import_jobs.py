"""Large staff imports run in the background, batch by batch, with a page that follows them."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.people import import_jobs, staff_import
from serviceideas.people.models import DepartmentKind, StaffImport, StaffImportRow, User
from tests.conftest import count_queries
from tests.people.conftest import text

HEADER = "email,name,department,roles\n"
LARGE = import_jobs.INLINE_ROWS + 50  # more than the request imports itself


def staff_csv(rows: int, *, start: int = 0, department: str = "Stores") -> str:
    lines = (f"staff{n}@example.com,Staff {n},{department},\n" for n in range(start, start + rows))
    return HEADER + "".join(lines)


@pytest.fixture
def stores(make_department):
    return make_department("Stores", DepartmentKind.FRONT_LINE)


def wait_for_imports(timeout: float = 300) -> None:
    """Wait for every import thread of this process to end (they must not outlive a test)."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name.startswith("staff-import-"):
            thread.join(max(0.0, deadline - time.monotonic()))
            assert not thread.is_alive(), "the import did not finish in time"


def staff_count() -> int:
    db.session.commit()  # see what the import's thread committed
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def the_import() -> StaffImport:
    db.session.commit()
    return db.session.scalars(sa.select(StaffImport).order_by(StaffImport.id.desc())).first()


def test_a_large_file_is_imported_in_the_background_and_its_page_follows_it(
    as_admin, admin, stores
):
    response = as_admin.post("/admin/import", data={"text": staff_csv(LARGE), "apply": "Import"})
    assert response.status_code == 303
    page = response.headers["Location"]
    running = as_admin.get(page)
    assert running.status_code == 200
    wait_for_imports()

    done = as_admin.get(page)
    assert "Import report" in text(done)
    assert f"Imported: {LARGE} rows — {LARGE} created, 0 updated, 0 unchanged, 0 errors." in text(
        done
    )
    assert staff_count() == LARGE + 1  # and the admin
    job = the_import()
    assert (job.rows_done, job.rows_total, job.finished_at is not None) == (LARGE, LARGE, True)
    assert job.csv_text is None  # imported: the file is not kept

    report = as_admin.get(f"{page}/report.csv")
    assert report.status_code == 200
    lines = report.get_data(as_text=True).splitlines()
    assert len(lines) == LARGE + 1
    assert lines[1] == '"2","staff0@example.com","Created",""'


def test_htmx_gets_only_the_part_that_changes_and_stops_asking_when_done(as_admin, stores):
    response = as_admin.post("/admin/import", data={"text": staff_csv(LARGE), "apply": "Import"})
    wait_for_imports()
    fragment = as_admin.get(response.headers["Location"], headers={"HX-Request": "true"})
    body = text(fragment)
    assert body.lstrip().startswith("{#") is False and "<html" not in body
    assert 'id="import-job"' in body
    assert "hx-trigger" not in body  # finished: no more polling


def test_a_large_preview_changes_nothing_then_imports_the_same_file(as_admin, admin, stores):
    response = as_admin.post("/admin/import", data={"text": staff_csv(LARGE), "preview": "Preview"})
    wait_for_imports()
    page = as_admin.get(response.headers["Location"])
    assert f"Preview: {LARGE} rows — {LARGE} created" in text(page)
    assert staff_count() == 1
    preview = the_import()
    assert preview.csv_text is not None  # kept, so it can be imported without sending it again
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(StaffImportRow)
            .where(StaffImportRow.import_id == preview.id)
        )
        == LARGE
    )

    imported = as_admin.post(f"/admin/import/{preview.id}/apply", data={})
    assert imported.status_code == 303
    wait_for_imports()
    assert "Imported: " in text(as_admin.get(imported.headers["Location"]))
    assert staff_count() == LARGE + 1
    db.session.refresh(preview)
    assert preview.csv_text is None


def test_an_import_that_stopped_goes_on_from_where_it_was_and_does_each_row_once(
    as_admin, admin, stores, monkeypatch
):
    """An error (or a restart) stops it after some batches: what they did is kept and shown,
    and resuming does the rest — every row reported once, nobody added twice."""
    real = staff_import._next_batch
    batches = []

    def second_batch_fails(*args, **kwargs):
        batches.append(1)
        if len(batches) == 2:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(staff_import, "_next_batch", second_batch_fails)
    rows = 2 * staff_import.batch_rows() + 10
    response = as_admin.post("/admin/import", data={"text": staff_csv(rows), "apply": "Import"})
    wait_for_imports()
    page = response.headers["Location"]
    stopped = text(as_admin.get(page))
    assert "Stopped" in stopped and "It stopped because of an error on the server" in stopped
    done_before = the_import().rows_done
    assert 0 < done_before < rows
    assert staff_count() == done_before + 1

    resumed = as_admin.post(f"{page}/resume", data={})
    assert resumed.status_code == 303
    wait_for_imports()
    assert f"Imported: {rows} rows — {rows} created" in text(as_admin.get(page))
    assert staff_count() == rows + 1
    lines = db.session.scalars(
        sa.select(StaffImportRow.line).where(StaffImportRow.import_id == the_import().id)
    ).all()
    assert sorted(lines) == list(range(2, rows + 2))


def test_a_running_import_is_not_resumed_twice(as_admin, admin, stores):
    job = import_jobs.start(staff_csv(LARGE), file_name="x.csv", acting=admin, applies=True)
    db.session.commit()  # started, as if its thread were running (heartbeat: just now)
    refused = as_admin.post(f"/admin/import/{job.id}/resume", data={})
    assert refused.status_code == 303
    assert the_import().rows_done == 0  # nothing was launched
    job.heartbeat_at = utcnow() - import_jobs.STOPPED_AFTER * 2  # its process went away
    db.session.commit()
    assert "Go on from row 1 of" in text(as_admin.get(f"/admin/import/{job.id}"))
    as_admin.post(f"/admin/import/{job.id}/resume", data={})
    wait_for_imports()
    assert the_import().rows_done == LARGE


def test_a_file_with_a_problem_is_shown_at_once_and_never_runs(as_admin, stores):
    broken = staff_csv(LARGE) + '"unclosed,Name,Stores,\n'
    response = as_admin.post("/admin/import", data={"text": broken, "apply": "Import"})
    assert response.status_code == 422
    assert "is not valid CSV" in text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffImport)) == 0
    assert staff_count() == 1


def test_an_import_page_reads_the_same_few_queries_whatever_the_size(as_admin, stores):
    pages = []
    for rows in (LARGE, 3 * LARGE):
        response = as_admin.post(
            "/admin/import",
            data={"text": staff_csv(rows, start=10 * rows), "preview": "Preview"},
        )
        wait_for_imports()
        assert response.status_code == 303, text(response)[-3000:]
        pages.append(response.headers["Location"])
    counts = []
    for page in pages:
        with count_queries() as queries:
            assert as_admin.get(page).status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1]
