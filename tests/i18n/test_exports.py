"""What people take away from the app is in their language too: every CSV download's header
row and the words in its cells, and the titles of the training calendar feed.

As on the pages (test_every_page.py), the company's content is Cyrillic and its people chose the
pseudo-language, so Latin text left outside ⟦ ⟧ is interface text missing from the catalogue.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from serviceideas.extensions import db
from serviceideas.insights.routes import TABLES
from serviceideas.people import import_jobs
from serviceideas.people.models import User
from tests.i18n import company, pseudo


def _rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_every_csv_download_is_translated(
    app: Flask, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    """Each download's header row, and the words in its cells (a status, a kind of team, an
    import's outcome and its reasons, written while the import ran without a request), are
    the person's language; the cells' content is Cyrillic, a date or a number."""
    firm = company.build()
    # A staff file imported the way a large one is: stored, then run to its end.
    job = import_jobs.start(
        "email,name,department,roles\n"
        "new@example.com,Елена Новикова,Отдел продаж,\n"
        "сломано,Ж,Нет такого отдела,\n",
        file_name="сотрудники.csv",
        acting=firm.admin,
        applies=False,
    )
    db.session.commit()
    import_jobs.run(app, job.id)
    downloads = {
        firm.trainer: [
            "/training/coverage.csv",
            f"/training/coverage/modules/{firm.reading.id}.csv",
            f"/training/coverage/modules/{firm.reflection.id}.csv",
        ],
        firm.manager: [f"/insights/{table}.csv" for table in TABLES],
        firm.admin: [f"/admin/import/{job.id}/report.csv"],
    }
    found = {}
    for person, urls in downloads.items():
        client = pseudo_as(person)
        for url in urls:
            header, *rows = _rows(client.get(url))
            cells = [*header, *(cell for row in rows for cell in row)]
            if left := pseudo.untranslated_text("\n".join(cells)):
                found[url] = left
    assert not found, f"CSV texts outside the catalogue: {found}"


def unfolded(calendar: str) -> list[str]:
    """An iCalendar file's lines, each folded line joined again (RFC 5545, 3.1)."""
    lines: list[str] = []
    for line in calendar.splitlines():
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += line[1:]
        else:
            lines.append(line)
    return lines


def _text_value(line: str) -> str:
    """A TEXT property's value, unescaped (RFC 5545, 3.3.11)."""
    value = line.split(":", 1)[1]
    out, escaped = [], False
    for char in value:
        if escaped:
            out.append("\n" if char in "nN" else char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def test_the_calendar_feeds_name_and_titles_are_translated(
    app: Flask, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    firm = company.build()
    # Fetched by a calendar app: no session, so the person's own language decides.
    response = pseudo_as(None).get(f"/calendar/{firm.calendar_token}.ics")
    assert response.status_code == 200
    read = [
        _text_value(line)
        for line in unfolded(response.get_data(as_text=True))
        if line.split(":", 1)[0].split(";", 1)[0] in {"SUMMARY", "DESCRIPTION", "X-WR-CALNAME"}
    ]
    # The calendar's name, and a title (a description, if it has one) per open training.
    assert len(read) >= 3
    left = [text for value in read for text in pseudo.untranslated_text(value)]
    assert left == [], f"calendar texts outside the catalogue: {left}"
