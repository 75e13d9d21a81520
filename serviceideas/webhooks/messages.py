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
from typing import Any

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
    """The JSON a chat endpoint of `kind` is sent for an event's payload."""
    message = message_for(payload)
    return slack(message) if kind is EndpointKind.SLACK else teams(message)


def message_for(payload: dict[str, Any]) -> Message:
    event_type, data = payload["type"], payload["data"]
    if "idea" not in data and "module" not in data:
        # The admin's test event ("ping"), or a type without a message of its own.
        endpoint = data.get("endpoint") or "this endpoint"
        return Message(
            "A test message from serviceideas to ", str(endpoint), ": it works.", "", "", ""
        )
    if event_type == TRAINING_COMPLETED:
        module, department = data["module"], data["department"]
        return Message(
            f"Someone in {department['name']} completed ",
            module["title"],
            "",
            f"{department['kind_label']} · {module['kind'].capitalize()}",
            module["url"],
            "Open the module",
        )
    idea = data["idea"]
    department = idea["department"]
    team = f"{department['name']} ({department['kind_label'].lower()})"
    link_text = f"Open idea #{idea['number']}"
    if event_type == IDEA_IMPLEMENTED:
        quarter = data["quarter"]
        when = "this quarter" if quarter["is_current"] else f"in {quarter['label']}"
        return Message(
            f"{department['name']} put into practice: ",
            idea["title"],
            f" — {quarter['implemented']} {when}",
            f"{department['kind_label']} · {quarter['implemented_by_department']} of them from "
            f"{department['name']} · {data['implementation_note']}".strip(" ·"),
            idea["url"],
            link_text,
        )
    if event_type == IDEA_SUBMITTED:
        by = f" by {idea['author']}" if idea["author"] else ""
        return Message(f"New idea from {team}{by}: ", idea["title"], "", "", idea["url"], link_text)
    if event_type == IDEA_STATUS_CHANGED:
        change = data["change"]
        return Message(
            f"Idea #{idea['number']} ",
            idea["title"],
            f" is now {idea['status_label'].lower()}",
            f"{team} · {change['note']}".strip(" ·"),
            idea["url"],
            link_text,
        )
    if event_type == IDEA_OWNER_NAMED:
        owner = f": {data['owner']}" if data["owner"] else ""
        return Message("", idea["title"], f" has a new owner{owner}", team, idea["url"], link_text)
    if event_type == IDEA_COMMENTED:
        comment = data["comment"]
        text = comment["body"]
        if len(text) > COMMENT_SHOWN:
            text = text[: COMMENT_SHOWN - 1] + "…"
        return Message(
            f"{comment['author']} commented on ", idea["title"], "", text, comment["url"], link_text
        )
    return Message(f"{event_type}: ", idea["title"], "", team, idea["url"], link_text)


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
