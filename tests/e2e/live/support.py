"""Helpers for the live end-to-end tests: a browser, an Authlib client, a JWT verifier."""

import json
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from jwcrypto import jwk, jwt
from requests.adapters import HTTPAdapter

from conftest import PASSWORD

REDIRECT_URI = "http://127.0.0.1:8765/callback"
TIMEOUT = 10


class OneShotAdapter(HTTPAdapter):
    """Reads each response whole, then closes its connection: no keep-alive.

    A kept-alive connection keeps a live-server thread waiting for the next request until the
    client socket is garbage-collected, possibly after the server has stopped (the thread then
    fails closing the shared in-memory SQLite connection). Closing the session is not enough:
    urllib3 2 no longer closes pools when a PoolManager is cleared; and a `Connection: close`
    request header is not either: the server does not echo it, so the client would reuse the
    socket the server is closing.
    """

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        self._used_pools = [*getattr(self, "_used_pools", []), pool]
        return pool

    def send(self, request, **kwargs):
        try:
            response = super().send(request, **kwargs)
            response.content  # noqa: B018 (read the body before closing its connection)
        finally:
            for pool in getattr(self, "_used_pools", []):
                pool.close()
            self._used_pools = []
            self.poolmanager.clear()
        return response


def one_shot(session):
    session.mount("http://", OneShotAdapter())
    session.mount("https://", OneShotAdapter())
    return session


def http_get(url, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    with one_shot(requests.Session()) as session:
        return session.get(url, **kwargs)


def well_known(issuer, document):
    """A metadata document (`openid-configuration`, `oauth-authorization-server`) over HTTP."""
    response = http_get(f"{issuer}/.well-known/{document}")
    assert response.status_code == 200, response.text
    return response.json()


def oauth_session(metadata, client_id, client_secret=None, **kwargs):
    """An Authlib OAuth2Session configured from discovery, with PKCE S256."""
    kwargs.setdefault("redirect_uri", REDIRECT_URI)
    kwargs.setdefault("scope", "profile email")
    kwargs.setdefault("token_endpoint_auth_method", "client_secret_basic" if client_secret else "none")
    kwargs.setdefault("revocation_endpoint_auth_method", kwargs["token_endpoint_auth_method"])
    session = OAuth2Session(
        client_id,
        client_secret,
        code_challenge_method="S256",
        authorization_endpoint=metadata["authorization_endpoint"],
        token_endpoint=metadata["token_endpoint"],
        **kwargs,
    )
    return one_shot(session)


def new_code_verifier():
    return secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-] (RFC 7636 4.1)


class _FormParser(HTMLParser):
    """The inputs of one <form> (by id) in an HTML page."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.found = False
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = self.found = True
        elif tag == "input" and self.inside and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False


def hidden_fields(html, form_id):
    parser = _FormParser(form_id)
    parser.feed(html)
    assert parser.found, f"no form #{form_id} in the page:\n{html[:2000]}"
    return parser.fields


class Browser:
    """A user agent: a requests.Session with cookies that logs in and answers the consent page."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.http = one_shot(requests.Session())

    def csrf_token(self):
        return self.http.cookies.get("csrftoken")

    def login(self, username, password=PASSWORD):
        page = self.http.get(f"{self.base_url}/accounts/login/", timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        assert self.csrf_token(), "the login page set no CSRF cookie"
        response = self.http.post(
            f"{self.base_url}/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": self.csrf_token()},
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        assert response.status_code == 302, f"login failed ({response.status_code}): {response.text[:2000]}"
        assert self.http.cookies.get("identity_session"), "no session cookie after login"
        return response

    def consent_page(self, authorization_url):
        page = self.http.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
        assert page.status_code == 200, f"expected the consent page, got {page.status_code}: {page.text[:2000]}"
        return page

    def answer_consent(self, page, *, allow):
        """POST the consent form as the browser would; return the 302's Location (not followed)."""
        fields = hidden_fields(page.text, "authorizationForm")
        if allow:
            fields["allow"] = "Authorize"
        response = self.http.post(page.url, data=fields, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 302, f"expected a redirect, got {response.status_code}: {response.text[:2000]}"
        return response.headers["Location"]


def query_of(url):
    """The query parameters of a URL, one value each (asserting none is repeated)."""
    parsed = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in parsed.values()), url
    return {k: v[0] for k, v in parsed.items()}


def authorize(browser, session, *, allow=True, state=None, **params):
    """Run the front channel: Authlib builds the URL, the browser consents. Returns
    (location, state, code_verifier)."""
    verifier = new_code_verifier()
    url, state = session.create_authorization_url(
        session.metadata["authorization_endpoint"], state=state, code_verifier=verifier, **params
    )
    page = browser.consent_page(url)
    return browser.answer_consent(page, allow=allow), state, verifier


def verify_access_token(token, *, jwks, issuer, audience):
    """Verify an RFC 9068 access token as an independent resource server would, with jwcrypto
    and the published JWKS. Returns (header, claims)."""
    key_set = jwk.JWKSet.from_json(json.dumps(jwks))
    verified = jwt.JWT(
        jwt=token,
        key=key_set,
        algs=["RS256"],
        check_claims={"iss": issuer, "aud": audience, "exp": None, "iat": None},
    )
    header = json.loads(verified.header)
    claims = json.loads(verified.claims)
    assert header["alg"] == "RS256"
    assert header["typ"] == "at+jwt"
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    return header, claims


def bearer(token):
    return {"Authorization": f"Bearer {token}"}
