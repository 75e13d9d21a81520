"""Signals that let other features react to training without `training` importing them.

Receivers run inside the sender's transaction and must only flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

#: Sent with `sender=assignment` and `today=` after enrolment added rows for that day.
enrolled = _signals.signal("enrolled")

#: Sent with `sender=reflection` (flushed) when a trainer gives or revises feedback.
feedback_given = _signals.signal("feedback-given")
