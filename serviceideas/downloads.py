"""CSV downloads, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from flask import Response

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that starts like a formula gets a leading quote, so a spreadsheet shows it
    instead of running it (people's names and titles are typed by anyone)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_download(rows: Iterable[Iterable[Any]], filename: str) -> Response:
    """A CSV file the browser saves as `filename` (the csv module writes it; werkzeug quotes
    the file name in the header when it needs quoting)."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
