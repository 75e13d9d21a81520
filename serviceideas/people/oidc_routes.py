"""Signing in with the company's identity provider (OpenID Connect): off to the provider, and
back (docs/architecture.md, "Company sign-in (OpenID Connect)")."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from serviceideas import database
from serviceideas.extensions import csrf, limiter
from serviceideas.i18n import browser_language
from serviceideas.people import oidc, services
from serviceideas.people.forms import LoginForm
from serviceideas.people.routes import login_page
from serviceideas.urls import safe_next
from serviceideas.writes import commit_or_refuse

bp = Blueprint("oidc", __name__)


def _failed(response: Response) -> bool:
    return response.status_code >= 400


def _sign_in_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _company_sign_in_off() -> bool:
    return oidc.provider() is None  # then every view here is a 404, and nothing is counted


@bp.get("/login/oidc")
@limiter.limit(_sign_in_limit, deduct_when=_failed, exempt_when=_company_sign_in_off)
def sign_in() -> Response | tuple[str, int]:
    """Off to the provider, remembering where the person was going."""
    client = oidc.provider()
    if client is None:
        abort(404)
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("home.index"))
    try:
        address = oidc.begin_sign_in(client)
    except oidc.ProviderTrouble as trouble:
        return _refused(trouble.message, trouble.status, next_url)
    if next_url:
        session[oidc.NEXT_KEY] = next_url
    else:
        session.pop(oidc.NEXT_KEY, None)
    return redirect(address)


@bp.get(oidc.CALLBACK_PATH)
@limiter.limit(_sign_in_limit, deduct_when=_failed, exempt_when=_company_sign_in_off)
def callback() -> Response | tuple[str, int]:
    """Back from the provider: the code exchanged and checked, the person found (or made),
    and signed in as password sign-in does (people/routes.py, `login`)."""
    client = oidc.provider()
    if client is None:
        abort(404)
    next_url = safe_next(session.get(oidc.NEXT_KEY))
    try:
        answer = oidc.finish_sign_in(client)
    except oidc.ProviderTrouble as trouble:
        return _refused(trouble.message, trouble.status, next_url)
    except oidc.SignInFailed as failure:
        return _refused(failure.message, 400, next_url)
    identity = oidc.Identity.from_claims(answer.claims, current_app.config)
    rules = oidc.Rules.from_config(current_app.config)
    with _writing_after_sign_in():
        outcome = commit_or_refuse(
            lambda: services.note_browser_language(
                oidc.person_signing_in(identity, rules), browser_language()
            ),
            flash_refusal=False,
        )
    if outcome.refusal is not None:
        return _refused(outcome.refusal.message, 403, next_url)

    session.clear()  # a fresh session at sign-in: nothing from before carries over
    session.permanent = True  # it ends after PERMANENT_SESSION_LIFETIME unused (config.py)
    login_user(outcome.kept)
    oidc.remember_sign_in(answer.id_token)
    return redirect(next_url or url_for("home.index"), code=303)


@bp.post(oidc.BACKCHANNEL_LOGOUT_PATH)
@csrf.exempt  # the provider's signature on the logout token is the proof, not a cookie
@limiter.limit(_sign_in_limit, deduct_when=_failed, exempt_when=_company_sign_in_off)
def backchannel_logout() -> Response | tuple[Response, int]:
    """The provider signs the person out here too (docs/architecture.md, "Back-channel
    logout"): every session of the person its logout token names ends at once. 200 also
    when nobody here has that subject; a token that does not check out is a 400 (OpenID
    Connect Back-Channel Logout 1.0 answers), the provider's keys out of reach a 503 or 502."""
    client = oidc.provider()
    if client is None:
        abort(404)
    try:
        subject = oidc.logout_subject(client, request.form.get("logout_token", ""))
    except oidc.LogoutRefused as refusal:
        return _logout_answer("invalid_request", refusal.message), 400
    except oidc.ProviderTrouble as trouble:
        return _logout_answer("temporarily_unavailable", trouble.message), trouble.status
    commit_or_refuse(lambda: oidc.sign_out_subject(subject), flash_refusal=False)
    return _logout_answer()


def _logout_answer(error: str | None = None, description: str = "") -> Response:
    answer = jsonify({"error": error, "error_description": description} if error else {})
    answer.headers["Cache-Control"] = "no-store"
    return answer


@contextmanager
def _writing_after_sign_in() -> Iterator[None]:
    """The one GET that writes (docs/architecture.md, "Company sign-in (OpenID Connect)"):
    the provider sends people back with a GET, and their first sign-in links or makes their
    account. Only a request carrying a code the provider has just issued for the state in
    this very session gets here, once, so no prefetch or reload can write. Its writes run as
    a POST's do: in a transaction (on PostgreSQL GETs read without one) that takes SQLite's
    write lock up front."""
    g.pop("reads_without_transaction", None)  # before this request's first statement
    with database.writing():
        yield


def _refused(message: str, status: int, next_url: str | None) -> tuple[str, int]:
    """The sign-in page, saying why; nobody is signed in."""
    flash(message, "error")
    return login_page(LoginForm(next=next_url)), status
