"""The bell, the notifications page, preferences, unsubscribe links and the calendar feed.

Every GET here only reads (docs/architecture.md, "Requests and transactions"): opening a
notification marks it read through a small POST, and the calendar feed is turned on by a
button in the settings, not by showing the settings.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import cast

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from wtforms import SelectField, SubmitField
from wtforms.validators import InputRequired

from serviceideas.database import utcnow
from serviceideas.extensions import csrf
from serviceideas.forms import EmptyForm, Form, SelectChoice
from serviceideas.htmx import is_fragment_request
from serviceideas.i18n import speaking_to
from serviceideas.notifications import queries, services
from serviceideas.notifications.calendar import training_calendar
from serviceideas.notifications.models import Category, Delivery
from serviceideas.people.policies import signed_in
from serviceideas.sessions import made_by_the_page
from serviceideas.urls import absolute, safe_next
from serviceideas.writes import commit_or_refuse

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def bell() -> dict[str, object]:
    """The unread count for the navigation's bell (one query, signed-in pages only)."""

    def unread() -> int:
        return queries.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread}


@bp.route("/notifications")
@signed_in
def index() -> str:
    return render_template(
        "notifications/index.html", items=queries.recent(current_user), button=EmptyForm()
    )


@bp.route("/notifications/bell")
@signed_in
@made_by_the_page
def bell_fragment() -> str:
    return render_template("notifications/_bell.html")


@bp.route("/notifications/read-all", methods=["POST"])
@signed_in
def read_all() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        commit_or_refuse(lambda: services.mark_read(current_user))
    if is_fragment_request():
        return render_template("notifications/_bell.html")
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/notifications/<id:notification_id>", methods=["GET", "POST"])
@signed_in
def open_one(notification_id: int) -> ResponseReturnValue:
    """Follow a notification to what it is about. The notifications page's button POSTs,
    which marks it read on the way; a GET (an address kept from before, a bookmark) only
    leads there. Someone else's notification is not found."""
    notification = queries.notification_of(current_user, notification_id)
    if notification is None:
        abort(404)
    target = safe_next(queries.link(notification)) or url_for("notifications.index")
    if request.method == "POST":
        commit_or_refuse(lambda: services.mark_read(current_user, notification_id))
    return redirect(target, code=303)


class PreferencesForm(Form):
    # Translated when drawn; typed as the str WTForms takes, which only escapes or str()s it.
    submit = SubmitField(cast(str, lazy_gettext("Save preferences")))


def _preferences_form(current: dict[Category, Delivery]) -> PreferencesForm:
    """One choice per category, each showing the person's current one."""

    class Form(PreferencesForm):
        pass

    for category in Category:
        field = SelectField(
            category.label,
            choices=[SelectChoice(d.value, d.label) for d in Delivery],
            default=current[category].value,
            validators=[InputRequired()],
        )
        setattr(Form, category.value, field)
    return Form()


@bp.route("/notifications/settings", methods=["GET", "POST"])
@signed_in
def settings() -> ResponseReturnValue:
    form = _preferences_form(queries.preferences(current_user))
    if form.validate_on_submit():
        choices = {category: Delivery(form[category.value].data) for category in Category}
        if commit_or_refuse(lambda: services.set_preferences(current_user, choices)):
            flash(gettext("Preferences saved."), "success")
        return redirect(url_for("notifications.settings"), code=303)
    feed = queries.calendar_feed_of(current_user)
    calendar_url = None
    if feed is not None:
        token = services.signed_calendar_token(feed)
        calendar_url = absolute(url_for("notifications.calendar", token=token))
    return render_template(
        "notifications/settings.html",
        form=form,
        categories=list(Category),
        calendar_url=calendar_url,
        mail_enabled=services.mail_enabled(),
        button=EmptyForm(),
    ), 422 if form.errors else 200


@bp.route("/notifications/calendar", methods=["POST"])
@signed_in
def calendar_link() -> ResponseReturnValue:
    """Turn the person's calendar feed on, or give it a new link (the old one stops working)."""
    had_one = queries.calendar_feed_of(current_user) is not None
    if EmptyForm().validate_on_submit() and commit_or_refuse(
        lambda: services.calendar_token(current_user, reset=True)
    ):
        if had_one:
            flash(gettext("Your calendar link is new; the old one no longer works."), "success")
        else:
            flash(gettext("Your calendar link is ready: add it to your calendar app."), "success")
    return redirect(url_for("notifications.settings", _anchor="calendar-heading"), code=303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> ResponseReturnValue:
    """A signed link per person and category. GET asks (mail scanners open links); POST —
    the button, or a mail app's one-click List-Unsubscribe-Post — switches e-mail off."""
    found = services.read_unsubscribe_token(token)
    if found is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    person, category = found
    done = request.method == "POST" and bool(
        commit_or_refuse(lambda: services.set_preference(person.id, category, Delivery.OFF))
    )
    # In the language of the e-mail the link came in, when the person chose one: they are
    # seldom signed in here, and the browser they opened the mail in may speak another.
    with speaking_to(person) if person.locale else nullcontext():
        return render_template(
            "notifications/unsubscribe.html", invalid=False, category=category, done=done
        )


# The signed token is the proof; mail apps' one-click POST carries nothing else. (Called, not
# used as a decorator: Flask-WTF has no types, and the view keeps its own.)
csrf.exempt(unsubscribe)


@bp.route("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    """The feed calendar apps fetch: no sign-in, the signed token in the address is the key."""
    person = services.read_calendar_token(token)
    if person is None:
        abort(404)
    response = Response(training_calendar(person, utcnow()), mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
