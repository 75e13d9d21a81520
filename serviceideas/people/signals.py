"""Signals that let higher features react to people without `people` importing them.

Receivers run inside the sender's transaction and must only flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

#: Sent with `sender=` a tuple of people (flushed, each in the department they now belong to)
#: when they are created (by hand, by CSV import or on the command line), move department, or
#: are reactivated: one person, or a whole batch of a staff import at once.
#: Training subscribes to enrol new joiners in their department's assignments.
joined_department = _signals.signal("joined-department")

#: Sent with `sender=user`, `granted=` and `removed=` (lists of roles, either may be empty),
#: `actor=` the person who changed them (None on the command line) and `change_id=` the first
#: RoleChange row written, whenever a person's roles change.
#: Notifications subscribes to tell the person (docs/product.md, "Roles").
roles_changed = _signals.signal("roles-changed")
