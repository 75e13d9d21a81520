"""Large staff imports, run in the background: the admin page starts one, a thread of the
serving process runs it batch by batch, and its own page shows the progress, then the report
(docs/architecture.md, "Staff import").

A file of up to INLINE_ROWS rows is imported in the request itself, as one batch. Anything
larger would keep the admin waiting and a worker busy for too long, so it becomes a
StaffImport: the request stores the file and answers at once. The thread records each
batch's report rows and progress in the batch's own transaction, so whatever stops the
process (a restart, a deploy), what the page shows is exactly what was done, and the import
can be resumed from there.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale, gettext

from serviceideas.database import utcnow, writing
from serviceideas.errors import RuleViolation
from serviceideas.extensions import db
from serviceideas.i18n import locale_for
from serviceideas.people import staff_import
from serviceideas.people.models import RowOutcome, StaffImport, StaffImportRow, User
from serviceideas.people.staff_import import RowReport

INLINE_ROWS = staff_import.BATCH_ROWS
# A running import stamps its heartbeat after every batch (about a second): one not stamped
# for this long has stopped, and may be resumed.
STOPPED_AFTER = timedelta(minutes=1)
# A preview keeps its file so that it can be imported without sending it again; a day later
# the file (people's names and emails) is forgotten.
KEEP_PREVIEW_FILE = timedelta(days=1)


def runs_in_background(text: str) -> bool:
    """Whether the file is too large to import in the request. A file with a problem as a
    whole is never imported, only previewed, in the request, to show the problem."""
    parsed = staff_import.parse(text)
    return not parsed.problems and len(parsed.lines) > INLINE_ROWS


def start(text: str, *, file_name: str, acting: User, applies: bool) -> StaffImport:
    """Store a large file as an import to run (flushed; the caller commits, then `launch`es
    it). The file must have no problem as a whole (`staff_import.parse`)."""
    parsed = staff_import.parse(text)
    if parsed.problems:
        raise RuleViolation(staff_import.could_not_read(parsed.problems), "file")
    job = StaffImport(
        started_by_id=acting.id,
        applies=applies,
        file_name=file_name[:255],
        csv_text=text,
        rows_total=len(parsed.lines),
        heartbeat_at=utcnow(),
    )
    db.session.add(job)
    _forget_old_preview_files()
    db.session.flush()
    return job


def import_previewed(preview: StaffImport, *, acting: User) -> StaffImport:
    """Import the file of a finished preview (flushed; commit, then `launch`)."""
    if preview.applies or preview.finished_at is None:
        raise RuleViolation(gettext("Only a finished preview can be imported."))
    if preview.csv_text is None:
        raise RuleViolation(
            gettext(
                "This preview's file has been forgotten (a preview keeps it for a day). "
                "Send the file again."
            )
        )
    job = start(preview.csv_text, file_name=preview.file_name, acting=acting, applies=True)
    preview.csv_text = None  # imported: no copy of the file lingers
    return job


def resume(job: StaffImport) -> bool:
    """Take over an import whose runner stopped. False if it is finished or still running
    (someone else resumed it first, or it was never stopped): then there is nothing to do."""
    result = db.session.execute(
        sa.update(StaffImport)
        .where(
            StaffImport.id == job.id,
            StaffImport.finished_at.is_(None),
            sa.or_(
                StaffImport.heartbeat_at.is_(None),
                StaffImport.heartbeat_at < utcnow() - STOPPED_AFTER,
            ),
        )
        .values(heartbeat_at=utcnow(), failure=None)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE: a CursorResult


def _forget_old_preview_files() -> None:
    db.session.execute(
        sa.update(StaffImport)
        .where(
            StaffImport.csv_text.is_not(None),
            StaffImport.finished_at < utcnow() - KEEP_PREVIEW_FILE,
        )
        .values(csv_text=None)
        .execution_options(synchronize_session=False)
    )


# Running


def launch(job_id: int) -> threading.Thread:
    """Run the import in a thread of this process, once its row is committed."""
    # The thread needs the app itself: the proxy means nothing outside this request.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # typed as Flask
    thread = threading.Thread(
        target=run, args=(app, job_id), name=f"staff-import-{job_id}", daemon=True
    )
    thread.start()
    return thread


def run(app: Flask, job_id: int) -> None:
    """Run (or go on with) an import to its end. An error stops it with a note on its page,
    from where it can be resumed; what its finished batches did stays done."""
    with app.app_context(), writing():
        try:
            _run(job_id)
        except Exception:
            app.logger.exception("staff import %s stopped", job_id)
            db.session.rollback()
            db.session.execute(
                sa.update(StaffImport)
                .where(StaffImport.id == job_id)
                .values(
                    heartbeat_at=None,
                    failure="It stopped because of an error on the server (it is in the log).",
                )
            )
            db.session.commit()
        finally:
            db.session.remove()


def _run(job_id: int) -> None:
    job = db.session.get_one(StaffImport, job_id)
    if job.finished_at is not None or job.csv_text is None:
        return
    parsed = staff_import.parse(job.csv_text)

    def record(done: int, rows: list[RowReport]) -> None:
        if rows:
            db.session.execute(
                sa.insert(StaffImportRow),
                [
                    {
                        "import_id": job_id,
                        "line": row.line,
                        "email": row.email[:500],
                        "outcome": row.outcome,
                        "messages": "\n".join(row.messages),
                    }
                    for row in rows
                ],
            )
        db.session.execute(
            sa.update(StaffImport)
            .where(StaffImport.id == job_id)
            .values(rows_done=done, heartbeat_at=utcnow())
        )

    applies, acting_id, start_at = job.applies, job.started_by_id, job.rows_done
    # The rows' messages are read by the admin who started it, in their language.
    language = locale_for(job.started_by)
    db.session.commit()  # the batches are transactions of their own
    with force_locale(language):
        staff_import.run(
            parsed, acting_id=acting_id, apply=applies, start=start_at, on_batch=record
        )
    done = {"finished_at": utcnow(), "heartbeat_at": None}
    if applies:
        done["csv_text"] = None  # imported: the file is no longer needed
    db.session.execute(sa.update(StaffImport).where(StaffImport.id == job_id).values(**done))
    db.session.commit()


# Reading


class Progress(NamedTuple):
    """What an import's page shows."""

    job: StaffImport
    counts: dict[RowOutcome, int]
    errors: list[StaffImportRow]  # the first REPORT_ROWS rows with a problem
    changes: list[StaffImportRow]  # the first REPORT_ROWS rows created or updated

    @property
    def stopped(self) -> bool:
        job = self.job
        if job.finished_at is not None:
            return False
        return job.heartbeat_at is None or job.heartbeat_at < utcnow() - STOPPED_AFTER

    @property
    def error_count(self) -> int:
        return self.counts[RowOutcome.ERROR]

    @property
    def change_count(self) -> int:
        return self.counts[RowOutcome.CREATED] + self.counts[RowOutcome.UPDATED]

    @property
    def failure(self) -> str:
        """Why a stopped import stopped, in the reader's language (the stored note is the
        log's)."""
        if self.job.failure:
            return gettext("It stopped because of an error on the server (it is in the log).")
        return gettext("The server stopped running this import (a restart?).")

    @property
    def percent(self) -> int:
        return 100 if not self.job.rows_total else 100 * self.job.rows_done // self.job.rows_total

    def summary(self) -> str:
        return staff_import.summary(
            applied=self.job.applies, rows=self.job.rows_done, counts=self.counts
        )


