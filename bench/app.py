"""The app as the benchmark serves it: the real app, plus a trivial route (the framework's
own speed on this machine) and a header with the number of SQL statements per request."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, g

from serviceideas import create_app
from serviceideas.extensions import csrf, db

app = create_app()


@app.route("/bench/trivial")
@csrf.exempt
def trivial() -> str:
    return "ok"


with app.app_context():

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"))
        ):
            g.bench_queries = g.get("bench_queries", 0) + 1


@app.after_request
def _query_header(response: Response) -> Response:
    response.headers["X-Query-Count"] = str(g.get("bench_queries", 0))
    return response
