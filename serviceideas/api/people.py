"""The API's people (filled in by this issue's work; see api/__init__.py)."""

from __future__ import annotations

from serviceideas.api import resource_blueprint

blp = resource_blueprint("api_people", __name__, "people")
