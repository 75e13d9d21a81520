"""Who may do what with people and departments. The mapping from roles to powers lives here.

Other features write their own policies, and use `requires` to guard their views.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeAlias, TypeGuard, TypeVar, cast

from flask import abort
from flask_login import AnonymousUserMixin, current_user, login_required

from serviceideas.people.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])


# Whoever is asking: a signed-in person or Flask-Login's anonymous user.
Someone: TypeAlias = User | AnonymousUserMixin


def is_active_person(user: Someone) -> TypeGuard[User]:
    """Signed in with an account that is not deactivated: where every power starts."""
    return isinstance(user, User) and user.is_active


def can_administer(user: Someone) -> bool:
    """Admins manage departments, people and roles, and import staff."""
    return is_active_person(user) and user.has_role(Role.ADMIN)


def can_change_roles_of(acting: User, person: User) -> bool:
    """An admin may not take away their own admin role or switch themselves off."""
    return can_administer(acting) and acting.id != person.id


def requires(policy: Callable[[Any], bool]) -> Callable[[F], F]:
    """Guard a view: signed-out people go to sign in, signed-in people without the power get 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not policy(current_user):
                abort(403)
            return view(*args, **kwargs)

        # The guarded view keeps the view's own signature (wraps copies its metadata).
        return cast(F, login_required(checked))

    return decorator


def signed_in(view: F) -> F:
    """Guard a view for anyone signed in (Flask-Login's `login_required`)."""
    return login_required(view)


# Offered to every template, so pages hide controls a person may not use.
TEMPLATE_POLICIES = {
    "can_administer": can_administer,
}
