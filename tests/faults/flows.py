"""HTTP helpers for the fault scenarios: a browser and an OAuth client talking to the live
server over the network (requests), nothing in-process."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import requests

from conftest import PASSWORD

REDIRECT_URI = "http://127.0.0.1:8765/callback"  # never followed: the code is read from Location
TIMEOUT = 15


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


class Browser:
    """A user agent with cookies: logs in through the form, walks the authorization endpoint."""

    def __init__(self, base):
        self.base = base
        self.http = requests.Session()

    def get(self, path, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return self.http.get(self.base + path, timeout=TIMEOUT, **kwargs)

    def post(self, path, data=None, **kwargs):
        kwargs.setdefault("allow_redirects", False)
        data = {**(data or {}), "csrfmiddlewaretoken": self.csrf_token()}
        headers = {"Referer": self.base + path, **kwargs.pop("headers", {})}
        return self.http.post(self.base + path, data=data, headers=headers, timeout=TIMEOUT, **kwargs)

    def csrf_token(self):
        if not self.http.cookies.get("csrftoken"):
            page = self.get("/accounts/login/")
            assert page.status_code == 200, page.text[:2000]
        return self.http.cookies.get("csrftoken")

    def start_login(self, username, password=PASSWORD):
        return self.post("/accounts/login/", {"username": username, "password": password})

    def login(self, username, password=PASSWORD):
        response = self.start_login(username, password)
        assert response.status_code == 302, f"login failed ({response.status_code}): {response.text[:2000]}"
        return self

    def authorize(self, client_id, *, scope="openid profile"):
        """Ask a code of a trusted client (no consent page): (code, verifier)."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        response = self.get("/oauth/authorize/", params=authorize_params(client_id, scope, challenge))
        assert response.status_code == 302, f"{response.status_code}: {response.text[:2000]}"
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        assert "code" in query, response.headers["Location"]
        return query["code"][0], verifier


def authorize_params(client_id, scope, challenge):
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


class OAuthClient:
    """A confidential client at the token, introspection and revocation endpoints."""

    def __init__(self, base, client_id, secret):
        self.base, self.client_id, self.secret = base, client_id, secret

    def post(self, path, data):
        headers = {"Authorization": basic(self.client_id, self.secret)}
        return requests.post(self.base + path, data=data, headers=headers, timeout=TIMEOUT)

    def exchange(self, code, verifier):
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        return self.post("/oauth/token/", {**data, "code_verifier": verifier})

    def refresh(self, refresh_token):
        return self.post("/oauth/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token})

    def tokens(self, browser, *, scope="openid profile"):
        response = self.exchange(*browser.authorize(self.client_id, scope=scope))
        assert response.status_code == 200, f"{response.status_code}: {response.text[:2000]}"
        return response.json()

    def revoke(self, token):
        return self.post("/oauth/revoke/", {"token": token})

    def introspect(self, token):
        return self.post("/oauth/introspect/", {"token": token})


def me(base, access_token):
    return requests.get(f"{base}/api/me", headers=bearer(access_token), timeout=TIMEOUT)


def accepted(base, access_token):
    """Whether the API accepts the access token (200), refuses it (401); anything else fails."""
    status = me(base, access_token).status_code
    assert status in (200, 401), status
    return status == 200
