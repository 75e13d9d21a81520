"""The app as the benchmark serves it: the real app, plus a trivial route (the framework's
own speed on this machine), a header with the number of SQL statements per request, and
/bench/memory: this worker's requests so far and its resident memory after its first 10,000
requests and now."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Response, g, jsonify

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


FIRST = 10_000
_served = {"requests": 0, "rss_mb_after_first": None}


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


@app.after_request
def _query_header(response: Response) -> Response:
    response.headers["X-Query-Count"] = str(g.get("bench_queries", 0))
    _served["requests"] += 1
    if _served["requests"] == FIRST:
        _served["rss_mb_after_first"] = rss_mb()
    return response


@app.route("/bench/memory")
@csrf.exempt
def memory() -> Response:
    return jsonify(pid=os.getpid(), now_mb=rss_mb(), **_served)
