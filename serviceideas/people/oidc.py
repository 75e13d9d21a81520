"""Company sign-in with OpenID Connect: Authlib's client for the identity provider, and the
rules that turn what the provider vouches for into a signed-in person (docs/product.md, "Who
may sign in, and how"; docs/architecture.md, "Company sign-in (OpenID Connect)").

Authlib does the protocol: discovery, the authorization code flow with PKCE (S256), `state`
and `nonce`, and the ID token's signature, issuer, audience and expiry. This module decides who
the person is. Its services flush, never commit.
"""

from __future__ import annotations

import hashlib
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import sqlalchemy as sa
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Flask, current_app, session
from flask_babel import gettext
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from serviceideas.errors import RuleViolation
from serviceideas.extensions import db, limiter
from serviceideas.i18n import supported_language
from serviceideas.names import refused_if_taken
from serviceideas.people import services
from serviceideas.people.models import NAME_MAX, Role, RoleChangeSource, User
from serviceideas.text import one_line
from serviceideas.urls import absolute

T = TypeVar("T")

CLIENT_NAME = "oidc"
AUTHLIB = "authlib.integrations.flask_client"  # where Authlib's OAuth registry sits on the app
# People come back here, and only here: the one redirect URI registered at the provider, built
# from BASE_URL, never from the request's Host header.
CALLBACK_PATH = "/login/oidc/callback"
AFTER_SIGN_OUT_PATH = "/login"
# Seconds the provider may take to answer (discovery, its keys, the token): a provider that
# hangs costs a sign-in this long at most, then a clear page.
PROVIDER_TIMEOUT = 10

# The session is a signed cookie (4 KB at most in browsers). Authlib keeps each pending
# sign-in's state, nonce and PKCE verifier in it (under "_state_oidc_<state>") until the person
# comes back: a few tabs' worth are kept, the oldest forgotten.
PENDING_SIGN_INS_KEPT = 3
PENDING_PREFIX = f"_state_{CLIENT_NAME}_"
# Signed in through the provider in this session: the ID token, kept for the sign-out's
# `id_token_hint` when it is short enough for the cookie, else "" (the sign-out then names
# the client instead).
SIGNED_IN_KEY = "oidc_id_token"
ID_TOKEN_KEPT_UP_TO = 2000
NEXT_KEY = "oidc_next"  # where to go once signed in (a path on this site, checked)


def init_app(app: Flask) -> None:
    """Register the provider with Authlib when OIDC_ISSUER is set. Nothing is fetched here:
    the provider's discovery document is read at the first sign-in, so the app starts while
    the provider is down. Templates ask policies.company_sign_in_name whether it is on."""
    issuer = app.config.get("OIDC_ISSUER")
    if not issuer:
        return
    OAuth(app).register(
        CLIENT_NAME,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=str(issuer).rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT,
        },
    )


def provider() -> FlaskOAuth2App | None:
    """The app's client of the identity provider; None when company sign-in is off."""
    oauth = current_app.extensions.get(AUTHLIB)
    return None if oauth is None else oauth.create_client(CLIENT_NAME)


# Talking to the provider


class ProviderTrouble(Exception):
    """The provider did not answer (503), or answered in a way that cannot be used (502)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SignInFailed(Exception):
    """The sign-in itself is refused (400): a state unknown or used already, the person
    cancelling at the provider, a code or ID token that does not check out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _provider_name() -> str:
    return str(current_app.config["OIDC_PROVIDER_NAME"])


