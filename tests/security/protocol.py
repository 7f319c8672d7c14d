"""Helpers of the protocol attacks: PKCE pairs, authorization requests with one parameter
changed, token requests by hand, and JWTs taken apart and put back together (forgeries).
Everything goes over HTTP (requests); nothing here imports the server."""

import base64
import contextlib
import hashlib
import http.server
import itertools
import json
import re
import secrets
import threading
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import HTTPAdapter

from tests.faults.flows import REDIRECT_URI, TIMEOUT, Browser, basic, bearer

STATE = "st-" + "a" * 20


_users = itertools.count()


def fresh_user(security):
    """A user of the protocol attacks' own pool (seed.py) that no other test has touched."""
    return security.data["protocol_users"][next(_users)]


def logged_in(security, username=None):
    """A logged-in browser of a fresh user of that pool, or of `username`."""
    return Browser(security.url).login(username or fresh_user(security))


def pkce_pair(verifier=None):
    verifier = verifier or secrets.token_urlsafe(48)
    return verifier, s256(verifier)


def s256(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def authorize_params(client_id, **changes):
    """A valid authorization request of `client_id` (PKCE S256, state, nonce), with `changes`
    applied (None removes a parameter). The verifier travels as `_verifier`."""
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": client_id,  # None: no client_id at all
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": STATE,
        "nonce": "n-" + secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    params = {k: v for k, v in params.items() if v is not None}
    return params, verifier


def query_of(response):
    """The query of a redirect's Location, one value per name."""
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}


def code_of(browser, client_id, **changes):
    """(code, verifier, params) of a successful authorization request of a trusted client."""
    params, verifier = authorize_params(client_id, **changes)
    response = browser.get("/oauth/authorize/", params=params)
    assert response.status_code == 302, f"{response.status_code}: {response.text[:1000]}"
    query = query_of(response)
    assert "code" in query, response.headers["Location"]
    return query["code"], verifier, params


def post_token(base, data, *, client=None, headers=None, **kwargs):
    """POST to the token endpoint; `client` = (client_id, secret) for HTTP Basic."""
    headers = dict(headers or {})
    if client is not None:
        headers["Authorization"] = basic(*client)
    return requests.post(f"{base}/oauth/token/", data=data, headers=headers, timeout=TIMEOUT, **kwargs)


def exchange(base, client, code, verifier, redirect_uri=REDIRECT_URI, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    data.update(extra)
    return post_token(base, data, client=(client.client_id, client.secret))


def tokens_of(security, client_name="web", browser=None, **changes):
    """(tokens, browser) of a full authorization-code flow."""
    browser = browser or logged_in(security)
    client = security.client(client_name)
    code, verifier, params = code_of(browser, client.client_id, **changes)
    response = exchange(security.url, client, code, verifier, params["redirect_uri"])
    assert response.status_code == 200, response.text
    return response.json(), browser


def spa_exchange(security, code, verifier):
    """Redeem a code of the public single-page app (no client secret: PKCE is its proof)."""
    spa = security.data["clients"]["spa"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": spa["redirect_uris"][0],
        "client_id": spa["client_id"],
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(f"{security.url}/oauth/token/", data=data, timeout=TIMEOUT)


def me_status(base, token):
    return requests.get(f"{base}/api/me", headers=bearer(token), timeout=TIMEOUT).status_code


def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def parts(token):
    """(header, claims, signature bytes) of a compact JWS, unverified."""
    header, payload, signature = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload)), unb64url(signature)


def compact(header, claims, signature=b""):
    """A compact JWS from parts (no signing: the signature is what the caller gives)."""
    return ".".join([b64url(json.dumps(header)), b64url(json.dumps(claims)), b64url(signature)])


def signing_input(header, claims):
    return (b64url(json.dumps(header)) + "." + b64url(json.dumps(claims))).encode()


def hidden_inputs(html):
    """The hidden inputs of a page's form, name -> value."""
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[name.group(1)] = (value.group(1) if value else "").replace("&amp;", "&")
    return fields


def json_error(response):
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return response.json()["error"]


class _FromAddress(HTTPAdapter):
    def __init__(self, address, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


_addresses = itertools.count()


def elsewhere():
    """A requests session from an address of its own on the loopback (127.0.1.10, .11, ...):
    failed client authentications are counted per IP (CLIENT_AUTH_IP_FAILURE_LIMIT), and the
    attacks that fail on purpose must not spend the budget of 127.0.0.1, which every other
    test uses."""
    session = requests.Session()
    n = next(_addresses)
    session.mount("http://", _FromAddress(f"127.0.{1 + n // 200}.{10 + n % 200}"))
    return session


class _Counter(http.server.BaseHTTPRequestHandler):
    hits = []
    body = b"{}"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def attacker_site():
    """An attacker's web server on the loopback that records every request it gets."""

    class Handler(_Counter):
        hits = []

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", Handler
    finally:
        server.shutdown()
        server.server_close()
