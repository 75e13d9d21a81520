"""Webhooks, for admins: the endpoints events are sent to (registered with a signing secret shown
once, edited, switched off and on, deleted), and each endpoint's delivery log with "Send again"
(docs/product.md, "Webhooks and team chat")."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_login import current_user

from serviceideas import refusals
from serviceideas.extensions import db
from serviceideas.forms import EmptyForm
from serviceideas.pagination import Page
from serviceideas.people.policies import can_administer, requires
from serviceideas.shown_once import ShownOnce, uncached
from serviceideas.webhooks import queries, services
from serviceideas.webhooks.addresses import short_address
from serviceideas.webhooks.delivery import send_again
from serviceideas.webhooks.forms import ConfirmForm, EndpointForm
from serviceideas.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from serviceideas.writes import commit_or_refuse

bp = Blueprint("webhooks_admin", __name__, url_prefix="/admin/webhooks")

# Where a new signing secret waits, encrypted in the session, for the one page that shows it.
NEW_SECRET = ShownOnce("webhook_new_secret", "webhook signing secret")


@bp.route("", methods=["GET", "POST"])
@requires(can_administer)
def endpoints() -> ResponseReturnValue:
    """GET: the endpoints and the form to register one; right after one is registered (or
    given a new secret), its signing secret, once. POST: register, then send the browser to
    the GET (Post/Redirect/Get): reloading or going back neither shows the secret again nor
    registers a second endpoint."""
    form = EndpointForm()
    page = url_for("webhooks_admin.endpoints")
    if request.method == "POST":
        if form.validate_on_submit():
            made = commit_or_refuse(
                lambda: services.register_endpoint(current_user, form.given()),
                form=form,
                field="name",
            )
            if made:
                endpoint, secret = made.kept
                NEW_SECRET.keep(endpoint.id, secret)
                return redirect(page, code=303)
        return refusals.refuse(form, page)
    refusals.restore(form)
    new = NEW_SECRET.take()
    return uncached(
        render_template(
            "admin/webhooks.html",
            form=form,
            rows=queries.endpoints_with_latest_delivery(),
            new_endpoint_id=new[0] if new else None,
            new_secret=new[1] if new else None,
            short_address=short_address,
        )
    )


@bp.route("/<id:endpoint_id>")
@requires(can_administer)
def deliveries(endpoint_id: int) -> ResponseReturnValue:
    """The endpoint's delivery log, newest first, with each delivery's attempts."""
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    page = Page.of(
        queries.deliveries_newest_first(endpoint.id),
        request.args.get("page"),
        current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "admin/webhook_deliveries.html",
        endpoint=endpoint,
        page=page,
        attempts=queries.attempts_of([delivery.id for delivery in page.items]),
        button=EmptyForm(),
        DeliveryState=DeliveryState,
        short_address=short_address,
    )


@bp.route("/<id:endpoint_id>/edit", methods=["GET", "POST"])
@requires(can_administer)
def edit_endpoint(endpoint_id: int) -> ResponseReturnValue:
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    form = EndpointForm.of(endpoint)
    page = url_for("webhooks_admin.edit_endpoint", endpoint_id=endpoint.id)
    if request.method == "POST":
        if form.validate_on_submit():
            saved = commit_or_refuse(
                lambda: services.edit_endpoint(current_user, endpoint, form.given()),
                form=form,
                field="name",
            )
            if saved:
                flash(gettext("Endpoint %(name)s saved.", name=endpoint.name), "success")
                return redirect(url_for("webhooks_admin.deliveries", endpoint_id=endpoint.id), 303)
        return refusals.refuse(form, page)
    refusals.restore(form)
    return render_template("admin/webhook_edit.html", form=form, endpoint=endpoint)


@bp.route("/<id:endpoint_id>/switch-off", methods=["POST"])
@requires(can_administer)
def switch_off(endpoint_id: int) -> ResponseReturnValue:
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: services.switch_off(current_user, endpoint)
    ):
        flash(
            gettext("%(name)s is switched off: nothing is sent to it.", name=endpoint.name),
            "success",
        )
    return redirect(url_for("webhooks_admin.deliveries", endpoint_id=endpoint.id), code=303)


@bp.route("/<id:endpoint_id>/switch-on", methods=["POST"])
@requires(can_administer)
def switch_on(endpoint_id: int) -> ResponseReturnValue:
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    if EmptyForm().validate_on_submit():
        resumed = commit_or_refuse(lambda: services.switch_on(current_user, endpoint))
        if resumed:
            if resumed.kept:
                said = ngettext(
                    "%(name)s is switched on. %(num)d waiting delivery is sent next.",
                    "%(name)s is switched on. %(num)d waiting deliveries are sent next.",
                    resumed.kept,
                    name=endpoint.name,
                )
            else:
                said = gettext("%(name)s is switched on.", name=endpoint.name)
            flash(said, "success")
    return redirect(url_for("webhooks_admin.deliveries", endpoint_id=endpoint.id), code=303)


@bp.route("/<id:endpoint_id>/test", methods=["POST"])
@requires(can_administer)
def send_test_event(endpoint_id: int) -> ResponseReturnValue:
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: services.send_test_event(current_user, endpoint)
    ):
        flash(
            gettext("A test event (ping) is on its way to %(name)s.", name=endpoint.name),
            "success",
        )
    return redirect(url_for("webhooks_admin.deliveries", endpoint_id=endpoint.id), code=303)


@bp.route("/<id:endpoint_id>/deliveries/<id:delivery_id>/again", methods=["POST"])
@requires(can_administer)
def send_delivery_again(endpoint_id: int, delivery_id: int) -> ResponseReturnValue:
    delivery = db.get_or_404(WebhookDelivery, delivery_id)
    if delivery.endpoint_id != endpoint_id:
        abort(404)
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: send_again(delivery, current_user)
    ):
        flash(gettext("Delivery %(id)s will be sent again.", id=delivery.message_id), "success")
    return redirect(url_for("webhooks_admin.deliveries", endpoint_id=endpoint_id), code=303)


@bp.route("/<id:endpoint_id>/secret", methods=["GET", "POST"])
@requires(can_administer)
def replace_secret(endpoint_id: int) -> ResponseReturnValue:
    """GET: the confirmation, saying what stops working. POST: a new secret, shown once on the
    endpoints page; only when sent from the confirmation (a POST without it, made by hand,
    gets the confirmation again, saying nothing was done: 422)."""
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    form = ConfirmForm()
    if not (form.validate_on_submit() and form.confirmed.data == "yes"):
        form.confirmed.data = "yes"
        return refusals.confirmation(
            lambda: render_template("admin/webhook_secret.html", endpoint=endpoint, form=form)
        )
    made = commit_or_refuse(lambda: services.replace_secret(current_user, endpoint))
    if made:
        NEW_SECRET.keep(endpoint.id, made.kept)
    return redirect(url_for("webhooks_admin.endpoints"), code=303)


@bp.route("/<id:endpoint_id>/delete", methods=["GET", "POST"])
@requires(can_administer)
def delete_endpoint(endpoint_id: int) -> ResponseReturnValue:
    """GET: the confirmation, saying what goes with it. POST: delete, only when sent from
    that page (a POST without it, made by hand, gets the confirmation again, saying nothing
    was done: 422)."""
    endpoint = db.get_or_404(WebhookEndpoint, endpoint_id)
    form = ConfirmForm()
    if not (form.validate_on_submit() and form.confirmed.data == "yes"):
        form.confirmed.data = "yes"
        return refusals.confirmation(
            lambda: render_template("admin/webhook_delete.html", endpoint=endpoint, form=form)
        )
    name = endpoint.name
    if commit_or_refuse(lambda: services.delete_endpoint(current_user, endpoint)):
        flash(gettext("Deleted: %(name)s. Nothing more is sent to it.", name=name), "success")
    return redirect(url_for("webhooks_admin.endpoints"), code=303)