def _calling_provider(client: FlaskOAuth2App, action: Callable[[], T]) -> T:
    """Run `action`, which talks to the provider, with its discovery document checked first;
    turn the provider's faults into ProviderTrouble and protocol errors into SignInFailed."""
    name = _provider_name()
    try:
        issuer = client.load_server_metadata().get("issuer")
        if str(issuer or "").rstrip("/") != str(current_app.config["OIDC_ISSUER"]).rstrip("/"):
            current_app.logger.error("OIDC discovery names the issuer %r, not OIDC_ISSUER", issuer)
            raise ProviderTrouble(
                502,
                gettext(
                    "%(provider)s describes itself as another issuer than the one configured.",
                    provider=name,
                ),
            )
        return action()
    except (requests.ConnectionError, requests.Timeout) as error:
        current_app.logger.warning("OIDC provider did not answer: %s", error)
        raise ProviderTrouble(
            503,
            gettext(
                "%(provider)s does not answer just now. Try again in a few minutes.",
                provider=name,
            ),
        ) from None
    except (AuthlibBaseError, JoseError) as error:
        current_app.logger.info("OIDC sign-in refused: %r", error)
        raise SignInFailed(_why_refused(error)) from None
    except (requests.RequestException, ValueError, RuntimeError, KeyError) as error:
        # An HTTP error status, a body that is not JSON, discovery without a needed endpoint.
        current_app.logger.warning("OIDC provider answered unusably: %r", error)
        raise ProviderTrouble(
            502,
            gettext(
                "%(provider)s answered in a way this app could not use. Try again later.",
                provider=name,
            ),
        ) from None


def _why_refused(error: AuthlibBaseError | JoseError) -> str:
    name = _provider_name()
    code = error.error
    if code == "mismatching_state":
        return gettext(
            "That sign-in with %(provider)s has expired or was already used. "
            "Start again with the button below.",
            provider=name,
        )
    if code == "access_denied":
        return gettext(
            "%(provider)s did not sign you in. Start again with the button below if you meant to.",
            provider=name,
        )
    return gettext(
        "Signing in with %(provider)s did not work: its answer did not check out. Try again.",
        provider=name,
    )


def begin_sign_in(client: FlaskOAuth2App) -> str:
    """The provider's sign-in address for this person, with the pending sign-in (state,
    nonce, PKCE verifier) kept in their session by Authlib. Kept without the address itself,
    which Authlib would keep too: the cookie stays small."""
    redirect_uri = absolute(CALLBACK_PATH)
    found = _calling_provider(client, lambda: client.create_authorization_url(redirect_uri))
    pending = sorted(
        (key for key in session if key.startswith(PENDING_PREFIX)),
        key=lambda key: session[key].get("exp", 0) if isinstance(session[key], dict) else 0,
    )
    for key in pending[: max(0, len(pending) - PENDING_SIGN_INS_KEPT + 1)]:
        session.pop(key)
    client.save_authorize_data(
        redirect_uri=redirect_uri,
        state=found["state"],
        nonce=found["nonce"],
        code_verifier=found["code_verifier"],
    )
    return found["url"]


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """What the provider vouched for at the callback: the ID token's claims (with any the
    userinfo endpoint adds) and the ID token itself."""

    claims: Mapping[str, Any]
    id_token: str


def finish_sign_in(client: FlaskOAuth2App) -> ProviderAnswer:
    """Exchange the code in this request for tokens (Authlib checks state, PKCE, and the ID
    token's signature, issuer, audience, expiry and nonce) and read the person's claims."""

    def exchange() -> ProviderAnswer:
        token = client.authorize_access_token()
        claims = token.get("userinfo")
        if not claims or not token.get("id_token"):
            raise ValueError("the token response has no ID token")
        return ProviderAnswer(
            merged_claims(claims, _userinfo(client, token, claims)), token["id_token"]
        )

    return _calling_provider(client, exchange)


EMAIL_CLAIMS = ("email", "email_verified")


def merged_claims(id_token: Mapping[str, Any], userinfo: Mapping[str, Any]) -> dict[str, Any]:
    """The ID token's claims, with those only the userinfo endpoint sent added. `email` and
    `email_verified` come together, from the ID token when it has an e-mail, else from the
    userinfo: one source's `email_verified` never vouches for the other's address."""
    merged = {**userinfo, **id_token}
    source = id_token if id_token.get("email") else userinfo
    for claim in EMAIL_CLAIMS:
        merged.pop(claim, None)
        if claim in source:
            merged[claim] = source[claim]
    return merged


