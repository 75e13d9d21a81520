"""Response headers that keep browsers from doing what the app never asks them to."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request
from flask_babel import gettext
from werkzeug.datastructures import ContentSecurityPolicy

from serviceideas.assets import cdn_origin


def content_security_policy() -> str:
    """The Content-Security-Policy header: everything from this site, front-end files also
    from the CDN when they come from there."""
    # No inline script or style anywhere: htmx is configured by a <meta> tag.
    origin = cdn_origin()
    ours_and_cdn = f"'self' {origin}" if origin else "'self'"
    policy = ContentSecurityPolicy()
    policy.default_src = "'self'"
    policy.script_src = ours_and_cdn
    policy.style_src = ours_and_cdn
    policy.img_src = "'self' data:"
    policy.connect_src = "'self'"
    policy.object_src = "'none'"
    policy.base_uri = "'self'"
    provider = _provider_origin()
    policy.form_action = f"'self' {provider}" if provider else "'self'"
    policy.frame_ancestors = "'none'"
    return policy.to_header()


def _provider_origin() -> str | None:
    """The company identity provider's origin, when company sign-in is on. Signing out sends
    the sign-out form on to the provider's end-session endpoint, and form-action covers the
    redirects after a form is sent (docs/architecture.md, "Company sign-in (OpenID Connect)")."""
    issuer = current_app.config.get("OIDC_ISSUER")
    return "://".join(urlsplit(str(issuer))[:2]) if issuer else None


def refuse_nul_characters() -> None:
    """No text anyone types contains NUL; PostgreSQL cannot store it. Refuse it at the door."""
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(
                    400,
                    gettext("The request contains a NUL character, which no text field accepts."),
                )


def refuse_hidden_static_files() -> None:
    """Files and folders under static/ whose names start with a dot (a build's stamps, an
    editor's leftovers) are not the site's: 404, as if they were not there."""
    if request.endpoint == "static" and request.view_args:
        filename = str(request.view_args.get("filename", ""))
        if any(part.startswith(".") for part in filename.replace("\\", "/").split("/")):
            abort(404)


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.before_request(refuse_hidden_static_files)

    @app.after_request
    def security_headers(response: Response) -> Response:
        if app.config["CONTENT_SECURITY_POLICY"]:
            response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["SESSION_COOKIE_SECURE"]:
            # Cookies marked Secure mean the site is served over HTTPS (README, "Configuration"):
            # browsers are then told to use nothing else for a year, on subdomains too.
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response
