"""Events as team-chat messages, for endpoints of kind Slack or Teams (docs/product.md,
"Events"): "Logistics put into practice: *Tell stores when a delivery will be late* — 14 this
quarter".

Each event becomes one `Message` (a line with the idea's or module's title in it, a line of
context, a link), drawn from the event's payload only — so a message says nothing the JSON
endpoints are not sent — and is written in each product's format:

- Slack: an incoming webhook's JSON, `text` (the notification's words, and what older
  clients show) and `blocks` (a section in Slack's mrkdwn, a context line, a button).
- Microsoft Teams: a message with one Adaptive Card attachment, its texts in TextRuns (no
  markdown, unlike a TextBlock's). That is what Teams' current incoming webhooks (the
  Workflows app's "when a Teams webhook request is received") read; the older MessageCard
  belonged to the Office 365 connectors Microsoft is retiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext, lazy_pgettext

from serviceideas.i18n import format_number, speaking_to
from serviceideas.ideas.models import Status
from serviceideas.insights.periods import PeriodKind, calendar_period
from serviceideas.people.models import DepartmentKind
from serviceideas.training.models import ModuleKind
from serviceideas.webhooks.events import (
    IDEA_COMMENTED,
    IDEA_IMPLEMENTED,
    IDEA_OWNER_NAMED,
    IDEA_STATUS_CHANGED,
    IDEA_SUBMITTED,
    TRAINING_COMPLETED,
)
from serviceideas.webhooks.models import EndpointKind

COMMENT_SHOWN = 300  # characters of a comment quoted in a message


@dataclass(frozen=True)
class Message:
    """`before` + the title (emphasised) + `after`, then a line of `context`, and a link."""

    before: str
    title: str
    after: str
    context: str
    url: str
    link_text: str

    @property
    def plain(self) -> str:
        return f"{self.before}{self.title}{self.after}"


def body_for(kind: EndpointKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The JSON a chat endpoint of `kind` is sent for an event's payload, in the company's
    language (a channel has many readers: SERVICEIDEAS_DEFAULT_LOCALE)."""
    with speaking_to(None):
        message = message_for(payload)
    return slack(message) if kind is EndpointKind.SLACK else teams(message)


# Where the title goes in a translated sentence, which is then cut there: the title is
# emphasised, and each language puts it where its word order wants it.
_TITLE = "\x00"


def _around(sentence: str, title: str) -> tuple[str, str, str]:
    before, _, after = sentence.partition(_TITLE)
    return before, title, after


def message_for(payload: dict[str, Any]) -> Message:
    """The message for an event, in the current language. The payload's own labels are
    English (data for machines): the message names kinds and statuses from their values."""
    event_type, data = payload["type"], payload["data"]
    if "idea" not in data and "module" not in data:
        # The admin's test event ("ping"), or a type without a message of its own.
        endpoint = data.get("endpoint") or gettext("this endpoint")
        return Message(
            *_around(
                gettext(
                    "A test message from serviceideas to %(endpoint)s: it works.", endpoint=_TITLE
                ),
                str(endpoint),
            ),
            "",
            "",
            "",
        )
    if event_type == TRAINING_COMPLETED:
        module, department = data["module"], data["department"]
        return Message(
            *_around(
                gettext(
                    "Someone in %(department)s completed %(module)s",
                    department=department["name"],
                    module=_TITLE,
                ),
                module["title"],
            ),
            f"{_kind(department)} · {_module_kind(module)}",
            module["url"],
            gettext("Open the module"),
        )
    idea = data["idea"]
    department = idea["department"]
    team = gettext(
        "%(department)s (%(kind)s)", department=department["name"], kind=_kind(department, True)
    )
    link_text = gettext("Open idea #%(number)s", number=idea["number"])
    if event_type == IDEA_IMPLEMENTED:
        quarter = data["quarter"]
        if quarter["is_current"]:
            line = gettext(
                "%(department)s put into practice: %(title)s — %(count)s this quarter",
                department=department["name"],
                title=_TITLE,
                count=format_number(quarter["implemented"]),
            )
        else:
            line = gettext(
                "%(department)s put into practice: %(title)s — %(count)s in %(quarter)s",
                department=department["name"],
                title=_TITLE,
                count=format_number(quarter["implemented"]),
                quarter=_quarter(quarter),
            )
        context = gettext(
            "%(kind)s · %(count)s of them from %(department)s",
            kind=_kind(department),
            count=format_number(quarter["implemented_by_department"]),
            department=department["name"],
        )
        return Message(
            *_around(line, idea["title"]),
            f"{context} · {data['implementation_note']}".strip(" ·"),
            idea["url"],
            link_text,
        )
    if event_type == IDEA_SUBMITTED:
        if idea["author"]:
            line = gettext(
                "New idea from %(team)s by %(author)s: %(title)s",
                team=team,
                author=idea["author"],
                title=_TITLE,
            )
        else:
            line = gettext("New idea from %(team)s: %(title)s", team=team, title=_TITLE)
        return Message(*_around(line, idea["title"]), "", idea["url"], link_text)
    if event_type == IDEA_STATUS_CHANGED:
        change = data["change"]
        line = gettext(
            "Idea #%(number)s %(title)s is now %(status)s",
            number=idea["number"],
            title=_TITLE,
            status=_status_now(idea["status"]),
        )
        return Message(
            *_around(line, idea["title"]),
            f"{team} · {change['note']}".strip(" ·"),
            idea["url"],
            link_text,
        )
    if event_type == IDEA_OWNER_NAMED:
        if data["owner"]:
            line = gettext(
                "%(title)s has a new owner: %(owner)s", title=_TITLE, owner=data["owner"]
            )
        else:
            line = gettext("%(title)s has a new owner", title=_TITLE)
        return Message(*_around(line, idea["title"]), team, idea["url"], link_text)
    if event_type == IDEA_COMMENTED:
        comment = data["comment"]
        text = comment["body"]
        if len(text) > COMMENT_SHOWN:
            text = text[: COMMENT_SHOWN - 1] + "…"
        line = gettext("%(author)s commented on %(title)s", author=comment["author"], title=_TITLE)
        return Message(*_around(line, idea["title"]), text, comment["url"], link_text)
    return Message(f"{event_type}: ", idea["title"], "", team, idea["url"], link_text)


