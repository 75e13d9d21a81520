"""How the API reads a request: webargs' FlaskParser, with two refusals of its own
(docs/architecture.md, "Errors"):

- JSON that Python's decoder cannot read — nested deeper than it goes (RecursionError) or a
  number longer than it converts (ValueError: "Exceeds the limit (4300 digits)") — is
  unreadable JSON like any other, a 400 problem naming the body, never a 500;
- a query parameter that takes one value, sent twice (`status=a&status=b`), is a 422 naming
  it, where webargs would read the first and drop the other unseen."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Request
from flask_babel import gettext
from webargs.flaskparser import FlaskParser, abort


class ApiParser(FlaskParser):
    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        try:
            return super().load_json(req, schema)
        except (ValueError, RecursionError) as error:
            abort(400, exc=error, messages={"json": [gettext("Invalid JSON body.")]})

    def load_querystring(self, req: Request, schema: ma.Schema) -> Any:
        proxy = super().load_querystring(req, schema)
        single = {
            field.data_key or name
            for name, field in schema.fields.items()
            if not isinstance(field, ma.fields.List | ma.fields.Tuple)
        }
        repeated = {
            key: [gettext("Send this parameter once.")]
            for key, values in req.args.lists()
            if len(values) > 1 and key in single
        }
        if repeated:
            abort(422, messages={"query": repeated})
        return proxy
