"""Where the browser gets front-end files: the CDN with SRI, or copies served by us."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, url_for

from serviceideas.config import VENDOR_ASSETS


def vendor_asset(name: str) -> dict[str, str | None]:
    """`src` and `integrity` for a <script> or <link> tag of the named vendor file."""
    asset = VENDOR_ASSETS[name]
    if current_app.config["SERVICEIDEAS_ASSETS"] == "local":
        return {"src": url_for("static", filename=asset["local"]), "integrity": asset["integrity"]}
    return {"src": asset["cdn"], "integrity": asset["integrity"]}


def cdn_origin() -> str | None:
    """The origin the Content-Security-Policy must allow, if assets come from a CDN."""
    if current_app.config["SERVICEIDEAS_ASSETS"] != "cdn":
        return None
    (origin,) = {"://".join(urlsplit(asset["cdn"])[:2]) for asset in VENDOR_ASSETS.values()}
    return origin