def _userinfo(
    client: FlaskOAuth2App, token: dict[str, Any], claims: Mapping[str, Any]
) -> Mapping[str, Any]:
    """The userinfo endpoint's claims, for those the ID token leaves out (some providers keep
    the ID token thin). Ignored unless it names the same subject."""
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return {}
    info = client.userinfo(token=token)
    if info.get("sub") != claims.get("sub"):
        current_app.logger.warning("OIDC userinfo names another subject: ignored")
        return {}
    return info


def remember_sign_in(id_token: str) -> None:
    """Note in the new session that the person signed in through the provider."""
    session[SIGNED_IN_KEY] = id_token if len(id_token) <= ID_TOKEN_KEPT_UP_TO else ""


def end_session_url() -> str | None:
    """Where to send a person signing out so the provider signs them out too (RP-initiated
    logout), coming back to the sign-in page; None when they did not sign in through the
    provider in this session, the provider offers no end-session endpoint, or it cannot be
    asked just now. Read before the session is cleared."""
    if SIGNED_IN_KEY not in session:
        return None
    client = provider()
    if client is None:
        return None
    id_token = session[SIGNED_IN_KEY] or None
    try:
        if not client.load_server_metadata().get("end_session_endpoint"):
            return None
        found = client.create_logout_url(
            post_logout_redirect_uri=absolute(AFTER_SIGN_OUT_PATH),
            id_token_hint=id_token,
            client_id=client.client_id,
        )
    except (requests.RequestException, ValueError, RuntimeError) as error:
        current_app.logger.warning("OIDC end-session endpoint unknown: %r", error)
        return None
    return found["url"]


# The provider signs people out here too (OpenID Connect Back-Channel Logout 1.0): when a
# person signs out at the provider, or an admin there ends their sessions, it POSTs a signed
# logout token here.

BACKCHANNEL_LOGOUT_PATH = "/login/oidc/backchannel-logout"
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_LEEWAY = 120  # seconds the provider's clock may differ from ours
# A logout token is taken within this many seconds of being issued, and only once: its `jti`
# is remembered this long (plus the leeway) where the rate limits' counters live.
LOGOUT_TOKEN_MAX_AGE = 600


