"""A person's training due dates as an iCalendar feed (RFC 5545), for calendar apps to
subscribe to. The icalendar package writes the format: escaping, folding, dates."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import url_for
from flask_babel import gettext
from icalendar import Calendar, Event

from serviceideas.i18n import speaking_to
from serviceideas.notifications import queries
from serviceideas.people.models import User
from serviceideas.urls import absolute


def training_calendar(person: User, now: datetime) -> bytes:
    """One all-day event on the due date of each piece of training `person` has still to do;
    `now` stamps each event (DTSTAMP: when this copy of it was made). Written in `person`'s
    language: a calendar app fetches it with no sign-in and no language of its own."""
    calendar = Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", "-//serviceideas//training//EN")  # the product's id, not a text
    with speaking_to(person):
        calendar.add("x-wr-calname", gettext("Training due (serviceideas)"))
        for entry in queries.training_for_calendar(person):
            event = Event()
            event.add("uid", f"enrolment-{entry.enrolment_id}@serviceideas")
            event.add("dtstamp", now)
            event.add("dtstart", entry.due_on)
            event.add("dtend", entry.due_on + timedelta(days=1))
            event.add("summary", gettext("Training due: %(title)s", title=entry.module_title))
            link = url_for("training.enrolment", enrolment_id=entry.enrolment_id)
            event.add("url", absolute(link))
            calendar.add_component(event)
    body: bytes = calendar.to_ical()
    return body
