"""The SCIM request log keeps SCIM_LOG_DAYS days (docs/architecture.md, "SCIM provisioning")."""

from __future__ import annotations

from datetime import timedelta

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.scim.models import ScimRequest
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
