"""Helpers for the OpenID Connect suites (Django test client, no live server)."""

import base64
import hashlib
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.test import Client as BrowserClient
from django_otp.oath import TOTP
from jwcrypto import jwk, jwt

from accounts.mfa import flows as mfa_flows
from conftest import PASSWORD, REDIRECT_URI, new_verifier
from sso.flows import SID_SESSION_KEY
from sso.models import SSOSession
from tests.e2e.helpers import AUTHORIZE_URL, jwt_parts, post_token

USERINFO_URL = "/oauth/userinfo/"
LOGOUT_URL = "/oauth/logout/"
JWKS_URL = "/.well-known/jwks.json"


def at_hash(access_token):
    """OpenID Connect Core 3.1.3.6: left half of the SHA-256 of the token, base64url."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def verify_id_token(token, *, client_id):
    """Verify an ID token as a relying party would, with the published JWKS only; returns
    (header, claims). Expiry is checked; iss and aud are compared exactly."""
    key_set = jwk.JWKSet.from_json(BrowserClient().get(JWKS_URL).content)
    verified = jwt.JWT(
        jwt=token,
        key=key_set,
        algs=["RS256"],
        check_claims={"iss": settings.ISSUER, "aud": client_id, "exp": None, "iat": None},
    )
    return json.loads(verified.header), json.loads(verified.claims)


def authorization_params(client, *, scope="openid profile", state="st", redirect_uri=REDIRECT_URI, **extra):
    """Authorization request parameters with a fresh PKCE pair: (params, verifier)."""
    verifier, challenge = new_verifier()
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return {k: v for k, v in params.items() if v is not None}, verifier


def authorize(browser, client, **kwargs):
    """GET the authorization endpoint; returns (response, params, verifier)."""
    params, verifier = authorization_params(client, **kwargs)
    return browser.get(AUTHORIZE_URL, params), params, verifier


def code_for(browser, client, **kwargs):
    """Authorize, consenting if asked; returns (code, verifier)."""
    response, params, verifier = authorize(browser, client, **kwargs)
    if response.status_code == 200:
        response = browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    return location_query(response)["code"], verifier


def exchange(pair, code, verifier, redirect_uri=REDIRECT_URI):
    """Redeem a code at the token endpoint (HTTP Basic for a confidential client)."""
    client, secret = pair
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    if secret is None:
        return post_token({**data, "client_id": client.client_id})
    return post_token(data, auth=(client.client_id, secret))


def oidc_tokens(browser, pair, **kwargs):
    """The token response of a whole code flow (openid profile by default)."""
    response = exchange(pair, *code_for(browser, pair[0], **kwargs))
    assert response.status_code == 200, response.content
    return response.json()


def location_query(response):
    assert response.status_code == 302, (response.status_code, response.content[:500])
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query, keep_blank_values=True).items()}


def _sso_session(browser):
    return SSOSession.objects.filter(sid=browser.session[SID_SESSION_KEY])


def session_auth_time(browser):
    """The login time (Unix) of the browser's SSO session: what `auth_time` should say."""
    return int(_sso_session(browser).get().authenticated_at.timestamp())


def set_session_auth_time(browser, value):
    """Pretend the browser's user logged in at Unix time `value`."""
    assert _sso_session(browser).update(authenticated_at=datetime.fromtimestamp(value, tz=UTC)) == 1


def id_token_claims(token):
    return jwt_parts(token)[1]


# --- two-factor logins --------------------------------------------------------------------


def totp_code(device, steps=0):
    """The code an authenticator app shows for `device` now (+ `steps` periods), computed from
    its secret with django-otp's own TOTP maths."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = totp.time + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def enrol_totp(user):
    """Give `user` a confirmed authenticator app through the enrolment flow; returns the device
    (its code of the previous period is used up: tests use the current or the next one)."""
    device = mfa_flows.start_totp(user=user)
    mfa_flows.confirm_totp(user=user, code=totp_code(device, steps=-1))
    device.refresh_from_db()
    return device


def enter_code(browser, device, steps=1):
    """Answer the login's code step with a code from `device` (the next period's by default:
    drift is accepted, and the current one may have been used already)."""
    response = browser.post("/accounts/login/code/", {"code": totp_code(device, steps=steps)})
    assert response.status_code == 302, response.content[:500]
    return response


def two_factor_browser(user, device):
    """A browser logged in with the password and a code from `device`."""
    browser = BrowserClient()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/accounts/login/code/", response.content[:500]
    enter_code(browser, device)
    return browser
