"""OpenID Connect RP-Initiated Logout 1.0 at the end_session_endpoint (/oauth/logout/)."""

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.core.management import CommandError, call_command
from django.test import Client as BrowserClient
from jwcrypto import jwt

from oauth import keys
from oauth.jws import verify_id_token_hint
from tests.e2e.helpers import b64url, fresh_rsa_key, jwt_parts, mint
from tests.e2e.oidc import LOGOUT_URL, oidc_tokens

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-RP-Logout", "2")]
AFTER_LOGOUT = "https://app.example.com/logged-out"


@pytest.fixture
def rp(make_client):
    """A relying party with a registered post-logout redirect URI: (client, secret)."""
    return make_client(name="RP", post_logout_redirect_uris=[AFTER_LOGOUT, "https://app.example.com/bye?from=idp"])


@pytest.fixture
def id_token(browser, rp):
    return oidc_tokens(browser, rp)["id_token"]


def logged_in(browser):
    return browser.get("/accounts/profile/").status_code == 200


def forged_hint(claims=None, header=None, key=None):
    """An ID-token-shaped JWT with chosen claims and header, signed with `key` (ours by default)."""
    signing = key or keys.signing_key()
    body = {"iss": settings.ISSUER, "sub": "someone", "aud": "x", "iat": int(time.time()), "exp": int(time.time()) + 60}
    body.update(claims or {})
    head = {"alg": "RS256", "typ": "JWT", "kid": keys.signing_key()["kid"], **(header or {})}
    token = jwt.JWT(header=head, claims=body)
    token.make_signed_token(signing)
    return token.serialize()


def assert_refused(response, browser=None):
    assert response.status_code == 400, response.content[:500]
    assert "Location" not in response
    assert b"cannot be completed" in response.content
    if browser is not None:
        assert logged_in(browser)


# --- without a hint: the user is asked --------------------------------------------------------


def test_without_a_hint_the_user_is_asked(browser, rp):
    response = browser.get(LOGOUT_URL, {"client_id": rp[0].client_id, "post_logout_redirect_uri": AFTER_LOGOUT})
    assert response.status_code == 200
    assert b'id="logoutForm"' in response.content and b"csrfmiddlewaretoken" in response.content
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert logged_in(browser)


