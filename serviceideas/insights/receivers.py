"""How the report figures react to decisions: one that changes the ideas put into practice
makes every figure fresh on its next view, on every worker and server (docs/architecture.md,
"Report figures").

The receiver runs inside the decision's transaction and only flushes (docs/architecture.md,
"Signals"): the counter moves if, and when, the decision commits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from serviceideas.figures import figures_changed
from serviceideas.ideas.models import Status
from serviceideas.ideas.signals import status_changed

if TYPE_CHECKING:
    from serviceideas.ideas.models import StatusChange

# Steps that change what the headline, trend, leaderboard and department tables count: into
# or out of practice (the fast track is a step into it), and merges, which move votes from
# one idea to another and change where the funnel counts an idea.
CHANGES_FIGURES = frozenset({Status.IMPLEMENTED, Status.MERGED})


def decision_taken(change: StatusChange, **_: object) -> None:
    if change.from_status in CHANGES_FIGURES or change.to_status in CHANGES_FIGURES:
        figures_changed()


def connect() -> None:
    """Subscribe (idempotent: blinker keeps one connection per receiver). Connected last, so
    the counter's row is locked for as short a time as possible before the commit."""
    status_changed.connect(decision_taken)
