"""The leaderboard after someone moves department: an idea counts for the department its
author was in when submitting it, in the people table, the department tables and both
downloads alike (docs/product.md, "Leaderboard")."""

from __future__ import annotations

import csv
import io
from collections import Counter
from html.parser import HTMLParser
from typing import Any

import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.ideas.models import Status
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.people import services as people
from serviceideas.people.models import DepartmentKind, Role


class _Tables(HTMLParser):
    """The text of each cell of each row of each table with an id, by that id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "table" and dict(attrs).get("id"):
            self._table = self.tables.setdefault(dict(attrs)["id"], [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("th", "td") and self._table is not None:
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" / ")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None


def tables(page: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return {name: rows[1:] for name, rows in parser.tables.items()}  # without the header


def download(client: Any, table: str) -> list[dict[str, str]]:
    response = client.get(f"/insights/{table}.csv?period=month")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def counted_by_hand() -> dict[str, int]:
    """Ideas put into practice this month by the author's department at submission, in SQL
    written out by hand rather than built by the code under test."""
    month = calendar_period(PeriodKind.MONTH, utcnow().date())
    rows = db.session.execute(
        sa.text(
            "SELECT d.name, COUNT(*) FROM ideas i"
            " JOIN departments d ON d.id = i.author_department_id"
            " WHERE i.status = 'implemented' AND i.implemented_on BETWEEN :start AND :end"
            " GROUP BY d.name"
        ),
        {"start": month.start, "end": month.end},
    )
    return {name: count for name, count in rows}


def test_an_idea_counts_for_the_department_its_author_was_in_when_submitting_it_everywhere(
    client_as, make_user, make_department, make_idea
):
    sales = make_department("Sales", DepartmentKind.FRONT_LINE)
    support = make_department("Support", DepartmentKind.BACK_OFFICE)
    ann = make_user(name="Ann", department=sales)
    cy = make_user(name="Cy", department=sales)
    bob = make_user(name="Bob", department=support)
    manager = make_user(Role.MANAGER, name="Max", department=support)
    for _ in range(2):
        make_idea(Status.IMPLEMENTED, author=ann, reviewer=manager)
    make_idea(Status.IMPLEMENTED, author=cy, reviewer=manager)
    for person in (ann, cy):  # both move; Ann goes on to put one more idea into practice
        people.update_user(person, name=person.name, department=support, roles=())
    db.session.commit()
    make_idea(Status.IMPLEMENTED, author=ann, reviewer=manager)
    make_idea(Status.IMPLEMENTED, author=bob, reviewer=manager)
    by_hand = counted_by_hand()
    assert by_hand == {"Sales": 3, "Support": 2}

    client = client_as(bob)
    page = tables(client.get("/leaderboard?period=month").get_data(as_text=True))
    assert page["people-leaderboard"] == [
        ["1", "Ann", "3", "Sales Front line (2) / Support Back office (1)"],
        ["2", "Bob (you)", "1", "Support Back office"],
        ["3", "Cy", "1", "Sales Front line now in Support"],
    ]
    departments = {row[1]: int(row[2]) for row in page["departments-by-count"]}
    assert departments == {"Sales Front line": 3, "Support Back office": 2}
    assert sum(int(row[2]) for row in page["people-leaderboard"]) == sum(by_hand.values())

    leaders = download(client, "leaders")
    assert [
        (r["rank"], r["name"], r["department when submitting"], r["kind"], r["put into practice"])
        for r in leaders
    ] == [
        ("1", "Ann", "Sales", "Front line", "2"),
        ("1", "Ann", "Support", "Back office", "1"),
        ("2", "Bob", "Support", "Back office", "1"),
        ("3", "Cy", "Sales", "Front line", "1"),
    ]
    credited: Counter[str] = Counter()
    for row in leaders:
        credited[row["department when submitting"]] += int(row["put into practice"])
    teams = {
        row["team"]: int(row["put into practice"])
        for row in download(client, "departments-by-count")
        if int(row["put into practice"])
    }
    assert credited == teams == by_hand