def test_confirming_logs_out_and_redirects_with_state(browser, rp):
    response = browser.post(
        "/oauth/logout/confirm/",
        {"client_id": rp[0].client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "s1"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"{AFTER_LOGOUT}?state=s1"
    assert not logged_in(browser)


def test_confirmation_needs_the_csrf_token(user):
    strict = BrowserClient(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/oauth/logout/confirm/", {}).status_code == 403
    assert strict.get("/accounts/profile/").status_code == 200


def test_confirmation_form_round_trip_with_csrf(user, rp):
    strict = BrowserClient(enforce_csrf_checks=True)
    strict.force_login(user)
    page = strict.get(
        LOGOUT_URL, {"client_id": rp[0].client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "z"}
    )
    token = page.context["csrf_token"]
    response = strict.post(
        "/oauth/logout/confirm/",
        {
            "csrfmiddlewaretoken": str(token),
            "client_id": rp[0].client_id,
            "post_logout_redirect_uri": AFTER_LOGOUT,
            "state": "z",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"{AFTER_LOGOUT}?state=z"


def test_confirmation_form_with_a_tampered_uri_is_refused(browser, rp):
    response = browser.post(
        "/oauth/logout/confirm/", {"client_id": rp[0].client_id, "post_logout_redirect_uri": "https://evil.example/"}
    )
    assert_refused(response, browser)


def test_without_a_hint_and_no_session_redirects_to_a_registered_uri(rp):
    response = BrowserClient().get(
        LOGOUT_URL, {"client_id": rp[0].client_id, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "q"}
    )
    assert response.status_code == 302 and response["Location"] == f"{AFTER_LOGOUT}?state=q"


# --- with a valid hint: log out at once --------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_valid_hint_logs_out_and_redirects_with_state(browser, rp, id_token, method):
    received = []
    user_logged_out.connect(lambda sender, **kw: received.append(kw["user"]), weak=False, dispatch_uid="t-logout")
    try:
        response = getattr(browser, method)(
            LOGOUT_URL, {"id_token_hint": id_token, "post_logout_redirect_uri": AFTER_LOGOUT, "state": "abc"}
        )
    finally:
        user_logged_out.disconnect(dispatch_uid="t-logout")
    assert response.status_code == 302
    assert response["Location"] == f"{AFTER_LOGOUT}?state=abc"
    assert not logged_in(browser)
    assert len(received) == 1  # the SSO app ends its session on this signal


def test_the_registered_query_is_kept_and_state_added(browser, rp, id_token):
    uri = "https://app.example.com/bye?from=idp"
    response = browser.get(LOGOUT_URL, {"id_token_hint": id_token, "post_logout_redirect_uri": uri, "state": "x y"})
    parts = urlsplit(response["Location"])
    assert parse_qs(parts.query) == {"from": ["idp"], "state": ["x y"]}


def test_a_valid_hint_without_a_redirect_uri_shows_logged_out(browser, id_token):
    response = browser.get(LOGOUT_URL, {"id_token_hint": id_token})
    assert response.status_code == 200
    assert b"You are logged out" in response.content
    assert not logged_in(browser)


def test_a_valid_hint_with_its_client_id(browser, rp, id_token):
    response = browser.get(
        LOGOUT_URL, {"id_token_hint": id_token, "client_id": rp[0].client_id, "post_logout_redirect_uri": AFTER_LOGOUT}
    )
    assert response.status_code == 302


def test_an_expired_hint_is_accepted(browser, rp, user):
    hint = forged_hint({"sub": user.subject, "aud": rp[0].client_id, "exp": int(time.time()) - 3600})
    response = browser.get(LOGOUT_URL, {"id_token_hint": hint, "post_logout_redirect_uri": AFTER_LOGOUT})
    assert response.status_code == 302
    assert not logged_in(browser)


def test_a_hint_for_another_user_asks_first(browser, rp, make_user):
    hint = forged_hint({"sub": make_user().subject, "aud": rp[0].client_id})
    response = browser.get(LOGOUT_URL, {"id_token_hint": hint, "post_logout_redirect_uri": AFTER_LOGOUT})
    assert response.status_code == 200 and b'id="logoutForm"' in response.content
    assert logged_in(browser)


# --- refused: never a redirect to an unregistered URI, never a forged hint ---------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://evil.example/",
        AFTER_LOGOUT + "/",
        AFTER_LOGOUT.upper(),
        AFTER_LOGOUT + "?x=1",
        "https://app.example.com/callback",
    ],
)
def test_an_unregistered_post_logout_redirect_uri_is_refused(browser, rp, id_token, uri):
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": id_token, "post_logout_redirect_uri": uri}), browser)


def test_a_redirect_uri_without_client_or_hint_is_refused(browser):
    assert_refused(browser.get(LOGOUT_URL, {"post_logout_redirect_uri": AFTER_LOGOUT}), browser)


def test_a_hint_signed_by_an_unknown_key_is_refused(browser, rp, user):
    hint = forged_hint({"sub": user.subject, "aud": rp[0].client_id}, key=fresh_rsa_key())
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": hint}), browser)


def test_a_hint_with_an_unknown_kid_is_refused(browser, rp, user):
    hint = forged_hint({"sub": user.subject, "aud": rp[0].client_id}, header={"kid": "nope"})
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": hint}), browser)


def test_a_hint_from_another_issuer_is_refused(browser, rp, user):
    hint = forged_hint({"sub": user.subject, "aud": rp[0].client_id, "iss": "https://other.example"})
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": hint}), browser)


def test_an_unsigned_hint_is_refused(browser, rp, user, id_token):
    header, claims = jwt_parts(id_token)
    unsigned = f"{b64url({**header, 'alg': 'none'})}.{b64url(claims)}."
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": unsigned}), browser)


def test_a_tampered_hint_is_refused(browser, id_token, make_user):
    header, claims = id_token.split(".")[0], jwt_parts(id_token)[1]
    tampered = f"{header}.{b64url({**claims, 'sub': make_user().subject})}.{id_token.split('.')[2]}"
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": tampered}), browser)


def test_an_access_token_is_not_an_id_token_hint(browser, rp, user):
    access = mint(client=rp[0], user=user)
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": access}), browser)


def test_a_logout_token_is_not_an_id_token_hint(browser, rp, user):
    hint = forged_hint({"sub": user.subject, "aud": rp[0].client_id}, header={"typ": "logout+jwt"})
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": hint}), browser)


@pytest.mark.parametrize("hint", ["garbage", "a.b.c", "x" * 9000])
def test_a_malformed_hint_is_refused(browser, hint):
    assert_refused(browser.get(LOGOUT_URL, {"id_token_hint": hint}), browser)


def test_a_client_id_that_is_not_the_hints_audience_is_refused(browser, id_token, other):
    response = browser.get(LOGOUT_URL, {"id_token_hint": id_token, "client_id": other[0].client_id})
    assert_refused(response, browser)


def test_an_unknown_client_id_is_refused(browser):
    assert_refused(browser.get(LOGOUT_URL, {"client_id": "nope"}), browser)


def test_nul_and_duplicates_are_refused(browser, rp):
    assert_refused(browser.get(LOGOUT_URL, {"client_id": "a\x00b"}), browser)
    assert_refused(browser.get(f"{LOGOUT_URL}?state=a&state=b"), browser)


def test_other_methods_are_refused(browser):
    assert browser.put(LOGOUT_URL).status_code == 405


def test_the_hint_is_verified_with_our_keys_not_dots(settings, browser, id_token):
    """DOT's OIDC_RSA_PRIVATE_KEY is not what we sign with: it stays unset."""
    assert not settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY")
    assert verify_id_token_hint(id_token)["iss"] == settings.ISSUER


# --- registering post-logout redirect URIs ----------------------------------------------------


def test_create_client_registers_post_logout_redirect_uris(db, capsys):
    call_command(
        "create_client",
        "--name=RP",
        "--grant-types=authorization_code",
        "--redirect-uri=https://rp.example/cb",
        "--post-logout-redirect-uri=https://rp.example/bye",
        "--post-logout-redirect-uri=http://127.0.0.1:9000/bye",
        "--json",
    )
    out = json.loads(capsys.readouterr().out)
    assert out["post_logout_redirect_uris"] == ["https://rp.example/bye", "http://127.0.0.1:9000/bye"]


@pytest.mark.parametrize("uri", ["http://rp.example/bye", "https://rp.example/bye#frag", "https://*.rp.example/"])
def test_post_logout_redirect_uris_follow_the_redirect_uri_rules(db, uri):
    with pytest.raises(CommandError, match="post_logout_redirect_uris"):
        call_command(
            "create_client",
            "--name=RP",
            "--grant-types=authorization_code",
            "--redirect-uri=https://rp.example/cb",
            f"--post-logout-redirect-uri={uri}",
        )
