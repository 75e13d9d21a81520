"""Signals that let other features react to training without `training` importing them.

Receivers run inside the sender's transaction and must only flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

#: Sent with `sender=assignment`, `today=` and `only=` (a tuple of the ids of the people
#: enrolled, or None when the whole audience was) after enrolment added rows for that day.
enrolled = _signals.signal("enrolled")

#: Sent with `sender=reflection` (flushed) when a trainer gives or revises feedback.
feedback_given = _signals.signal("feedback-given")

#: Sent with `sender=enrolment` (completed, refreshed) and `learner=` when a person completes
#: a module (not when an answer is only kept as a draft).
completed = _signals.signal("completed")
