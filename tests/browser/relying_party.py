"""The relying party's side of a browser test: build authorization requests, redeem codes.

The browser (Chromium) does the front channel; these calls are the client's back channel,
made over HTTP to the live server as a real client would.
"""

import base64
import hashlib
import html
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import requests

TIMEOUT = 10


class AppServer:
    """A client app's web server on a free loopback port: answers every GET with a small page
    naming its path, so that the browser has somewhere to land after a redirect (Playwright's
    routes do not see the targets of redirects)."""

    def __init__(self, title="Client app"):
        title = html.escape(title)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = (
                    '<!doctype html><html lang=en><link rel="icon" href="data:,">'
                    f"<title>{title}</title><main><h1>{title}</h1></main></html>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body.encode())))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.redirect_uri = f"{self.origin}/callback"
        self.post_logout_uri = f"{self.origin}/logged-out"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RelyingParty:
    def __init__(self, issuer, client, secret=None, *, redirect_uri):
        self.redirect_uri = redirect_uri
        self.issuer = issuer
        self.client = client
        self.secret = secret
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(12)
        self.nonce = secrets.token_urlsafe(12)

    def authorization_url(self, scope="openid profile email", **extra):
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        }
        return f"{self.issuer}/oauth/authorize/?{urlencode(params)}"

    def redeem(self, code):
        """The token response for `code` (asserting it is a 200)."""
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        data["code_verifier"] = self.verifier
        auth = (self.client.client_id, self.secret) if self.secret else None
        if not self.secret:
            data["client_id"] = self.client.client_id
        response = requests.post(f"{self.issuer}/oauth/token/", data=data, auth=auth, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    def me(self, access_token):
        """`GET /api/me` with the access token: the response."""
        return requests.get(
            f"{self.issuer}/api/me", headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT
        )
