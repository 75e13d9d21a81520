"""Who may do what with people and departments. The mapping from roles to powers lives here.

Other features write their own policies, and use `requires` to guard their views.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from functools import wraps
from typing import Any, TypeAlias, TypeGuard, TypeVar, cast

from flask import abort, current_app
from flask_login import AnonymousUserMixin, current_user, login_required

from serviceideas.people.models import Role, User, normalise_email

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


def company_sign_in_name() -> str | None:
    """The identity provider's name for "Sign in with …" (OIDC_PROVIDER_NAME), or None when no
    provider is configured (OIDC_ISSUER unset)."""
    if not current_app.config.get("OIDC_ISSUER"):
        return None
    return str(current_app.config["OIDC_PROVIDER_NAME"])


def password_sign_in_is_on() -> bool:
    """SERVICEIDEAS_PASSWORD_SIGN_IN: on (the default), everyone may sign in with a password."""
    return bool(current_app.config["PASSWORD_SIGN_IN"])


def is_break_glass_address(email: str) -> bool:
    """Named in SERVICEIDEAS_BREAK_GLASS_ADMINS (any case)."""
    return normalise_email(email) in current_app.config["PASSWORD_SIGN_IN_ADMINS"]


def may_have_password(email: str, roles: Collection[Role], *, active: bool) -> bool:
    """With password sign-in on, anyone active. Off, only the break-glass admins: named in
    SERVICEIDEAS_BREAK_GLASS_ADMINS, admins and active (docs/product.md, "Password sign-in and
    break-glass admins")."""
    if not active:
        return False
    if password_sign_in_is_on():
        return True
    return is_break_glass_address(email) and Role.ADMIN in roles


# Said wherever a password or a password-set link is refused for someone else.
ONLY_BREAK_GLASS_PASSWORDS = (
    "Password sign-in is off, so passwords and password-set links are only for the break-glass "
    "administrators (named in SERVICEIDEAS_BREAK_GLASS_ADMINS)."
)


def may_sign_in_with_password(person: User | None) -> bool:
    """Whether this person may sign in with a password and be given a password-set link."""
    if person is None:
        return False
    return may_have_password(person.email, person.granted_roles, active=person.is_active)


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
    "company_sign_in_name": company_sign_in_name,
    "password_sign_in_is_on": password_sign_in_is_on,
    "may_sign_in_with_password": may_sign_in_with_password,
}
