"""Directory sync, for admins: the bearer tokens a company's directory provisions people with
(made, shown once, revoked), and the log of every request it made (docs/architecture.md,
"SCIM provisioning")."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
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
from serviceideas.extensions import db
from serviceideas.pagination import Page
from serviceideas.people.policies import can_administer, requires
from serviceideas.scim import admin_queries, tokens
from serviceideas.scim.forms import NewTokenForm, RequestFilterForm, RevokeTokenForm
from serviceideas.scim.models import ScimToken
from serviceideas.scim.routes import bp as scim_service
from serviceideas.shown_once import ShownOnce, uncached
from serviceideas.urls import absolute
from serviceideas.writes import commit_or_refuse

bp = Blueprint("scim_admin", __name__, url_prefix="/admin/scim")

# Where a new token waits, encrypted in the session, for the one page that shows it
# (serviceideas/shown_once.py).
NEW_TOKEN = ShownOnce("scim_new_token", "scim token")


@bp.route("/tokens", methods=["GET", "POST"])
@requires(can_administer)
def tokens_page() -> ResponseReturnValue:
    """GET: the tokens, the address to enter at the directory, and the form for a new token;
    right after one is made, the token itself, once. POST: make one, then send the browser to
    the GET (Post/Redirect/Get): reloading or going back neither shows it again nor makes a
    second one."""
    form = NewTokenForm()
    page = url_for("scim_admin.tokens_page")
    if request.method == "POST":
        if form.validate_on_submit():
            made = commit_or_refuse(
                lambda: tokens.create_token(current_user, form.name.data or ""),
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
            "admin/scim_tokens.html",
            form=form,
            tokens=admin_queries.tokens_newest_first(),
            new_token_id=new[0] if new else None,
            new_secret=new[1] if new else None,
            scim_address=absolute(scim_service.url_prefix or ""),
        )
    )


@bp.route("/tokens/<id:token_id>/revoke", methods=["GET", "POST"])
@requires(can_administer)
def revoke_token(token_id: int) -> ResponseReturnValue:
    """GET: the confirmation, saying what stops working. POST: revoke, only when sent from
    that page; a POST without its confirmation (made by hand) gets the confirmation again,
    saying nothing was done (422)."""
    token = db.get_or_404(ScimToken, token_id)
    form = RevokeTokenForm()
    if not (form.validate_on_submit() and form.confirmed.data == "yes"):
        form.confirmed.data = "yes"
        return refusals.confirmation(
            lambda: render_template("admin/scim_revoke.html", token=token, form=form)
        )
    if commit_or_refuse(lambda: tokens.revoke_token(current_user, token)):
        flash(
            gettext(
                "Revoked: %(name)s. Every request with it is refused from now on.", name=token.name
            ),
            "success",
        )
    return redirect(url_for("scim_admin.tokens_page"), code=303)


@bp.route("/requests")
@requires(can_administer)
def request_log() -> tuple[str, int] | str:
    """Every request the directory made, newest first, filtered by token and to errors."""
    filters = RequestFilterForm(request.args)
    filters.offer(admin_queries.tokens_newest_first())
    if not filters.validate():
        return render_template("admin/scim_requests.html", filters=filters, page=None), 400
    query = admin_queries.requests_newest_first(
        token_id=filters.token_id(),
        without_token=filters.without_token(),
        errors_only=bool(filters.errors_only.data),
    )
    page = Page.of(query, request.args.get("page"), current_app.config["PAGE_SIZE"])
    return render_template("admin/scim_requests.html", filters=filters, page=page)
