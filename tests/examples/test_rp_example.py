"""examples/rp: the checks the relying party adds to mozilla-django-oidc (relying_party/auth.py),
with the library's network calls replaced (the browser suite runs the whole flow for real)."""

import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rp"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from relying_party import auth  # noqa: E402 (needs the path above)

ISSUER = "https://id.example.com"
CLIENT_ID = "the-rp"


@pytest.fixture(autouse=True)
def rp_settings(settings):
    settings.OIDC_OP_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = ""
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/oauth/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{ISSUER}/oauth/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/.well-known/jwks.json"
    settings.OIDC_OP_END_SESSION_ENDPOINT = f"{ISSUER}/oauth/logout/"
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:8765/"


@pytest.fixture
def backend():
    return auth.IdentityBackend()


def claims_from_library(monkeypatch, claims):
    """What mozilla-django-oidc's own verification (signature, exp, nonce) returned."""
    monkeypatch.setattr(OIDCAuthenticationBackend, "verify_token", lambda self, token, **kwargs: dict(claims))


@pytest.mark.parametrize("aud", [CLIENT_ID, [CLIENT_ID, "other"]])
def test_an_id_token_from_our_issuer_for_us_is_accepted(backend, monkeypatch, aud):
    claims_from_library(monkeypatch, {"iss": ISSUER, "aud": aud, "sub": "s"})
    assert backend.verify_token("t", nonce="n")["sub"] == "s"


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "https://evil.example", "aud": CLIENT_ID},
        {"iss": ISSUER, "aud": "another-client"},
        {"iss": ISSUER, "aud": ["another-client"]},
        {"aud": CLIENT_ID},
        {"iss": ISSUER},
    ],
)
def test_an_id_token_from_elsewhere_or_for_another_client_is_refused(backend, monkeypatch, claims):
    claims_from_library(monkeypatch, {**claims, "sub": "s"})
    with pytest.raises(SuspiciousOperation):
        backend.verify_token("t", nonce="n")


def test_userinfo_about_another_subject_is_refused(backend, monkeypatch):
    monkeypatch.setattr(OIDCAuthenticationBackend, "get_userinfo", lambda self, *args: {"sub": "someone-else"})
    with pytest.raises(SuspiciousOperation):
        backend.get_userinfo("at", "idt", {"sub": "me"})
    monkeypatch.setattr(OIDCAuthenticationBackend, "get_userinfo", lambda self, *args: {"sub": "me"})
    assert backend.get_userinfo("at", "idt", {"sub": "me"}) == {"sub": "me"}


def test_a_public_client_sends_no_secret(backend, monkeypatch):
    sent = []
    monkeypatch.setattr(OIDCAuthenticationBackend, "get_token", lambda self, payload: sent.append(payload) or {})
    backend.get_token({"client_id": CLIENT_ID, "client_secret": "", "code": "c"})
    assert sent == [{"client_id": CLIENT_ID, "code": "c"}]
    backend.get_token({"client_id": CLIENT_ID, "client_secret": "s3cret", "code": "c"})
    assert sent[1]["client_secret"] == "s3cret"


@pytest.mark.django_db
def test_users_are_keyed_by_sub_and_named_by_preferred_username(backend):
    claims = {"sub": "1d6c-sub", "preferred_username": "demo", "email": "demo@example.com"}
    assert not backend.filter_users_by_claims(claims).exists()
    user = backend.create_user(claims)
    assert (user.username, user.first_name, user.email) == ("1d6c-sub", "demo", "demo@example.com")
    # Another person who now has that email address is not that user: the sub decides.
    assert not backend.filter_users_by_claims({"sub": "other", "email": "demo@example.com"}).exists()
    backend.update_user(user, {**claims, "preferred_username": "renamed"})
    assert get_user_model().objects.get(username="1d6c-sub").first_name == "renamed"
    assert backend.verify_claims(claims) and not backend.verify_claims({"email": "x@example.com"})


def test_logout_goes_to_the_end_session_endpoint_with_the_hint():
    request = RequestFactory().post("/logout")
    request.session = {"oidc_id_token": "the.id.token"}
    url = urlsplit(auth.provider_logout_url(request))
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{ISSUER}/oauth/logout/"
    assert parse_qs(url.query) == {
        "id_token_hint": ["the.id.token"],
        "post_logout_redirect_uri": ["http://127.0.0.1:8765/"],
        "client_id": [CLIENT_ID],
    }
