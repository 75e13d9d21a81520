"""A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """Each message parsed (`messages`), and as the bytes that came over SMTP (`raw`, with its
    recipients): parsing hides how headers were encoded on the wire."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.raw: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append((list(envelope.rcpt_tos), envelope.content))
        message = message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if address in m.envelope_to]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp() -> Any:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def app_settings(smtp: Inbox) -> dict[str, Any]:
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp.port,
        "SMTP_SECURITY": "none",
        "MAIL_SENDER": "serviceideas <ideas@example.com>",
        "BASE_URL": "https://ideas.example.com",
    }