# How a message names a department's kind: as a label, and inside a sentence.
_KIND_IN_A_SENTENCE = {
    DepartmentKind.FRONT_LINE: lazy_pgettext("a department's kind, in a sentence", "front line"),
    DepartmentKind.BACK_OFFICE: lazy_pgettext("a department's kind, in a sentence", "back office"),
}

# "Idea #12 … is now under review": each status as the sentence ends.
_STATUS_NOW = {
    Status.SUBMITTED: lazy_pgettext("an idea is now", "submitted"),
    Status.UNDER_REVIEW: lazy_pgettext("an idea is now", "under review"),
    Status.APPROVED: lazy_pgettext("an idea is now", "approved"),
    Status.IN_PROGRESS: lazy_pgettext("an idea is now", "in progress"),
    Status.IMPLEMENTED: lazy_pgettext("an idea is now", "put into practice"),
    Status.DECLINED: lazy_pgettext("an idea is now", "declined"),
    Status.MERGED: lazy_pgettext("an idea is now", "merged"),
}


def _kind(department: dict[str, Any], in_a_sentence: bool = False) -> str:
    try:
        kind = DepartmentKind(department["kind"])
    except ValueError:
        return str(department["kind_label"])
    return str(_KIND_IN_A_SENTENCE[kind]) if in_a_sentence else kind.label


def _module_kind(module: dict[str, Any]) -> str:
    try:
        return ModuleKind(module["kind"]).label
    except ValueError:
        return str(module["kind"]).capitalize()


def _status_now(status: str) -> str:
    try:
        return str(_STATUS_NOW[Status(status)])
    except ValueError:
        return status.replace("_", " ")


def _quarter(quarter: dict[str, Any]) -> str:
    return calendar_period(PeriodKind.QUARTER, date.fromisoformat(quarter["start"])).label


def slack(message: Message) -> dict[str, Any]:
    """Slack's incoming-webhook body. Slack's mrkdwn reads &, < and > as markup: escaped."""
    line = f"{_slack(message.before)}*{_slack(message.title)}*{_slack(message.after)}"
    section: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": line}}
    if message.url:
        section["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": message.link_text},
            "url": message.url,
        }
    blocks: list[dict[str, Any]] = [section]
    if message.context:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack(message.context)}]}
        )
    return {"text": _slack(message.plain), "blocks": blocks}


def teams(message: Message) -> dict[str, Any]:
    """A Teams message holding one Adaptive Card (schema 1.4, which Teams renders). Every text
    is a RichTextBlock's TextRun, which Teams shows as written: a TextBlock would read
    markdown, and a title such as `[Reset your password](https://…)` would show as a link."""
    line = [_run(message.before), _run(message.title, weight="bolder"), _run(message.after)]
    body: list[dict[str, Any]] = [
        {"type": "RichTextBlock", "inlines": [run for run in line if run["text"]]}
    ]
    if message.context:
        body.append({"type": "RichTextBlock", "inlines": [_run(message.context, isSubtle=True)]})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if message.url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": message.link_text, "url": message.url}
        ]
    return {
        "type": "message",
        "summary": message.plain,
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _run(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextRun", "text": text, **style}


def _slack(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
