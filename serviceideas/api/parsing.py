"""How the API reads a request's JSON body: webargs' FlaskParser, but JSON that Python's decoder
cannot read — nested deeper than it goes (RecursionError) or a number longer than it converts
(ValueError: "Exceeds the limit (4300 digits)") — is unreadable JSON like any other, a 400
problem naming the body, never a 500 (docs/architecture.md, "Errors")."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Request
from webargs.flaskparser import FlaskParser, abort

INVALID_JSON = {"json": ["Invalid JSON body."]}


class ApiParser(FlaskParser):
    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        try:
            return super().load_json(req, schema)
        except (ValueError, RecursionError) as error:
            abort(400, exc=error, messages=INVALID_JSON)
