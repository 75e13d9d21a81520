"""Signals that let other features react to ideas without `ideas` importing them.

Receivers run inside the sender's transaction and must only flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

#: Sent with `sender=idea` and `origin=` what the submit form said the idea grew from
#: (for example "module:12" when started from a training reflection), or None.
idea_submitted = _signals.signal("idea-submitted")

#: Sent with `sender=change` (a StatusChange, flushed) and `idea=` after every status change.
status_changed = _signals.signal("status-changed")

#: Sent with `sender=comment` (flushed) and `idea=` when someone comments on an idea.
comment_added = _signals.signal("comment-added")

#: Sent with `sender=idea`, `owner=` (the person newly named), `actor=` (who named them) and
#: `at=` (when) each time an idea gets a new owner.
owner_named = _signals.signal("owner-named")

#: Sent with `sender=idea` when its page is drawn; training answers with the title of the
#: module the idea was started in (from a reflection), others with None. Receivers only read.
origin_asked = _signals.signal("idea-origin-asked")
