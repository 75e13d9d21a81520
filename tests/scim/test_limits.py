"""What keeps strangers and odd requests from hurting the directory's provisioning: the rate
limit counts only requests without a valid token, and big or odd bodies are refused before
they are read as a User."""

from __future__ import annotations

from tests.conftest import count_queries
from tests.scim.conftest import Directory, log, scim_error


def test_strangers_cannot_rate_limit_the_directory(client, directory):
    stranger = Directory(client, "scim_not-a-token")
    for _ in range(30):
        scim_error(stranger.get("/Users"), 401)
    for _ in range(5):
        scim_error(stranger.get("/Users"), 429)
    assert directory.get("/Users").status_code == 200
    patched = directory.patch("/Users/1", {"schemas": [], "Operations": []})
    assert patched.status_code != 429
    # Refused by the limiter, the strangers' requests over the limit write nothing.
    statuses = [line.status for line in log()]
    assert statuses.count(401) == 30 and 429 not in statuses
    assert len(statuses) == 32


def test_a_requests_token_is_looked_up_once(directory):
    with count_queries() as statements:
        assert directory.get("/ServiceProviderConfig").status_code == 200
    lookups = [each for each in statements if "FROM scim_tokens" in each]
    assert len(lookups) == 1
