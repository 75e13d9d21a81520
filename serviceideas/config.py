"""Configuration: defaults here, then the instance folder's config.py, then the environment.

Everything a deployment changes is an environment variable; the names are part of the
public interface (README, "Configuration").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

# Secrets that ship in public code or examples; a production server refuses them.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"", "dev", "development", "change-me", "changeme", "secret", "serviceideas-development-only"}
)
DEVELOPMENT_SECRET = "serviceideas-development-only"  # noqa: S105 - refused outside dev and tests

ASSET_SOURCES = ("cdn", "local")

# Front-end files: one place for the version, the CDN address and the SRI hash.
# tests/test_app.py checks that the copies in static/vendor hash to the same values.
VENDOR_ASSETS: dict[str, dict[str, str]] = {
    "htmx": {
        "cdn": "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js",
        "local": "vendor/htmx.min.js",
        "integrity": "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg",
    },
    "pico": {
        "cdn": "https://cdn.jsdelivr.net/npm/@picocss/pico@2.1.1/css/pico.min.css",
        "local": "vendor/pico.min.css",
        "integrity": "sha384-L1dWfspMTHU/ApYnFiMz2QID/PlP1xCW9visvBdbEkOLkSSWsP6ZJWhPw6apiXxU",
    },
    # The API's documentation page (/api/v1/docs) only.
    "swagger-ui-bundle": {
        "cdn": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui-bundle.js",
        "local": "vendor/swagger-ui-bundle.js",
        "integrity": "sha384-gjRm0bEPMeTmMh5jT2cHccIwCUZSTd8YC+j0d0sXw0MdGEfScduGpSyF3ZSSLkX9",
    },
    "swagger-ui-css": {
        "cdn": "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5.35.0/swagger-ui.css",
        "local": "vendor/swagger-ui.css",
        "integrity": "sha384-WlYgdmXYOOBWL5apwjDEZwN+U3HmXSSu5R6V5aGxEcf7z+KuRNwBhoxKVN1i3D5I",
    },
}


class Config:
    """Defaults. Each attribute may be overridden by instance/config.py or the environment."""

    ENV_NAME = "production"  # production | development | testing
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SERVICEIDEAS_ASSETS = "cdn"

    # Sessions. SESSION_COOKIE_SECURE belongs on when served over HTTPS (behind a proxy).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30  # seconds
    # The idle timeout: a session unused this long ends. Sign-in makes the session permanent
    # and every request sends its cookie again, so the time starts over with each use; the
    # signed cookie's own timestamp is checked, so a copy left unused ends too. Remember-me
    # is the person's choice to stay signed in past it, for REMEMBER_COOKIE_DURATION from
    # sign-in (SECURITY.md, "Sessions").
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    SESSION_REFRESH_EACH_REQUEST = True

    # Uploads (staff CSV) and forms: anything larger is refused with a 413 page.
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH  # a pasted CSV is a form field, not a file
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    # Rate limits. Where the counters live; None: in the Redis at REDIS_URL when that is set,
    # else in the app's own database (database://, ratelimits.py). Either way every worker and
    # server shares them. Any other URI the `limits` library knows (redis://…, memcached://…)
    # overrides that choice (rate_limit_settings() below settles it).
    RATELIMIT_STORAGE_URI: str | None = None
    # Given to the storage; for Redis, rate_limit_settings() adds timeouts unless given here.
    RATELIMIT_STORAGE_OPTIONS: dict[str, Any] = {}
    RATELIMIT_ENABLED = True
    # When the counters cannot be read or written, the error is logged and the request goes
    # on. With database:// it then meets the database itself and gets the 503 page.
    RATELIMIT_SWALLOW_ERRORS = True
    # While a storage other than the database (Redis) does not answer, count in each process's
    # memory and go back to the storage once it answers again (None: on for every storage but
    # database://, where the app cannot serve without the database anyway; SECURITY.md,
    # "Passwords").
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED: bool | None = None
    LOGIN_RATE_LIMIT = "10 per minute"
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "5 per minute"
    PASSWORD_LINK_MAX_AGE = 60 * 60 * 72  # seconds a password-set link stays valid

    # Passwords: werkzeug's default (scrypt). Tests choose a cheaper method.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 - a method name, not a password
    PASSWORD_MIN_LENGTH = 10

    # Behind a reverse proxy: how many proxies set X-Forwarded-For/-Proto/-Host. Needed for
    # per-person rate limits, and so that the host checked (ALLOWED_HOSTS) is the one asked for.
    PROXY_HOPS = 0

    # E-mail: off unless SMTP_HOST is set; in-app notifications work either way.
    SMTP_HOST: str | None = None
    SMTP_PORT = 587
    SMTP_SECURITY = "starttls"  # starttls | ssl | none
    SMTP_USER: str | None = None
    SMTP_PASSWORD: str | None = None
    MAIL_SENDER = "serviceideas <serviceideas@localhost>"
    # Where people reach the app: every absolute link (password links, e-mails, calendar
    # feeds, unsubscribe links) starts with this, never with the request's Host header.
    BASE_URL = "http://127.0.0.1:5000"
    # Requests for any other host are refused with a 400 (urls.refuse_foreign_hosts; filled
    # in by trusted_hosts() below); SERVICEIDEAS_TRUSTED_HOSTS names more (SECURITY.md).
    ALLOWED_HOSTS: list[str] | None = None
    EXTRA_TRUSTED_HOSTS: list[str] = []

    # How often an open page asks for the unread count (seconds): cheap, but not chatty.
    BELL_REFRESH_SECONDS = 60

    # Dashboard, leaderboard and coverage figures may be this many seconds old (0: never);
    # past half that age they are recomputed in the background (figures.py).
    FIGURES_CACHE_SECONDS = 60

    # Several servers: a Redis they share (redis://host:6379/0). When set, report figures and
    # rate-limit counters live there; without it the app runs as on one machine
    # (serviceideas/shared.py; README, "Running on several servers").
    REDIS_URL: str | None = None

    # Company sign-in with OpenID Connect (README, "Company sign-in"). Set OIDC_ISSUER (the
    # provider's address; its /.well-known/openid-configuration is read) and the client's id
    # and secret, and the sign-in page offers the provider first. People come back to
    # BASE_URL + /login/oidc/callback, the one address to register at the provider.
    OIDC_ISSUER: str | None = None
    OIDC_CLIENT_ID: str | None = None
    OIDC_CLIENT_SECRET: str | None = None
    OIDC_PROVIDER_NAME = "your company account"  # the button says "Sign in with …"
    OIDC_SCOPES = "openid email profile"
    # People are matched by e-mail only when the provider says it verified the address
    # (`email_verified`). Microsoft Entra ID never sends that claim: on, an `email` without
    # `email_verified` counts as verified. Only for a provider whose directory the company
    # alone controls (one tenant, addresses given by its admins), never a multi-tenant one.
    OIDC_TRUST_EMAIL = False
    # Someone the provider vouches for but the app does not know: created at first sign-in
    # (True), or refused until an admin, the staff import or SCIM adds them (False).
    OIDC_CREATE_PEOPLE = False
    # The claim that names a new person's department (matched by name, ignoring case).
    OIDC_DEPARTMENT_CLAIM = "department"
    # The claim that gives the person's language ("de-DE"; the standard `locale` of the
    # `profile` scope), kept at each sign-in as one the app speaks, else as none; empty: not read.
    OIDC_LOCALE_CLAIM = "locale"
    # The department for people the identity provider or the directory (SCIM) brings without a
    # department the app knows: a department's name, or None to refuse them until one exists.
    DEFAULT_DEPARTMENT: str | None = None
    # Roles from the provider: the claim listing the person's groups, and which group gives
    # which role ({"admin": "serviceideas-admins", ...}). Unset: roles are managed in the app.
    # Set: the provider wins, and each sign-in sets the person's roles from their groups.
    OIDC_GROUPS_CLAIM: str | None = None
    OIDC_ROLE_GROUPS: dict[str, str] = {}

    # SCIM's request log (Admin → Directory sync) keeps this many days; older lines are
    # deleted as new ones are written.
    SCIM_LOG_DAYS = 90

    # Password sign-in. Off: only the admins named in PASSWORD_SIGN_IN_ADMINS (the break-glass
    # accounts, for when the provider is down) may sign in with a password, and password-set
    # links are for them alone; everyone else signs in with the provider.
    PASSWORD_SIGN_IN = True
    PASSWORD_SIGN_IN_ADMINS: list[str] = []

    # The API (/api/v1): requests per token (or, without a live one, per address). A
    # personal access token lives at most this many days.
    API_RATE_LIMIT = "300 per minute"
    API_TOKEN_MAX_DAYS = 366

    # Webhooks. Addresses must be https:// unless WEBHOOKS_ALLOW_HTTP (for testing); they may
    # not lead to private addresses unless WEBHOOKS_ALLOW_PRIVATE (a receiver on the company's
    # own network; loopback only in development and testing), nor ever to link-local or cloud
    # metadata ones, so that nobody can make the server call its own neighbours (SECURITY.md,
    # "Webhooks"). The timeout is a request's, all told. An endpoint is switched off, and its
    # admin told, after this many deliveries failed in a row.
    WEBHOOKS_ALLOW_HTTP = False
    WEBHOOKS_ALLOW_PRIVATE = False
    WEBHOOKS_SWITCH_OFF_AFTER = 15
    WEBHOOKS_TIMEOUT_SECONDS = 10

    # Languages (docs/product.md, "Languages"): the interface follows a person's chosen
    # language, else the one the company's identity provider (OIDC_LOCALE_CLAIM) or directory
    # (SCIM's preferredLanguage) gives them, else their browser's Accept-Language, else
    # DEFAULT_LOCALE. LANGUAGES are the ones with a complete catalogue in
    # serviceideas/translations (English is the source).
    DEFAULT_LOCALE = "en"
    LANGUAGES = ("en", "de", "es")
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent / "translations")
    # Times are shown in UTC, as they are stored.
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Off only in the test that checks escaping in a browser without this second fence.
    CONTENT_SECURITY_POLICY = True

    # Lists
    PAGE_SIZE = 25

    # Ideas: an open idea whose status has not changed for this many days is stalled.
    STALLED_AFTER_DAYS = 30


def is_yes(value: str) -> bool:
    """An on/off environment variable: 1, true, yes or on (any case) is on; anything else off."""
    return value.lower() in {"1", "true", "yes", "on"}


def is_on(value: str) -> bool:
    """An on/off setting that defaults to on: off, 0, false or no (any case) turn it off."""
    if value.lower() in {"off", "0", "false", "no"}:
        return False
    if value.lower() in {"on", "1", "true", "yes"}:
        return True
    raise ConfigurationError(f"Expected on or off, not {value!r}.")


def idle_minutes(value: str) -> timedelta:
    """SERVICEIDEAS_IDLE_MINUTES: a whole number of minutes, at least one."""
    minutes = int(value)
    if minutes < 1:
        raise ConfigurationError("SERVICEIDEAS_IDLE_MINUTES must be at least 1.")
    return timedelta(minutes=minutes)


def emails(value: str) -> list[str]:
    """SERVICEIDEAS_BREAK_GLASS_ADMINS: comma-separated e-mail addresses, lower-cased."""
    return [email.strip().lower() for email in value.split(",") if email.strip()]


def role_groups(value: str) -> dict[str, str]:
    """OIDC_ROLE_GROUPS: `admin=serviceideas-admins,manager=managers,trainer=trainers`."""
    mapping: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in value.split(","))):
        role, equals, group = pair.partition("=")
        if not equals or not group.strip():
            raise ConfigurationError(
                f"OIDC_ROLE_GROUPS takes role=group pairs separated by commas, not {pair!r}."
            )
        mapping[role.strip().lower()] = group.strip()
    return mapping


def host_names(value: str) -> list[str]:
    """SERVICEIDEAS_TRUSTED_HOSTS: comma-separated host names (`.example.com`: any subdomain)."""
    return [name.strip().lower() for name in value.split(",") if name.strip()]


# environment variable: (config key, parser)
ENVIRONMENT_SETTINGS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "SERVICEIDEAS_ENV": ("ENV_NAME", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "SERVICEIDEAS_ASSETS": ("SERVICEIDEAS_ASSETS", str),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", is_yes),
    "SERVICEIDEAS_IDLE_MINUTES": ("PERMANENT_SESSION_LIFETIME", idle_minutes),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "SERVICEIDEAS_STALLED_AFTER_DAYS": ("STALLED_AFTER_DAYS", int),
    "SERVICEIDEAS_PROXY_HOPS": ("PROXY_HOPS", int),
    "SERVICEIDEAS_FIGURES_SECONDS": ("FIGURES_CACHE_SECONDS", int),
    "REDIS_URL": ("REDIS_URL", str),
    "SERVICEIDEAS_BASE_URL": ("BASE_URL", str),
    "SERVICEIDEAS_TRUSTED_HOSTS": ("EXTRA_TRUSTED_HOSTS", host_names),
    "OIDC_ISSUER": ("OIDC_ISSUER", str),
    "OIDC_CLIENT_ID": ("OIDC_CLIENT_ID", str),
    "OIDC_CLIENT_SECRET": ("OIDC_CLIENT_SECRET", str),
    "OIDC_PROVIDER_NAME": ("OIDC_PROVIDER_NAME", str),
    "OIDC_SCOPES": ("OIDC_SCOPES", str),
    "OIDC_TRUST_EMAIL": ("OIDC_TRUST_EMAIL", is_yes),
    "OIDC_CREATE_PEOPLE": ("OIDC_CREATE_PEOPLE", is_yes),
    "OIDC_DEPARTMENT_CLAIM": ("OIDC_DEPARTMENT_CLAIM", str),
    "OIDC_LOCALE_CLAIM": ("OIDC_LOCALE_CLAIM", str),
    "SERVICEIDEAS_DEFAULT_DEPARTMENT": ("DEFAULT_DEPARTMENT", str),
    "OIDC_GROUPS_CLAIM": ("OIDC_GROUPS_CLAIM", str),
    "OIDC_ROLE_GROUPS": ("OIDC_ROLE_GROUPS", role_groups),
    "SERVICEIDEAS_SCIM_LOG_DAYS": ("SCIM_LOG_DAYS", int),
    "SERVICEIDEAS_PASSWORD_SIGN_IN": ("PASSWORD_SIGN_IN", is_on),
    "SERVICEIDEAS_BREAK_GLASS_ADMINS": ("PASSWORD_SIGN_IN_ADMINS", emails),
    "SERVICEIDEAS_API_RATE_LIMIT": ("API_RATE_LIMIT", str),
    "SERVICEIDEAS_API_TOKEN_MAX_DAYS": ("API_TOKEN_MAX_DAYS", int),
    "SERVICEIDEAS_WEBHOOKS_ALLOW_HTTP": ("WEBHOOKS_ALLOW_HTTP", is_on),
    "SERVICEIDEAS_WEBHOOKS_ALLOW_PRIVATE": ("WEBHOOKS_ALLOW_PRIVATE", is_on),
    "SERVICEIDEAS_WEBHOOKS_SWITCH_OFF_AFTER": ("WEBHOOKS_SWITCH_OFF_AFTER", int),
    "SERVICEIDEAS_WEBHOOKS_TIMEOUT_SECONDS": ("WEBHOOKS_TIMEOUT_SECONDS", int),
    "SERVICEIDEAS_DEFAULT_LOCALE": ("DEFAULT_LOCALE", str),
    "SMTP_HOST": ("SMTP_HOST", str),
    "SMTP_PORT": ("SMTP_PORT", int),
    "SMTP_SECURITY": ("SMTP_SECURITY", str),
    "SMTP_USER": ("SMTP_USER", str),
    "SMTP_PASSWORD": ("SMTP_PASSWORD", str),
    "MAIL_SENDER": ("MAIL_SENDER", str),
}


# Settings that an empty variable sets (to off) rather than leaves at their default.
EMPTY_MEANS_OFF = frozenset({"OIDC_LOCALE_CLAIM"})


def environment_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings given in the environment, parsed."""
    overrides: dict[str, Any] = {}
    for variable, (key, parse) in ENVIRONMENT_SETTINGS.items():
        if environ.get(variable) or (variable in EMPTY_MEANS_OFF and variable in environ):
            try:
                overrides[key] = parse(environ[variable])
            except (ValueError, ConfigurationError) as error:  # say which setting is wrong
                raise ConfigurationError(f"{variable}: {error}") from None
    if overrides.get("SESSION_COOKIE_SECURE"):
        overrides["REMEMBER_COOKIE_SECURE"] = True
    return overrides


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` and `postgresql://` forms and use psycopg 3 for them.

    SQLAlchemy parses and writes the URL back, so a password's quoted characters stay quoted.
    A URL that names its driver (`postgresql+psycopg2://`) is left as it is.
    """
    parsed = make_url(url)
    if parsed.drivername not in {"postgres", "postgresql"}:
        return url
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


DATABASE_COUNTERS = "database://"
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix", "valkey", "valkeys", "valkey+unix"})
# Seconds a Redis that counts rate limits may take: to connect, then to answer a command. A
# Redis that hangs instead of refusing costs a request no more than this before the limits
# fall back to memory (Flask-Limiter then asks it again only now and then).
RATE_LIMIT_REDIS_TIMEOUTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}


def rate_limit_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Where Flask-Limiter keeps its counters, settled from the other settings.

    RATELIMIT_STORAGE_URI given (instance config or environment) wins; else Redis at REDIS_URL
    when that is set; else the app's database. A Redis gets timeouts unless its options name
    them, and every storage but the database gets the in-memory fallback unless
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED says otherwise.
    """
    uri = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or DATABASE_COUNTERS
    scheme = uri.partition("://")[0]
    options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {})
    if scheme in REDIS_SCHEMES:
        options = {**RATE_LIMIT_REDIS_TIMEOUTS, **options}
    fallback = config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED")
    return {
        "RATELIMIT_STORAGE_URI": uri,
        "RATELIMIT_STORAGE_OPTIONS": options,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": (
            uri != DATABASE_COUNTERS if fallback is None else bool(fallback)
        ),
    }


