"""CSV downloads, safe to open in a spreadsheet, and opened by Excel as UTF-8."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from flask import Response

# Where a spreadsheet could begin a field and read a formula: the start of a cell, or just
# after any separator some spreadsheet splits on (comma, semicolon, tab, bar, line break),
# when the next character other than quotes and spaces is = + - @ tab or carriage return.
FORMULA_START = re.compile(r"(\A|[,;\t|\n\r])(?=[\" ]*[=+\-@\t\r])")


def spreadsheet_safe(value: Any) -> str:
    """The cell's text with a quote before every place a formula could start, so that a
    spreadsheet shows the text instead of running it, whichever separator it splits on
    (SECURITY.md, "Text people type"). Quoting the whole cell in the file is not enough:
    a spreadsheet splitting on ";" reads the comma-separated file's quotes as text, so its
    fields can begin in the middle of a cell. Numbers go through the same rule; none of the
    downloads holds a negative one (counts, ranks, percentages, days to put into practice)."""
    text = "" if value is None else str(value)
    return FORMULA_START.sub(r"\1'", text)


# Excel reads a CSV file as the computer's legacy code page unless the file starts with the
# byte order mark; other spreadsheets and Python's "utf-8-sig" skip it.
BYTE_ORDER_MARK = "\ufeff"


def csv_download(rows: Iterable[Iterable[Any]], filename: str) -> Response:
    """A CSV file the browser saves as `filename`: UTF-8 with a byte order mark, every cell
    quoted (the csv module writes it; werkzeug quotes the file name in the header when it
    needs quoting)."""
    out = io.StringIO()
    out.write(BYTE_ORDER_MARK)
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