REPORT_ROWS = 500


def progress(job: StaffImport) -> Progress:
    """An import's progress and report, in three queries whatever its size."""
    counts = dict.fromkeys(RowOutcome, 0)
    for outcome, count in db.session.execute(
        sa.select(StaffImportRow.outcome, sa.func.count())
        .where(StaffImportRow.import_id == job.id)
        .group_by(StaffImportRow.outcome)
    ):
        counts[outcome] = count

    def rows(*outcomes: RowOutcome) -> list[StaffImportRow]:
        return list(
            db.session.scalars(
                sa.select(StaffImportRow)
                .where(StaffImportRow.import_id == job.id, StaffImportRow.outcome.in_(outcomes))
                .order_by(StaffImportRow.line)
                .limit(REPORT_ROWS)
            )
        )

    return Progress(
        job,
        counts,
        rows(RowOutcome.ERROR),
        rows(RowOutcome.CREATED, RowOutcome.UPDATED),
    )


def report_rows(job: StaffImport) -> sa.Select[StaffImportRow]:
    """Every row's report, in file order (for the CSV download)."""
    return (
        sa.select(StaffImportRow)
        .where(StaffImportRow.import_id == job.id)
        .order_by(StaffImportRow.line)
    )


def recent(limit: int = 10) -> list[StaffImport]:
    return list(
        db.session.scalars(
            sa.select(StaffImport)
            .options(sa.orm.joinedload(StaffImport.started_by))
            .order_by(StaffImport.started_at.desc(), StaffImport.id.desc())
            .limit(limit)
        )
    )