class LogoutRefused(Exception):
    """A logout token that does not check out (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def logout_subject(client: FlaskOAuth2App, logout_token: str) -> str:
    """The provider's subject whose sessions this logout token ends, once it checks out:
    signed with one of the provider's published keys, from OIDC_ISSUER, for this client,
    issued lately, a back-channel logout event, naming a subject, without a nonce, and not
    seen before. LogoutRefused when it does not; ProviderTrouble when the provider's keys
    cannot be had."""
    if not logout_token:
        raise LogoutRefused("The request has no logout_token.")
    return _calling_provider(client, lambda: _checked_logout_token(client, logout_token))


def _checked_logout_token(client: FlaskOAuth2App, logout_token: str) -> str:
    metadata = client.load_server_metadata()
    issuer = str(metadata.get("issuer"))  # OIDC_ISSUER, as _calling_provider checked
    algorithms = [
        str(alg) for alg in metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    ]
    registry = JWSRegistry(
        algorithms=[alg for alg in algorithms if alg != "none"], strict_check_header=False
    )
    try:
        try:
            token = jwt.decode(logout_token, _provider_keys(client), registry=registry)
        except InvalidKeyIdError:  # the provider may have a new key since it was last read
            token = jwt.decode(logout_token, _provider_keys(client, fresh=True), registry=registry)
        jwt.JWTClaimsRegistry(
            leeway=LOGOUT_TOKEN_LEEWAY,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": str(client.client_id)},
            iat={"essential": True},
            jti={"essential": True},
        ).validate(token.claims)
    except JoseError as error:
        current_app.logger.info("OIDC logout token refused: %r", error)
        raise LogoutRefused(
            f"The logout token does not check out ({error.description or error.error})."
        ) from None
    claims = token.claims
    events = claims.get("events")
    if not isinstance(events, dict) or LOGOUT_EVENT not in events:
        raise LogoutRefused(f"The logout token has no {LOGOUT_EVENT} event.")
    if "nonce" in claims:
        raise LogoutRefused("A logout token must not have a nonce.")
    if claims["iat"] < time.time() - LOGOUT_TOKEN_MAX_AGE - LOGOUT_TOKEN_LEEWAY:
        raise LogoutRefused("The logout token was issued too long ago.")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        # Sessions here are ended by person, and the provider's session ids (sid) are not kept.
        raise LogoutRefused("The logout token names no subject (sub); this app needs one.")
    if not _first_use(issuer, str(claims["jti"])):
        raise LogoutRefused("This logout token was used already.")
    return subject


def _provider_keys(client: FlaskOAuth2App, fresh: bool = False) -> KeySet:
    """The provider's published signing keys (its jwks_uri), kept by Authlib's client."""
    found = client.fetch_jwk_set(force=fresh)
    try:
        return KeySet.import_key_set(found)
    except (JoseError, ValueError, KeyError, TypeError) as error:
        current_app.logger.warning("OIDC provider's keys are unusable: %r", error)
        raise ProviderTrouble(
            502,
            gettext(
                "%(provider)s publishes signing keys this app cannot use.",
                provider=_provider_name(),
            ),
        ) from None


def _first_use(issuer: str, jti: str) -> bool:
    """Whether this logout token's `jti` is new, remembering it in the rate limits' storage
    (the database, or Redis), which every worker and server shares. Should that storage
    fail, the token is taken: ending a person's sessions twice does no harm."""
    digest = hashlib.sha256(f"{issuer}\0{jti}".encode()).hexdigest()
    try:
        uses = limiter.storage.incr(
            f"oidc-logout-token/{digest}", LOGOUT_TOKEN_MAX_AGE + 2 * LOGOUT_TOKEN_LEEWAY
        )
    except Exception as error:  # whatever the storage raises; see above
        current_app.logger.warning("OIDC logout token's jti not remembered: %r", error)
        return True
    return uses == 1


def sign_out_subject(subject: str) -> User | None:
    """End every session of the person the provider knows by this subject, on every device
    (services.sign_out); None when nobody here has it (nothing to do)."""
    person = person_with_subject(subject)
    if person is not None:
        services.sign_out(person)
    return person


# Who the person is


@dataclass(frozen=True, slots=True)
class Identity:
    """What the provider vouches for about the person signing in."""

    subject: str
    email: str | None  # lower-cased; None when the provider sent none
    email_verified: bool  # the provider confirmed the address (or OIDC_TRUST_EMAIL)
    name: str
    department: str | None
    groups: frozenset[str] | None  # case-folded; None: roles are managed in the app
    # The language the provider gives (OIDC_LOCALE_CLAIM), as one the app speaks, else None;
    # `gives_language` is False when the claim is off or absent: the stored one is kept.
    language: str | None = None
    gives_language: bool = False

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], config: Mapping[str, Any]) -> Identity:
        email = _address(claims.get("email"))
        verified = claims.get("email_verified")
        said_no = verified is False or str(verified).lower() == "false"
        confirmed = verified is True or str(verified).lower() == "true"
        given = " ".join(
            part for part in (_text(claims.get(k)) for k in ("given_name", "family_name")) if part
        )
        name = next(
            (
                one_line(candidate)
                for candidate in (_text(claims.get("name")), given, email)
                if one_line(candidate)
            ),
            str(claims["sub"]),
        )
        groups_claim = config.get("OIDC_GROUPS_CLAIM")
        locale_claim = str(config.get("OIDC_LOCALE_CLAIM") or "")
        gives_language = bool(locale_claim) and claims.get(locale_claim) is not None
        return cls(
            subject=str(claims["sub"]),
            email=email.lower() if email else None,
            email_verified=bool(email)
            and (confirmed or (bool(config.get("OIDC_TRUST_EMAIL")) and not said_no)),
            name=name[:NAME_MAX],
            department=_text(claims.get(str(config.get("OIDC_DEPARTMENT_CLAIM") or ""))),
            groups=None if not groups_claim else _groups(claims.get(str(groups_claim))),
            language=supported_language(claims.get(locale_claim)) if gives_language else None,
            gives_language=gives_language,
        )


