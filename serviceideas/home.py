"""The front page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError

from serviceideas.errors import RETRY_AFTER_SECONDS, abandon_transaction
from serviceideas.extensions import db
from serviceideas.ideas.queries import recently_implemented
from serviceideas.people.policies import signed_in
from serviceideas.shared import shared

bp = Blueprint("home", __name__)


@bp.route("/")
@signed_in
def index() -> str:
    return render_template("home.html", implemented=recently_implemented())


def database_answers() -> bool:
    """Whether the database answers a trivial question now. If it does not, what was begun is
    abandoned (and a dead connection dropped), so the next request starts clean."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        abandon_transaction()
        return False
    return True


@bp.route("/healthz")
def healthz() -> Response | tuple[Response, int, dict[str, str]]:
    """200 when the database answers; 503 otherwise, so a load balancer can route around us.

    With REDIS_URL set, Redis is asked too. While it does not answer the app still serves
    every page (rate limits counted in memory, figures computed here: docs/architecture.md,
    "Several servers"), so the answer is "degraded" with a 200: every instance shares the one
    Redis, and taking them all out of the load balancer would turn a slower app into none.
    """
    if not database_answers():
        unavailable = jsonify(status="error", detail="database unavailable")
        return unavailable, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    redis = shared()
    if redis is None:
        return jsonify(status="ok")
    if not redis.answers():
        return jsonify(status="degraded", redis="unavailable")
    return jsonify(status="ok", redis="ok")
