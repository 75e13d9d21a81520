"""The API tokens page of a signed-in person's settings: their personal access tokens (made,
shown once, listed, revoked) for using the API as themselves (docs/product.md, "Personal
access tokens")."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from serviceideas import refusals
from serviceideas.api import token_queries, tokens
from serviceideas.api.token_forms import NewTokenForm, RevokeTokenForm
from serviceideas.database import utcnow
from serviceideas.people.policies import signed_in
from serviceideas.shown_once import ShownOnce, uncached
from serviceideas.writes import commit_or_refuse

bp = Blueprint("access_tokens", __name__, url_prefix="/settings/tokens")

# Where a new token waits, encrypted in the session, for the one page that shows it
# (serviceideas/shown_once.py).
NEW_TOKEN = ShownOnce("api_new_token", "api token")


@bp.route("", methods=["GET", "POST"])
@signed_in
def index() -> ResponseReturnValue:
    """GET: the person's tokens and the form for a new one; right after one is made, the
    token itself, once. POST: make one, then send the browser to the GET (Post/Redirect/Get):
    reloading or going back neither shows it again nor makes a second one."""
    now = utcnow()
    form = NewTokenForm()
    form.offer(current_user, now)
    page = url_for("access_tokens.index")
    if request.method == "POST":
        if form.validate_on_submit():
            expires_at = form.expires_at(now)
            if expires_at is not None:
                made = commit_or_refuse(
                    lambda: tokens.create_token(
                        current_user, form.name.data or "", form.scopes.data or [], expires_at
                    ),
                    form=form,
                    field="name",
                )
                if made:
                    token, secret = made.kept
                    NEW_TOKEN.keep(token.id, secret)
                    return redirect(page, code=303)
        return refusals.refuse(form, page)
    refusals.restore(form)
    new = NEW_TOKEN.take()
    # The page may carry a new token (serviceideas/shown_once.py).
    return uncached(
        render_template(
            "settings/tokens.html",
            form=form,
            tokens=token_queries.tokens_of(current_user),
            allowed=set(tokens.scopes_allowed(current_user)),
            now=now,
            new_token_id=new[0] if new else None,
            new_secret=new[1] if new else None,
        )
    )


@bp.route("/<id:api_token_id>/revoke", methods=["GET", "POST"])
@signed_in
def revoke(api_token_id: int) -> ResponseReturnValue:
    """GET: the confirmation, saying what stops working. POST: revoke, only when sent from
    that page; a POST without its confirmation (made by hand) gets the confirmation again,
    saying nothing was done (422). Someone else's token is not found."""
    token = token_queries.token_of(current_user, api_token_id)
    if token is None:
        abort(404)
    form = RevokeTokenForm()
    if not (form.validate_on_submit() and form.confirmed.data == "yes"):
        form.confirmed.data = "yes"
        return refusals.confirmation(
            lambda: render_template(
                "settings/token_revoke.html", token=token, form=form, now=utcnow()
            )
        )
    if commit_or_refuse(lambda: tokens.revoke_token(current_user, token)):
        flash(
            gettext(
                "Revoked: %(name)s. Every request with it is refused from now on.", name=token.name
            ),
            "success",
        )
    return redirect(url_for("access_tokens.index"), code=303)
