"""Response headers that keep browsers from doing what the app never asks them to."""

from __future__ import annotations

from flask import Flask, Response

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


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
