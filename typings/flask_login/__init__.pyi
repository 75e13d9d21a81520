from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from flask import Flask

_F = TypeVar("_F", bound=Callable[..., Any])

# The signed-in person (a User) or an AnonymousUserMixin: the app narrows it with its own
# policies (people/policies.py), so it stays Any here as it is in Flask-Login.
current_user: Any

class AnonymousUserMixin:
    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_anonymous(self) -> bool: ...
    def get_id(self) -> str | None: ...

class LoginManager:
    login_view: str | None
    login_message: str
    login_message_category: str
    def __init__(self, app: Flask | None = None, add_context_processor: bool = True) -> None: ...
    def init_app(self, app: Flask, add_context_processor: bool = True) -> None: ...
    def user_loader(self, callback: _F) -> _F: ...
    def unauthorized_handler(self, callback: _F) -> _F: ...

def login_required(func: _F) -> _F: ...
def login_user(
    user: Any,
    remember: bool = False,
    duration: timedelta | None = None,
    force: bool = False,
    fresh: bool = True,
) -> bool: ...
def logout_user() -> bool: ...
def login_url(login_view: str, next_url: str | None = None, next_field: str = "next") -> str: ...
