"""The front page and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue
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


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers; 503 otherwise, so a load balancer can route around us."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        abandon_transaction()
        unavailable = jsonify(status="error", detail="database unavailable")
        return unavailable, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return jsonify(status="ok")
