"""The SCIM request log keeps SCIM_LOG_DAYS days (docs/architecture.md, "SCIM provisioning")."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.scim.models import ScimRequest, ScimToken
from tests.scim.conftest import log


def _line(days_ago: float, outcome: str) -> ScimRequest:
    return ScimRequest(
        at=utcnow() - timedelta(days=days_ago),
        method="GET",
        path="/scim/v2/Users",
        status=200,
        outcome=outcome,
    )


def test_lines_older_than_the_kept_days_go_as_new_ones_are_written(app, directory):
    db.session.add_all([_line(91, "too old"), _line(89, "kept")])
    db.session.commit()

    assert directory.get("/ServiceProviderConfig").status_code == 200

    db.session.expire_all()
    outcomes = [line.outcome for line in log()]
    assert "too old" not in outcomes
    assert "kept" in outcomes
    assert len(outcomes) == 2  # the kept line and the request's own


@pytest.mark.postgres_only  # on SQLite every statement runs in a transaction anyway
def test_a_gets_log_line_is_written_in_one_transaction(app, directory):
    """A GET reads without a transaction on PostgreSQL; its log line must not: the line and
    the token's last use are written together, or not at all when the log's housekeeping
    (which runs last) fails."""
    app.config["SCIM_LOG_DAYS"] = None  # the housekeeping fails
    with pytest.raises(TypeError):
        directory.get("/ServiceProviderConfig")
    db.session.rollback()
    assert log() == []
    assert db.session.scalars(sa.select(ScimToken.last_used_at)).all() == [None]
