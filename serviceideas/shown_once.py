"""A secret shown once, carried across Post/Redirect/Get: the POST that made it keeps it in the
session, and the one page that shows it takes it out as it shows it, so a reload, Back or
another tab finds nothing (SCIM tokens, personal access tokens, webhook signing secrets).

The session is a signed cookie anyone holding it can read, so the secret rides in it encrypted:
a copy of the cookie in a proxy's log or a captured header does not give the secret away. Each
kind of secret has a key of its own, derived from SECRET_KEY and its purpose.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from flask import Response, current_app, make_response, session


@dataclass(frozen=True)
class ShownOnce:
    """Where one kind of new secret waits: `session_key` in the session, sealed with a key
    for `purpose` ("scim token")."""

    session_key: str
    purpose: str

    def _sealed(self) -> Fernet:
        secret_key = str(current_app.config["SECRET_KEY"]).encode()
        key = hashlib.sha256(
            f"serviceideas {self.purpose} shown once\0".encode() + secret_key
        ).digest()
        return Fernet(base64.urlsafe_b64encode(key))

    def keep(self, owner_id: int, secret: str) -> None:
        """Keep `secret` (of the object `owner_id`), encrypted, for the next page that takes
        it."""
        sealed = self._sealed().encrypt(secret.encode()).decode()
        session[self.session_key] = {"id": owner_id, "sealed": sealed}

    def take(self) -> tuple[int, str] | None:
        """The waiting secret and its object's id, now gone from the session; or None
        (nothing waiting, or sealed under another SECRET_KEY)."""
        new = session.pop(self.session_key, None)
        if not isinstance(new, dict) or not isinstance(new.get("id"), int):
            return None
        try:
            return new["id"], self._sealed().decrypt(str(new.get("sealed", "")).encode()).decode()
        except InvalidToken:
            return None


def uncached(page: str) -> Response:
    """The page that may show a secret: no cache, nor the browser's Back, may keep a copy."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response
