"""The API's training (filled in by this issue's work; see api/__init__.py)."""

from __future__ import annotations

from serviceideas.api import resource_blueprint

blp = resource_blueprint("api_training", __name__, "training")
