"""Response headers that keep browsers from doing what the app never asks them to."""

from __future__ import annotations

from flask import Flask, Response, abort, request

from serviceideas.assets import cdn_origin


def content_security_policy() -> str:
    # No inline script or style anywhere: htmx is configured by a <meta> tag.
    extra = f" {cdn_origin()}" if cdn_origin() else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{extra}",
            f"style-src 'self'{extra}",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def refuse_nul_characters() -> None:
    """No text anyone types contains NUL; PostgreSQL cannot store it. Refuse it at the door."""
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, "The request contains a NUL character, which no text field accepts.")


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)

    @app.after_request
    def security_headers(response: Response) -> Response:
        if app.config["CONTENT_SECURITY_POLICY"]:
            response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
