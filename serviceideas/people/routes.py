"""Signing in and out, and setting a password from a one-time link."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from serviceideas.errors import RuleViolation
from serviceideas.extensions import limiter
from serviceideas.i18n import browser_language
from serviceideas.people import oidc, services
from serviceideas.people.forms import LoginForm, SetPasswordForm
from serviceideas.people.models import normalise_email
from serviceideas.people.policies import (
    company_sign_in_name,
    may_sign_in_with_password,
    password_sign_in_is_on,
)
from serviceideas.urls import safe_next
from serviceideas.writes import commit_or_refuse, show_refusal

bp = Blueprint("auth", __name__)
JUST_SIGNED_OUT = "just_signed_out"  # for the sign-in page shown next, once


def wrong_password() -> RuleViolation:
    return RuleViolation(gettext("That email and password do not match an account."), "password")


def deactivated() -> RuleViolation:
    return RuleViolation(
        gettext("This account has been deactivated. Ask an administrator if you need it back."),
        "email",
    )


def for_break_glass_admins_only() -> RuleViolation:
    """Password sign-in is off and this e-mail and password are not a break-glass admin's: said
    the same way whoever asks, after the same password check, so neither the words, the status
    nor the time taken tells which addresses are theirs (docs/product.md, "Password sign-in and
    break-glass admins")."""
    provider = company_sign_in_name()
    if provider:
        refused = gettext(
            "That e-mail address and password do not match the account of a named "
            "administrator: password sign-in is for them only. Sign in with %(provider)s.",
            provider=provider,
        )
    else:
        refused = gettext(
            "That e-mail address and password do not match the account of a named "
            "administrator: password sign-in is for them only. Sign in with your company "
            "account."
        )
    return RuleViolation(refused, "email")


def _failed_sign_in(response: Response) -> bool:
    return response.status_code != 303


def _submitted_email() -> str:
    return "login:" + normalise_email(request.form.get("email", ""))[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"], deduct_when=_failed_sign_in
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_submitted_email,
    deduct_when=_failed_sign_in,
)
def login() -> Response | tuple[str, int] | str:
    form = LoginForm(next=request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(form.next.data) or url_for("home.index"))
    if not form.validate_on_submit():
        return login_page(form), 422 if form.errors else 200

    # authenticate compares the password once whoever asks (a stand-in hash for an unknown
    # address), so every refusal below takes the same time.
    user = services.authenticate(form.email.data or "", form.password.data or "")
    if not password_sign_in_is_on() and not may_sign_in_with_password(user):
        # Off: one answer for a wrong password, an address not listed, not an admin's,
        # deactivated or unknown.
        show_refusal(form, for_break_glass_admins_only(), None)
        return login_page(form), 403
    if user is None:
        show_refusal(form, wrong_password(), None)
        return login_page(form), 422
    if not user.is_active:
        show_refusal(form, deactivated(), None)
        return login_page(form), 403

    # What is written to them away from their requests follows this browser until they choose.
    commit_or_refuse(lambda: services.note_browser_language(user, browser_language()))
    session.clear()  # a fresh session at sign-in: nothing from before carries over
    session.permanent = True  # it ends after PERMANENT_SESSION_LIFETIME unused (config.py)
    login_user(user, remember=form.remember.data)
    # No "Welcome" here: the home page says "Hello, …" and every page names them in its header.
    return redirect(safe_next(form.next.data) or url_for("home.index"), code=303)


def login_page(form: LoginForm) -> str:
    """The sign-in page. With password sign-in off it offers the provider, and the password form
    only to whoever asks for it (`?with=password`, the break-glass admins' link) or has just
    sent it."""
    password_form = (
        password_sign_in_is_on()
        or request.method == "POST"
        or request.args.get("with") == "password"
    )
    # "with" is a Python keyword, hence the dict: /login?with=password.
    asking: dict[str, Any] = {"with": "password", "next": form.next.data or None}
    break_glass_link = url_for("auth.login", **asking)
    # Text a form kept in the browser when the session had ended was not sent: this page keeps
    # it, unless it is the page after Sign out, which forgets it (a shared computer;
    # docs/architecture.md, "Text typed when the session ends").
    signed_out = request.method == "GET" and session.pop(JUST_SIGNED_OUT, False)
    return render_template(
        "people/login.html",
        form=form,
        password_form=password_form,
        break_glass_link=break_glass_link,
        kept_typing="forget-all" if signed_out else "not-sent",
    )


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    """Sign out everywhere: the person's session token changes, so every session and
    remember-me cookie of theirs ends, on every device (SECURITY.md, "Sessions"). That is a
    write, and a GET never writes: a typed or bookmarked /logout shows the one button that
    does it."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"), code=303)
    if request.method == "GET":
        return render_template("people/logout.html")
    user = current_user._get_current_object()
    commit_or_refuse(lambda: services.sign_out(user))
    # Signed in through the company's provider: sign out there too (read before the session,
    # which says so, is cleared), coming back to the sign-in page.
    at_provider = oidc.end_session_url()
    logout_user()
    session.clear()
    return signed_out(
        gettext("You are signed out. That signs you out on every device."), to=at_provider
    )


def signed_out(message: str, to: str | None = None) -> Response:
    """The answer to Sign out: `message`, then the sign-in page (or `to`, which comes back to
    it), which this time forgets the text kept in the browser's tab (a shared computer;
    docs/architecture.md, "Text typed when the session ends")."""
    session[JUST_SIGNED_OUT] = True
    flash(message, "info")
    return redirect(to or url_for("auth.login"), code=303)


@bp.route("/password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def set_password(token: str) -> Response | tuple[str, int] | str:
    user = services.user_for_password_token(token)
    if user is None or not may_sign_in_with_password(user):  # off: break-glass admins only
        return render_template("people/password_link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit() and commit_or_refuse(
        lambda: services.set_password(user, form.password.data or ""), form=form, field="password"
    ):
        logout_user()
        session.clear()
        flash(gettext("Your password is set. Sign in with it now."), "success")
        return redirect(url_for("auth.login", next=None), code=303)
    status = 422 if form.errors else 200
    return render_template("people/set_password.html", form=form, person=user), status
