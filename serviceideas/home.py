"""The front page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template
from sqlalchemy.exc import SQLAlchemyError

from serviceideas.errors import RETRY_AFTER_SECONDS, abandon_transaction
from serviceideas.extensions import db
from serviceideas.ideas.queries import recently_implemented
from serviceideas.people.policies import signed_in

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
    """200 when the database answers; 503 otherwise, so a load balancer can route around us."""
    if not database_answers():
        unavailable = jsonify(status="error", detail="database unavailable")
        return unavailable, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return jsonify(status="ok")
