"""Webhook events, written in the transaction of what caused them (docs/architecture.md,
"Events in the same transaction"). Filled in by this issue's work."""

from __future__ import annotations

from serviceideas.webhooks import models  # noqa: F401 - the tables, for the schema


def connect() -> None:
    """Subscribe to the signals of ideas and training."""
