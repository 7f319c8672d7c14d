"""Helpers for the black-box protocol suites (Django test client, no live server).

Everything here speaks HTTP to the public endpoints, as a client or a resource server would.
The one exception is `mint`, which forges access tokens with chosen header and claims and
stores their server-side row, so that a refusal proves the verifier checked that header or
claim (and not merely that the row was missing).
"""

import base64
import functools
import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.conf import settings
from django.test import Client as BrowserClient
from django.utils import timezone
from jwcrypto import jwk, jwt

from conftest import basic, bearer, form_post
from oauth import keys
from oauth.claims import access_token_claims
from oauth.jws import ACCESS_TOKEN_TYPE
from oauth.models import AccessToken
from oauth.validators import Validator

TOKEN_URL = "/oauth/token/"
REVOKE_URL = "/oauth/revoke/"
INTROSPECT_URL = "/oauth/introspect/"
AUTHORIZE_URL = "/oauth/authorize/"
ME_URL = "/api/me"

# Authorization headers that are not valid HTTP Basic credentials (RFC 7617 / RFC 6749 2.3.1).
MALFORMED_BASIC = {
    "bad-base64": "Basic !!!",
    "no-colon": "Basic QUJD",
    "nul": "Basic aWQAOnNlY3JldA==",
    "non-utf8": "Basic //79:",
    "empty": "Basic",
}


def assert_no_store(response):
    """RFC 6749 5.1: token responses (errors included) are JSON and never cached."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response["Cache-Control"] == "no-store"
    assert response["Pragma"] == "no-cache"


def assert_oauth_error(response, error, status=400):
    assert response.status_code == status, (response.status_code, response.content)
    assert_no_store(response)
    body = response.json()
    assert body["error"] == error, body
    return body


def post_token(data, auth=None, **headers):
    """POST to the token endpoint; `auth` is (client_id, secret) for HTTP Basic."""
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = basic(*auth)
    return form_post(BrowserClient(), TOKEN_URL, data, **headers)


def introspect(token, auth, **extra):
    return form_post(BrowserClient(), INTROSPECT_URL, {"token": token, **extra}, HTTP_AUTHORIZATION=basic(*auth))


def revoke(token, auth=None, **extra):
    headers = {"HTTP_AUTHORIZATION": basic(*auth)} if auth is not None else {}
    return form_post(BrowserClient(), REVOKE_URL, {"token": token, **extra}, **headers)


def me(token):
    return BrowserClient().get(ME_URL, **bearer(token))


def is_active(token, auth):
    response = introspect(token, auth)
    assert response.status_code == 200, response.content
    return response.json()["active"]


def creds(pair):
    """(client, secret) -> (client_id, secret) for HTTP Basic."""
    client, secret = pair
    return client.client_id, secret


def client_credentials_token(pair, scope=None):
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    response = post_token(data, auth=creds(pair))
    assert response.status_code == 200, response.content
    return response.json()


def redirect_query(response):
    """The query of an authorization response's Location, as a dict of single values."""
    assert response.status_code == 302, (response.status_code, response.content[:500])
    parts = urlsplit(response["Location"])
    return parts, {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}


def jwt_parts(token):
    """(header, claims) of a compact JWT, decoded without verification."""

    def decode(segment):
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

    header, claims, _ = token.split(".")
    return decode(header), decode(claims)


def mint(*, client, user=None, header=None, claims=None, drop=(), key=None, store=True, raw=False):
    """Forge an access token: our valid claims and header, overridden by `claims`/`header`,
    minus the claim names in `drop`, signed with `key` (ours by default). With `store`, its
    server-side row is written too, exactly as issuance writes it. With `raw`, the RS256
    signature is made by hand, for headers jwcrypto refuses to produce (`crit`)."""
    now = int(time.time())
    body = access_token_claims(
        issuer=settings.ISSUER,
        audience=settings.ACCESS_TOKEN_AUDIENCE,
        client_id=client.client_id,
        subject=user.subject if user else client.client_id,
        scope="profile",
        lifetime=300,
        now=now,
    )
    body.update(claims or {})
    for name in drop:
        body.pop(name, None)
    signing = keys.signing_key() if key is None else key
    head = {"alg": keys.ALGORITHM, "typ": ACCESS_TOKEN_TYPE, "kid": keys.signing_key()["kid"]}
    head.update(header or {})
    head = {k: v for k, v in head.items() if v is not None}
    if raw:
        serialized = _sign_rs256_by_hand(head, body, signing)
    else:
        token = jwt.JWT(header=head, claims=body)
        token.make_signed_token(signing)
        serialized = token.serialize()
    if store:
        row = AccessToken(
            user=user,
            application=client,
            scope=body.get("scope", "profile"),
            expires=timezone.now() + timedelta(seconds=300),
            jti=body.get("jti", ""),
        )
        Validator()._set_token_value(row, serialized)
        row.save()
    return serialized


def b64url(data):
    raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _sign_rs256_by_hand(header, claims, key):
    signing_input = f"{b64url(header)}.{b64url(claims)}"
    private = key.get_op_key("sign")
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


@functools.cache
def _attacker_key():
    return jwk.JWK.generate(kty="RSA", size=2048)


def fresh_rsa_key(kid=None):
    """An RSA key that is not ours (one per test run: generating keys is slow)."""
    members = _attacker_key().export(private_key=True, as_dict=True)
    members.pop("kid", None)
    if kid is not None:
        members["kid"] = kid
    return jwk.JWK(**members)
