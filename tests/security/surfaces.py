"""Helpers of the account, session and operator attacks: a browser from an address of its own,
TOTP codes of the seed's devices, the session cookie, a browser through the code step.

Every client of the suite comes from 127.0.0.1 unless it asks otherwise, and the server counts
login failures, wrong codes and registrations per client IP: an attack that trips a per-IP limit
binds its sockets to an address of its own in 127.0.0.0/8 (Linux answers the whole block on the
loopback), so that the limit it proves does not refuse the next test.
"""

import base64
import itertools
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

import requests
from django_otp.oath import TOTP
from requests.adapters import HTTPAdapter

from tests.faults.flows import TIMEOUT, Browser

SESSION_COOKIE = "identity_session"
_addresses = itertools.count(1)


def fresh_address():
    """A loopback address no other test of this run uses (127.77.x.y)."""
    n = next(_addresses)
    return f"127.77.{n // 250}.{n % 250 + 1}"


class _SourceAdapter(HTTPAdapter):
    def __init__(self, address):
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(address):
    session = requests.Session()
    adapter = _SourceAdapter(address)
    session.mount("http://", adapter)
    # A connection per request: gunicorn closes idle keep-alive connections after 2 s, and a
    # test that waits for the next TOTP step would otherwise post on a connection it closed.
    session.headers["Connection"] = "close"
    return session


def browser_from(base, address=None):
    """An anonymous Browser whose requests come from `address` (a fresh one by default)."""
    browser = Browser(base)
    browser.http = session_from(address or fresh_address())
    return browser


def totp_code(totp, offset_steps=0):
    """The code of a seeded device (`security.data[...]["totp"]`) at now + offset steps."""
    key = bytes.fromhex(totp["key"])
    generator = TOTP(key, totp["step"], totp["t0"], totp["digits"])
    generator.time = time.time() + offset_steps * totp["step"]
    return f"{generator.token():0{totp['digits']}d}"


def wait_for_next_step(totp):
    """Sleep into the next TOTP step when the current one ends within 2 s (a code computed now
    must still be current when it arrives)."""
    remaining = totp["step"] - (time.time() - totp["t0"]) % totp["step"]
    if remaining < 2:
        time.sleep(remaining + 0.2)


def session_key(browser):
    return browser.http.cookies.get(SESSION_COOKIE)


def set_cookie_headers(response):
    """The raw Set-Cookie headers of a response (requests folds them)."""
    return response.raw.headers.getlist("Set-Cookie") if response.raw is not None else []


def cookie_header(response, name):
    for header in set_cookie_headers(response):
        if header.split("=", 1)[0].strip() == name:
            return header
    return None


def logged_in(browser):
    """Whether the browser's session is a logged-in one: the profile page answers 200 (an
    anonymous one is sent to the login page)."""
    response = browser.get("/accounts/profile/")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def at_code_step(base, user, address=None):
    """A browser whose password step for the TOTP user `user` (a seed entry) is done: pending
    at /accounts/login/code/."""
    browser = browser_from(base, address)
    response = browser.start_login(user["username"])
    assert response.status_code == 302, response.status_code
    assert urlsplit(response.headers["Location"]).path == "/accounts/login/code/", response.headers["Location"]
    return browser


def send_code(browser, code):
    return browser.post("/accounts/login/code/", {"code": code})


def authorize_location(browser, client_id, redirect_uri, scope="openid"):
    """The authorization endpoint's answer to a plain code request (no PKCE needed to see
    whether a code is handed out): the response."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "s1",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    return browser.get("/oauth/authorize/", params=params)


def code_in(response):
    if response.status_code not in (302, 303):
        return None
    return parse_qs(urlsplit(response.headers.get("Location", "")).query).get("code", [None])[0]


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def get(base, path, **kwargs):
    kwargs.setdefault("allow_redirects", False)
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.get(base + path, **kwargs)


def post(base, path, **kwargs):
    kwargs.setdefault("allow_redirects", False)
    kwargs.setdefault("timeout", TIMEOUT)
    return requests.post(base + path, **kwargs)


def no_trace(text):
    """No stack trace, SQL or debug page in an answer."""
    markers = ("Traceback", 'File "/', "django.db.utils", "psycopg", "SELECT ", "DEBUG = True", "Exception Value")
    return not any(marker in text for marker in markers)


def form_errors(html):
    return re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', html, re.S)


def new_mfa_user(security):
    """A seeded TOTP user (username, recovery codes, TOTP key) no other test has touched."""
    index = getattr(security, "_next_mfa_user", 0)
    security._next_mfa_user = index + 1
    return security.data["mfa_users"][index]
