"""The report pages (dashboard, leaderboard, each person's part, What changed) in every period,
their refusals, and the ideas' refusals, in the reader's language.

As in test_every_page.py, the company's content is Cyrillic and its people chose the
pseudo-language (tests/i18n/pseudo.py), so Latin text left outside ⟦ ⟧ is interface text that
missed the catalogue. The figures are remembered here as in production (FIGURES_CACHE_SECONDS),
so the pages also show that figures drawn for one language are never served to another.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale

from serviceideas.database import utcnow
from serviceideas.extensions import db
from serviceideas.i18n import format_number, format_percent
from serviceideas.ideas import services as ideas
from serviceideas.ideas.models import Lens, StatusChange
from serviceideas.notifications.models import Notification
from serviceideas.people.models import Role, User
from tests.i18n import company, pseudo

REPORTS = ["/dashboard", "/leaderboard", "/dashboard/people", "/dashboard/what-changed"]


@pytest.fixture
def app_settings(pseudo_settings: dict[str, Any]) -> dict[str, Any]:
    return {**pseudo_settings, "FIGURES_CACHE_SECONDS": 60}


def _periods() -> list[str]:
    today = utcnow().date()
    custom = f"period=custom&start={today - timedelta(days=40)}&end={today}"
    return ["period=quarter", "period=month", "period=year", custom]


def test_the_report_pages_in_every_period_and_their_refusals(
    app: Flask,
    pseudo_as: Callable[[User | None], FlaskClient],
    client_as: Callable[[User | None], FlaskClient],
    make_user: Callable[..., User],
) -> None:
    firm = company.build()
    # A manager who chose no language, and whose browser asks for none: English.
    english = client_as(make_user(Role.MANAGER, name="Олег Ким", department=firm.sales))
    # Drawn in English first: the remembered figures must not be served to the next reader.
    for url in REPORTS:
        assert "⟦" not in english.get(url).get_data(as_text=True)
    client = pseudo_as(firm.manager)
    found = {}
    for url in REPORTS:
        for period in _periods():
            response = client.get(f"{url}?{period}")
            assert response.status_code == 200, f"{url}?{period}"
            if left := pseudo.untranslated(response.get_data(as_text=True), company.UNTRANSLATED):
                found[f"{url}?{period}"] = left
    # A period that cannot be read is refused beside its field, in the reader's language.
    for period, refusal in [
        ("period=decade", "⟦Choose a quarter, a month, a year or custom dates.⟧"),
        ("period=custom&start=2026-02-30&end=2026-03-01", "⟦Give the first day as a date"),
        ("period=custom&start=2026-03-01&end=2026-01-01", "⟦The last day comes before"),
    ]:
        response = client.get(f"/dashboard?{period}")
        html = response.get_data(as_text=True)
        assert response.status_code == 400 and refusal in html, period
        if left := pseudo.untranslated(html, company.UNTRANSLATED):
            found[f"/dashboard?{period}"] = left
    assert not found, f"English outside the catalogue: {found}"
    # And English readers still get English, after the pseudo-language's figures were drawn.
    for url in REPORTS:
        assert "⟦" not in english.get(url).get_data(as_text=True)
    broken = client.get("/dashboard/what-changed?period=year&after=broken")
    assert broken.status_code == 400
    assert "⟦That link to more stories is broken" in broken.get_data(as_text=True)


def test_the_ideas_refusals_are_in_the_readers_language(
    app: Flask, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    firm = company.build()
    own_vote = pseudo_as(firm.employee).post(
        f"/ideas/{firm.idea.id}/vote", data={"vote": "1"}, follow_redirects=True
    )
    assert "⟦You cannot vote on your own idea.⟧" in own_vote.get_data(as_text=True)
    seen = db.session.scalar(
        sa.select(sa.func.max(StatusChange.id)).where(StatusChange.idea_id == firm.idea.id)
    )
    declined = pseudo_as(firm.manager).post(
        f"/ideas/{firm.idea.id}/status",
        data={"to": "declined", "note": "", "seen_change": str(seen or 0)},
        follow_redirects=True,
    )
    html = declined.get_data(as_text=True)
    assert "⟦Say why the idea is declined: the author and everyone will read it.⟧" in html


def test_an_owner_named_by_a_hidden_author_hears_of_a_manager_in_any_language(
    app: Flask, pseudo_as: Callable[[User | None], FlaskClient]
) -> None:
    """A hidden name is written in the reader's language, so whether the person who named an
    owner is hidden is told by that, not by the English text."""
    firm = company.build()
    draft = ideas.IdeaDraft(
        "Тихая идея", "Проблема.", "Решение.", Lens.CARE, None, name_hidden=True
    )
    idea = ideas.submit_idea(firm.manager, draft)
    db.session.commit()
    response = pseudo_as(firm.manager).post(
        f"/ideas/{idea.id}/owner",
        data={"owner": firm.colleague.email, "seen_owner": "nobody"},
    )
    assert response.status_code == 303
    title = db.session.scalar(
        sa.select(Notification.title).where(
            Notification.user_id == firm.colleague.id,
            Notification.key.startswith(f"owner:{idea.id}:"),
        )
    )
    assert title == "⟦A manager made you the owner of “%(title)s”⟧".replace("%(title)s", idea.title)


def test_numbers_and_percentages_are_written_the_locales_way(app: Flask) -> None:
    """The dashboard's shares and one-decimal figures: English as the pages always wrote them,
    German and Spanish with their own separators and a no-break space before the sign."""
    with app.test_request_context():
        for locale, share, decimal in [
            ("en", "42%", "1,234.5"),
            ("de", "42\xa0%", "1.234,5"),
            ("es", "42\xa0%", "1.234,5"),
        ]:
            with force_locale(locale):
                assert (format_percent(0.42), format_number(1234.5, 1)) == (share, decimal)
                assert format_percent(0.425, 1) == share.replace(
                    "42", "42.5" if locale == "en" else "42,5"
                )
