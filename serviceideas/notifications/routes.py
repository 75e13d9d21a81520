"""The bell, the notifications page, preferences, unsubscribe links and the calendar feed."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired

from serviceideas.database import utcnow
from serviceideas.extensions import csrf, db
from serviceideas.forms import EmptyForm
from serviceideas.htmx import is_fragment_request
from serviceideas.notifications import queries, services
from serviceideas.notifications.models import Category, Delivery, Notification
from serviceideas.urls import safe_next

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def bell() -> dict[str, object]:
    """The unread count for the navigation's bell (one query, signed-in pages only)."""

    def unread() -> int:
        return queries.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread}


@bp.route("/notifications")
@login_required
def index() -> str:
    return render_template(
        "notifications/index.html", items=queries.recent(current_user), button=EmptyForm()
    )


@bp.route("/notifications/bell")
@login_required
def bell_fragment() -> str:
    return render_template("notifications/_bell.html")


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all() -> Response | str:
    if EmptyForm().validate_on_submit():
        services.mark_read(current_user)
        db.session.commit()
    if is_fragment_request():
        return render_template("notifications/_bell.html")
    return redirect(url_for("notifications.index"), code=303)


@bp.route("/notifications/<id:notification_id>")
@login_required
def open_one(notification_id: int) -> Response:
    """Follow a notification: marked read on the way (a harmless change, so a plain link)."""
    notification = db.get_or_404(Notification, notification_id)
    if notification.user_id != current_user.id:
        abort(404)
    services.mark_read(current_user, notification.id)
    db.session.commit()
    return redirect(safe_next(queries.link(notification)) or url_for("notifications.index"))


class PreferencesForm(FlaskForm):
    submit = SubmitField("Save preferences")


def _preferences_form(current: dict[Category, Delivery]) -> FlaskForm:
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
@login_required
def settings() -> Response | tuple[str, int] | str:
    form = _preferences_form(queries.preferences(current_user))
    if form.validate_on_submit():
        for category in Category:
            services.set_preference(
                current_user.id, category, Delivery(getattr(form, category.value).data)
            )
        db.session.commit()
        flash("Preferences saved.", "success")
        return redirect(url_for("notifications.settings"), code=303)
    token = services.calendar_token(current_user)
    db.session.commit()
    return render_template(
        "notifications/settings.html",
        form=form,
        categories=list(Category),
        calendar_url=services.absolute(url_for("notifications.calendar", token=token)),
        mail_enabled=services.mail_enabled(),
        button=EmptyForm(),
    ), 422 if form.errors else 200


@bp.route("/notifications/calendar/reset", methods=["POST"])
@login_required
def reset_calendar() -> Response:
    if EmptyForm().validate_on_submit():
        services.calendar_token(current_user, reset=True)
        db.session.commit()
        flash("Your calendar link is new; the old one no longer works.", "success")
    return redirect(url_for("notifications.settings"), code=303)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail apps' one-click POST carries nothing else
def unsubscribe(token: str) -> tuple[str, int] | str:
    """A signed link per person and category. GET asks (mail scanners open links); POST —
    the button, or a mail app's one-click List-Unsubscribe-Post — switches e-mail off."""
    found = services.read_unsubscribe_token(token)
    if found is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    person, category = found
    done = False
    if request.method == "POST":
        services.set_preference(person.id, category, Delivery.OFF)
        db.session.commit()
        done = True
    return render_template(
        "notifications/unsubscribe.html", invalid=False, category=category, done=done
    )


# The calendar feed


def _ics_text(value: str) -> str:
    """Escape text for an iCalendar property (RFC 5545, 3.3.11)."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "")
    ).replace("\n", "\\n")


def _fold(line: str, limit: int = 75) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue on lines that start with a space."""
    parts, current = [], ""
    for char in line:
        if len((current + char).encode()) > limit:
            parts.append(current)
            current = " " + char
        else:
            current += char
    return "\r\n".join([*parts, current])


@bp.route("/calendar/<token>.ics")
def calendar(token: str) -> Response:
    from serviceideas.training.models import Assignment, Enrolment, Module

    person = services.read_calendar_token(token)
    if person is None:
        abort(404)
    rows = db.session.execute(
        sa.select(Enrolment.id, Enrolment.due_on, Module.title)
        .join(Assignment, Enrolment.assignment_id == Assignment.id)
        .join(Module, Assignment.module_id == Module.id)
        .where(
            Enrolment.user_id == person.id,
            Enrolment.completed_at.is_(None),
            Assignment.withdrawn_at.is_(None),
        )
        .order_by(Enrolment.due_on)
    ).all()
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//serviceideas//training//EN",
        "X-WR-CALNAME:Training due (serviceideas)",
    ]
    for enrolment_id, due_on, title in rows:
        lines += [
            "BEGIN:VEVENT",
            f"UID:enrolment-{enrolment_id}@serviceideas",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{due_on:%Y%m%d}",
            f"DTEND;VALUE=DATE:{date.fromordinal(due_on.toordinal() + 1):%Y%m%d}",
            f"SUMMARY:{_ics_text('Training due: ' + title)}",
            f"URL:{services.absolute(url_for('training.enrolment', enrolment_id=enrolment_id))}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    body = "".join(_fold(line) + "\r\n" for line in lines)
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
