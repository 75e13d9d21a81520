"""CSV downloads opened by a spreadsheet that splits on another separator than the comma
(SECURITY.md, "Text people type"): every cell is quoted, and no field such a spreadsheet
finds starts a formula, wherever in a cell the separator falls."""

from __future__ import annotations

import csv
import io
import re

import pytest

from serviceideas.downloads import csv_download
from serviceideas.people.models import Role

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = [
    "Bob;=1+1+cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example")',
    "Ann,+1",
    "Ann\t-2",
    "Ann|@SUM(A1)",
    "Ann\n=1",
    'Ann;"=1',
    "Ann; =1",
    "-1",
    "plain; text, with - signs @ inside",
]


def fields_seen(text: str, delimiter: str) -> list[str]:
    """Every field a spreadsheet splitting on `delimiter` finds: like Python's reader, it
    honours a quote only where a field starts, so with another delimiter than ours a field
    can begin in the middle of a cell."""
    return [
        field
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for field in row
    ]


def text_of(response) -> str:
    """The file as a spreadsheet reads it: UTF-8, after the byte order mark Excel needs."""
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    return data.decode("utf-8-sig")


def every_cell_is_quoted(text: str) -> bool:
    cell = r'"(?:[^"]|"")*"'
    return re.fullmatch(rf"(?:{cell}(?:,{cell})*\r\n)*", text) is not None


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("column", [0, 1, 2])
def test_no_field_a_spreadsheet_finds_starts_a_formula(delimiter, column):
    rows = [["name", "department", "ideas"]]
    for hostile in HOSTILE:
        row: list[object] = ["Ann", "Sales", 3]
        row[column] = hostile
        rows.append(row)
    text = text_of(csv_download(rows, "ideas.csv"))
    assert every_cell_is_quoted(text)
    starting = [
        f for f in fields_seen(text, delimiter) if f.lstrip(' "').startswith(FORMULA_STARTS)
    ]
    assert starting == []


def test_a_comma_reader_gets_back_each_cell_with_a_quote_before_each_formula():
    rows = [["Bob;=1+1", "=1", "a, b; c", 7, None, 2.5]]
    text = text_of(csv_download(rows, "ideas.csv"))
    assert text == '"Bob;\'=1+1","\'=1","a, b; c","7","","2.5"\r\n'
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["Bob;'=1+1", "'=1", "a, b; c", "7", "", "2.5"]
    ]


def test_the_people_download_neutralises_names_and_departments(
    client_as, make_user, make_department
):
    department = make_department(name="Sales;=1+1+cmd|' /C calc'!A0")
    make_user(name="Bob;@SUM(A1)", department=department)
    manager = make_user(Role.MANAGER, name="Ann")
    text = text_of(client_as(manager).get("/insights/people.csv?period=month"))
    assert every_cell_is_quoted(text)
    for delimiter in (",", ";"):
        fields = fields_seen(text, delimiter)
        assert not [f for f in fields if f.lstrip(' "').startswith(FORMULA_STARTS)]
