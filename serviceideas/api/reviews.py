"""The API's reviews (filled in by this issue's work; see api/__init__.py)."""

from __future__ import annotations

from serviceideas.api import resource_blueprint

blp = resource_blueprint("api_reviews", __name__, "reviews")
