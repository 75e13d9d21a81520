"""The API's interactive documentation at /api/v1/docs: Swagger UI reading the OpenAPI document
(/api/v1/openapi.json). A page for people, open to anyone like the document itself; trying an
operation out needs a personal access token, entered with the page's Authorize button."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for
from flask.typing import ResponseReturnValue

from serviceideas.api import PREFIX

# Not "api_…": the access matrix leaves endpoints so named to tests/api, and this is a page.
bp = Blueprint("apidocs", __name__, url_prefix=PREFIX)


@bp.route("/docs")
def page() -> ResponseReturnValue:
    return render_template(
        "api/docs.html", document=url_for("api-docs.openapi_json"), prefix=PREFIX
    )
