"""What every fault scenario asserts about the answers and about the database afterwards."""

import json

from .flows import REDIRECT_URI

JSON = "json"
HTML = "html"


def assert_unavailable(response, kind):
    """A clean 503: Retry-After, never cached, an error body in the endpoint's language."""
    where = f"{response.request.method} {response.request.path_url}"
    assert response.status_code == 503, f"{where}: {response.status_code} {response.text[:500]}"
    assert response.headers.get("Retry-After", "").isdigit(), f"{where}: {response.headers}"
    assert "no-store" in response.headers.get("Cache-Control", ""), f"{where}: {response.headers}"
    content_type = response.headers.get("Content-Type", "")
    if kind == JSON:
        assert content_type.startswith("application/json"), f"{where}: {content_type}"
        assert response.json()["error"] == "temporarily_unavailable", f"{where}: {response.text}"
    else:
        assert content_type.startswith("text/html"), f"{where}: {content_type}"
        assert "Temporarily unavailable" in response.text, f"{where}: {response.text[:500]}"
    assert "Traceback" not in response.text


# Nothing half-written: each query counts rows that only a partly applied write could leave.
HALF_WRITTEN = {
    # Every user's access token was issued with its refresh token (one transaction).
    "access token without its refresh token": """
        SELECT count(*) FROM oauth_accesstoken a WHERE a.user_id IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM oauth_refreshtoken r WHERE r.access_token_id = a.id)""",
    # A code is marked redeemed only in the transaction that issued its tokens.
    "redeemed code without tokens": """
        SELECT count(*) FROM oauth_grant g WHERE g.redeemed_at IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM oauth_refreshtoken r WHERE r.token_family = g.token_family)""",
    # Two live refresh tokens in one family: a rotation that forked.
    "family with two live refresh tokens": """
        SELECT count(*) FROM (SELECT token_family FROM oauth_refreshtoken WHERE revoked IS NULL
        AND token_family IS NOT NULL GROUP BY token_family HAVING count(*) > 1) forks""",
    # A live access token of a revoked session (logout revokes both in one transaction).
    "access token of an ended session": """
        SELECT count(*) FROM oauth_accesstoken a JOIN sso_ssosession s ON s.sid = a.sid
        WHERE s.revoked_at IS NOT NULL AND a.expires > now()""",
}


def assert_nothing_half_written(world):
    found = {name: world.sql(query)[0][0] for name, query in HALF_WRITTEN.items()}
    assert all(count == 0 for count in found.values()), json.dumps(found)


__all__ = ["HTML", "JSON", "REDIRECT_URI", "assert_nothing_half_written", "assert_unavailable"]