def _text(value: Any) -> str | None:
    """A claim as one string: the first of a list, without control characters (NUL, which
    PostgreSQL cannot store, and the others no page shows; a tab or a line break becomes a
    space); None when empty or not text."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str | int):
        return None
    text = "".join(
        (" " if character.isspace() else "") if _is_control(character) else character
        for character in str(value)
    ).strip()
    return text or None


def _address(value: Any) -> str | None:
    """The `email` claim; None (no address shared) when it holds a control character, which
    no e-mail address does: dropping it would make another address."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, str) and has_control_characters(value):
        current_app.logger.warning("OIDC email claim with control characters: ignored")
        return None
    return _text(value)


def _is_control(character: str) -> bool:
    return unicodedata.category(character) == "Cc"


def has_control_characters(text: str) -> bool:
    """Whether `text` holds NUL, a line break or another control character (Unicode Cc)."""
    return any(_is_control(character) for character in text)


def _groups(value: Any) -> frozenset[str]:
    """The groups claim: a list (or one name); missing means no groups (the provider wins)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return frozenset()
    return frozenset(str(group).casefold() for group in value if str(group).strip())


@dataclass(frozen=True, slots=True)
class Rules:
    """The settings that decide who may come in (config.py, "Company sign-in")."""

    provider_name: str
    create_people: bool
    role_groups: Mapping[str, str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Rules:
        return cls(
            provider_name=str(config["OIDC_PROVIDER_NAME"]),
            create_people=bool(config.get("OIDC_CREATE_PEOPLE")),
            role_groups=dict(config.get("OIDC_ROLE_GROUPS") or {}),
        )

    def roles_for(self, groups: frozenset[str]) -> set[Role]:
        return {
            Role(role) for role, group in self.role_groups.items() if group.casefold() in groups
        }


def person_with_subject(subject: str) -> User | None:
    # Nobody has such a subject (person_signing_in refuses to store one), and PostgreSQL
    # cannot even compare text holding NUL: a back-channel logout token may name one.
    if has_control_characters(subject):
        return None
    return db.session.scalar(sa.select(User).where(User.oidc_subject == subject))


def person_signing_in(identity: Identity, rules: Rules) -> User:
    """The active person this identity is, linked to it, with their roles from the groups
    claim when the provider decides roles; created first when unknown and allowed. Refused
    (RuleViolation) otherwise: nothing is written then.

    The rules (docs/product.md, "Who may sign in, and how"):
    - a person whose stored subject is this one is them; their e-mail follows a verified
      change at the provider when the new address is free;
    - else the person with this verified e-mail, if no other subject is stored for them
      (an address given to someone new must not open the old holder's account);
    - deactivated people are refused, whatever the provider says.
    """
    if has_control_characters(identity.subject):
        raise RuleViolation(
            gettext(
                "%(provider)s sent an identifier this app cannot store for you (its subject has "
                "control characters). Ask an administrator.",
                provider=rules.provider_name,
            )
        )
    person = person_with_subject(identity.subject)
    if person is None:
        person = _person_by_email(identity, rules)
    if person is None:
        return _new_person(identity, rules)
    if not person.is_active:
        raise RuleViolation(
            gettext("This account has been deactivated. Ask an administrator if you need it back.")
        )
    if person.oidc_subject is None:
        with refused_if_taken(gettext("This account is linked to someone else."), "email"):
            person.oidc_subject = identity.subject
            db.session.flush()
    _follow_email(person, identity)
    _take_language(person, identity)
    if identity.groups is not None:
        _take_roles(person, rules.roles_for(identity.groups))
    return person


def _person_by_email(identity: Identity, rules: Rules) -> User | None:
    if identity.email is None:
        raise RuleViolation(
            gettext(
                "%(provider)s did not share your e-mail address, which this app needs to find "
                "your account. Ask an administrator.",
                provider=rules.provider_name,
            )
        )
    if not identity.email_verified:
        raise RuleViolation(
            gettext(
                "%(provider)s has not confirmed that %(email)s is your address, so it cannot be "
                "matched to an account here. Ask an administrator.",
                provider=rules.provider_name,
                email=identity.email,
            )
        )
    person = services.find_user(identity.email)
    if person is not None and person.oidc_subject is not None:
        raise RuleViolation(
            gettext(
                "The account for %(email)s here belongs to another %(provider)s account. Ask an "
                "administrator.",
                email=identity.email,
                provider=rules.provider_name,
            )
        )
    return person


def _follow_email(person: User, identity: Identity) -> None:
    """A verified new address at the provider becomes theirs here, when nobody has it."""
    if not identity.email_verified or identity.email in (None, person.email):
        return
    try:
        email = services.check_email(identity.email)
        if services.find_user(email) is None:
            with refused_if_taken(
                gettext("Someone with this email address already exists."), "email"
            ):
                person.email = email
                db.session.flush()
    except RuleViolation:
        current_app.logger.info("Kept %s's e-mail: the provider's new one is taken", person.id)


def _take_language(person: User, identity: Identity) -> None:
    """The provider's language becomes the one the directory gives the person (their own
    choice still comes first: docs/product.md, "Languages"); a sign-in without the claim
    leaves what was given before."""
    if identity.gives_language and person.directory_locale != identity.language:
        person.directory_locale = identity.language
        db.session.flush()


def _take_roles(person: User, roles: set[Role]) -> None:
    """The provider decides roles (OIDC_GROUPS_CLAIM): recorded and announced as any change."""
    if roles == set(person.granted_roles):
        return
    services.update_user(
        person,
        name=person.name,
        department=person.department,
        roles=roles,
        acting=None,
        source=RoleChangeSource.IDENTITY_PROVIDER,
    )


def _new_person(identity: Identity, rules: Rules) -> User:
    if not rules.create_people:
        raise RuleViolation(
            gettext(
                "There is no account here for %(email)s yet. Ask an administrator to add you.",
                email=identity.email,
            )
        )
    department = services.department_or_default(identity.department)
    if department is None:
        if identity.department:
            refused = gettext(
                "Your account cannot be made: %(provider)s names no department this app knows "
                "(%(department)s), and no default department is set. Ask an administrator to "
                "set one.",
                provider=rules.provider_name,
                department=identity.department,
            )
        else:
            refused = gettext(
                "Your account cannot be made: %(provider)s names no department this app knows, "
                "and no default department is set. Ask an administrator to set one.",
                provider=rules.provider_name,
            )
        raise RuleViolation(refused)
    person = services.create_user(
        email=identity.email or "",
        name=identity.name,
        department=department,
        roles=rules.roles_for(identity.groups) if identity.groups is not None else (),
        acting=None,
        source=RoleChangeSource.IDENTITY_PROVIDER,
    )
    with refused_if_taken(gettext("This account is linked to someone else."), "email"):
        person.oidc_subject = identity.subject
        db.session.flush()
    _take_language(person, identity)
    return person
