"""Every Flask extension object lives here, unbound, so no module needs to import the app."""

import flask_limiter
from flask import Flask
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from serviceideas.config import rate_limit_settings


class Base(DeclarativeBase):
    # Named constraints, so migrations can drop and alter them on every database.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter's, settling where its counters live as it is bound to an app: Redis at
    REDIS_URL, the database, or RATELIMIT_STORAGE_URI when given (config.rate_limit_settings),
    so the choice follows the instance config and the environment as they were loaded."""

    def init_app(self, app: Flask) -> None:
        app.config.update(rate_limit_settings(app.config))
        super().init_app(app)


limiter = Limiter(key_func=get_remote_address)

# The limiter's default storage, database:// (config.py), registers itself with `limits` when
# its module is imported: so here, before any app is made, and last, since its table needs `db`.
from serviceideas import ratelimits  # noqa: E402, F401