class ConfigurationError(RuntimeError):
    """The app cannot start safely with these settings."""


LOCAL_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(config: Mapping[str, Any]) -> list[str]:
    """The host names the app answers for: BASE_URL's host and SERVICEIDEAS_TRUSTED_HOSTS.

    Development and tests also answer for localhost and 127.0.0.1 (the test client asks for
    `localhost`, the browser tests for 127.0.0.1), and so does a server whose BASE_URL is left
    at its local default. An ALLOWED_HOSTS given outright (instance config) is kept as it is.
    """
    if config.get("ALLOWED_HOSTS") is not None:
        return list(config["ALLOWED_HOSTS"])
    base_host = urlsplit(str(config["BASE_URL"])).hostname or ""
    hosts = [base_host, *config.get("EXTRA_TRUSTED_HOSTS", [])]
    relaxed = config["ENV_NAME"] in {"development", "testing"} or config.get("TESTING")
    if relaxed or base_host in LOCAL_HOSTS:
        hosts.extend(LOCAL_HOSTS)
    return list(dict.fromkeys(host for host in hosts if host))


def check(config: dict[str, Any]) -> None:
    """Refuse settings that would be unsafe or meaningless, before anything is served."""
    if config["SERVICEIDEAS_ASSETS"] not in ASSET_SOURCES:
        raise ConfigurationError(
            f"SERVICEIDEAS_ASSETS must be one of {', '.join(ASSET_SOURCES)}, "
            f"not {config['SERVICEIDEAS_ASSETS']!r}."
        )
    if config["SMTP_SECURITY"] not in {"starttls", "ssl", "none"}:
        raise ConfigurationError("SMTP_SECURITY must be starttls, ssl or none.")
    base_url = urlsplit(str(config["BASE_URL"]))
    if base_url.scheme not in {"http", "https"} or not base_url.hostname:
        raise ConfigurationError(
            "SERVICEIDEAS_BASE_URL must be the address people reach the app at, with its "
            f"scheme and host, for example https://ideas.example.com, not {config['BASE_URL']!r}."
        )
    if config["DEFAULT_LOCALE"] not in config["LANGUAGES"]:
        raise ConfigurationError(
            f"SERVICEIDEAS_DEFAULT_LOCALE must be one of {', '.join(config['LANGUAGES'])}, "
            f"not {config['DEFAULT_LOCALE']!r}."
        )
    relaxed = config["ENV_NAME"] in {"development", "testing"} or config.get("TESTING")
    check_company_sign_in(config, relaxed=bool(relaxed))
    if not relaxed and (config.get("SECRET_KEY") or "") in KNOWN_DEFAULT_SECRETS:
        raise ConfigurationError(
            "SECRET_KEY is missing or a known default. Set SECRET_KEY to a long random value, "
            'for example: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )


OIDC_ROLES = ("trainer", "manager", "admin")


def check_company_sign_in(config: Mapping[str, Any], *, relaxed: bool) -> None:
    """OpenID Connect needs its client's id and secret, and an https issuer outside
    development and tests; password sign-in may be turned off only when people have another
    way in."""
    issuer = config.get("OIDC_ISSUER")
    if issuer:
        if not (config.get("OIDC_CLIENT_ID") and config.get("OIDC_CLIENT_SECRET")):
            raise ConfigurationError(
                "OIDC_ISSUER is set: set OIDC_CLIENT_ID and OIDC_CLIENT_SECRET too, as "
                "registered at the provider."
            )
        scheme = urlsplit(str(issuer)).scheme
        if scheme != "https" and not (relaxed and scheme == "http"):
            raise ConfigurationError(f"OIDC_ISSUER must be an https address, not {issuer!r}.")
        if "openid" not in str(config.get("OIDC_SCOPES", "")).split():
            raise ConfigurationError("OIDC_SCOPES must include openid.")
    unknown = set(config.get("OIDC_ROLE_GROUPS") or {}) - set(OIDC_ROLES)
    if unknown:
        raise ConfigurationError(
            f"OIDC_ROLE_GROUPS names {', '.join(sorted(unknown))}: use trainer, manager or admin."
        )
    if config.get("OIDC_ROLE_GROUPS") and not config.get("OIDC_GROUPS_CLAIM"):
        raise ConfigurationError("OIDC_ROLE_GROUPS needs OIDC_GROUPS_CLAIM, the claim to read.")
    if not config.get("PASSWORD_SIGN_IN", True) and not issuer:
        raise ConfigurationError(
            "SERVICEIDEAS_PASSWORD_SIGN_IN=off leaves nobody a way in without OIDC_ISSUER."
        )
