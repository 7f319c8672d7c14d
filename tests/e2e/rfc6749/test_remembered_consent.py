"""Remembered consent (oauth.consents): an approval is stored per (user, client, scopes).

OpenID Connect Core 3.1.2.4 lets the server establish consent "through other means", such as
an earlier approval; RFC 6749 10.2 and RFC 8252 8.6 limit when a repeated request may be
answered without the user. A later request for the same scopes or fewer skips the page; new
scopes ask again, showing which were already allowed; prompt=consent always asks; prompt=none
answers from the stored consent or with consent_required. Only the stored consent counts:
tokens of the client from another grant are no approval.
"""

import pytest
from django.conf import settings

from oauth.models import Consent, Grant
from tests.e2e.helpers import AUTHORIZE_URL, creds, post_token, redirect_query
from tests.e2e.oidc import authorize, code_for

pytestmark = [pytest.mark.django_db, pytest.mark.rfc("OIDC-Core", "3.1.2.4")]


def is_consent_page(response):
    return response.status_code == 200 and b'id="authorizationForm"' in response.content


def approve(browser, client, scope="openid profile", **extra):
    """Answer the consent page with Allow; returns the authorization response."""
    page, params, _ = authorize(browser, client, scope=scope, **extra)
    assert is_consent_page(page), page.content[:300]
    return browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})


def consent_of(user, client):
    return Consent.objects.filter(user=user, client=client).first()


def test_an_approval_is_stored_with_its_scopes(browser, confidential, user):
    response = approve(browser, confidential[0], scope="openid profile email")
    assert redirect_query(response)[1]["code"]
    consent = consent_of(user, confidential[0])
    assert consent.scope_set == {"openid", "profile", "email"}
    assert consent.created_at == consent.updated_at


@pytest.mark.parametrize("scope", ["openid profile", "profile", "openid"])
def test_the_same_or_fewer_scopes_skip_the_page(browser, confidential, scope):
    approve(browser, confidential[0], scope="openid profile")
    response, _, _ = authorize(browser, confidential[0], scope=scope, state="again")
    _, query = redirect_query(response)
    assert query["code"] and query["state"] == "again" and query["iss"] == settings.ISSUER
    assert Grant.objects.latest("id").scope == scope


def test_a_new_scope_asks_again_and_shows_what_was_allowed(browser, confidential, user):
    approve(browser, confidential[0], scope="openid profile")
    page, params, _ = authorize(browser, confidential[0], scope="openid profile email")
    assert is_consent_page(page)
    body = page.content.decode()
    assert body.count(">already allowed<") == 2  # openid, profile
    assert body.count(">new<") == 1  # email
    assert "You have already allowed" in body and "It now asks for more" in body
    browser.post(AUTHORIZE_URL, {**params, "allow": "Authorize"})
    consent = consent_of(user, confidential[0])
    assert consent.scope_set == {"openid", "profile", "email"}
    assert consent.updated_at > consent.created_at


def test_approving_other_scopes_stores_the_union(browser, confidential, user):
    approve(browser, confidential[0], scope="openid profile")
    approve(browser, confidential[0], scope="read")
    assert consent_of(user, confidential[0]).scope_set == {"openid", "profile", "read"}
    assert Consent.objects.count() == 1
    response, _, _ = authorize(browser, confidential[0], scope="openid read")
    assert redirect_query(response)[1]["code"]


def test_a_first_request_shows_no_already_allowed_marks(browser, confidential):
    page, _, _ = authorize(browser, confidential[0])
    assert is_consent_page(page)
    assert b">already allowed<" not in page.content and b">new<" not in page.content


def test_consent_is_per_client(browser, confidential, other):
    approve(browser, confidential[0])
    assert is_consent_page(authorize(browser, other[0])[0])


def test_consent_is_per_user(browser, confidential, make_user):
    from django.test import Client as BrowserClient

    approve(browser, confidential[0])
    someone = BrowserClient()
    someone.force_login(make_user())
    assert is_consent_page(authorize(someone, confidential[0])[0])


def test_deny_stores_nothing(browser, confidential):
    page, params, _ = authorize(browser, confidential[0])
    assert is_consent_page(page)
    response = browser.post(AUTHORIZE_URL, {**params, "consent_answer": "1"})  # Deny: no "allow"
    assert redirect_query(response)[1]["error"] == "access_denied"
    assert not Consent.objects.exists()
    assert is_consent_page(authorize(browser, confidential[0])[0])


def test_denying_new_scopes_keeps_the_earlier_consent_as_it_was(browser, confidential, user):
    approve(browser, confidential[0], scope="profile")
    page, params, _ = authorize(browser, confidential[0], scope="profile email")
    browser.post(AUTHORIZE_URL, params)
    assert consent_of(user, confidential[0]).scope_set == {"profile"}


def test_prompt_consent_always_asks(browser, confidential, user):
    approve(browser, confidential[0])
    page, params, _ = authorize(browser, confidential[0], prompt="consent")
    assert is_consent_page(page)
    assert page.content.decode().count(">already allowed<") == 2
    assert b"It asks you to confirm" in page.content and b">new<" not in page.content


def test_prompt_none_with_a_covering_consent_answers_a_code(browser, confidential):
    approve(browser, confidential[0], scope="openid profile")
    response, _, _ = authorize(browser, confidential[0], scope="openid", prompt="none")
    assert redirect_query(response)[1]["code"]
    assert not response.content


@pytest.mark.rfc("OIDC-Core", "3.1.2.6")
@pytest.mark.parametrize("earlier", [None, "openid"])
def test_prompt_none_without_a_covering_consent_is_consent_required(browser, confidential, earlier):
    if earlier:
        approve(browser, confidential[0], scope=earlier)
    response, _, _ = authorize(browser, confidential[0], scope="openid email", prompt="none")
    _, query = redirect_query(response)
    assert query["error"] == "consent_required" and query["iss"] == settings.ISSUER
    assert "code" not in query


def test_a_trusted_client_skips_the_page_and_stores_no_consent(browser, trusted):
    response, _, _ = authorize(browser, trusted[0])
    assert redirect_query(response)[1]["code"]
    assert not Consent.objects.exists()


@pytest.mark.rfc("6749", "10.2")
@pytest.mark.usefixtures("password_grant_enabled")
def test_tokens_from_another_grant_are_no_consent(browser, make_client, user):
    """DOT's REQUEST_APPROVAL_PROMPT "auto" approved whenever the user held a live access
    token with the scopes, whatever grant issued it; asking for that mode in the request
    (`approval_prompt=auto`) does not bring it back."""
    pair = make_client(name="Legacy and web", grant_types=["authorization_code", "password", "refresh_token"])
    token = post_token(
        {"grant_type": "password", "username": user.username, "password": "correct horse battery staple"},
        auth=creds(pair),
    )
    assert token.status_code == 200, token.content
    assert is_consent_page(authorize(browser, pair[0])[0])
    assert is_consent_page(authorize(browser, pair[0], approval_prompt="auto")[0])
    response, _, _ = authorize(browser, pair[0], prompt="none")
    assert redirect_query(response)[1]["error"] == "consent_required"


def test_a_consent_deleted_by_an_operator_asks_again(browser, confidential):
    code_for(browser, confidential[0])
    Consent.objects.all().delete()
    assert is_consent_page(authorize(browser, confidential[0])[0])


# --- RFC 8252 8.6: a native app's identity cannot be proven -----------------------------------


@pytest.mark.rfc("8252", "8.6")
def test_a_public_client_on_loopback_is_asked_every_time(browser, make_client, user):
    native = make_client(name="Native app", public=True, redirect_uris=["http://127.0.0.1:7000/cb"])[0]
    approve(browser, native, redirect_uri="http://127.0.0.1:7000/cb")
    assert consent_of(user, native)  # stored: the connected apps page lists it
    page, _, _ = authorize(browser, native, redirect_uri="http://127.0.0.1:7000/cb")
    assert is_consent_page(page)
    assert page.content.decode().count(">already allowed<") == 2
    response, _, _ = authorize(browser, native, redirect_uri="http://127.0.0.1:7000/cb", prompt="none")
    assert redirect_query(response)[1]["error"] == "consent_required"


def test_a_public_client_on_https_is_remembered(browser, public):
    approve(browser, public)
    assert redirect_query(authorize(browser, public)[0])[1]["code"]


# --- The consent page shows the client --------------------------------------------------------


def test_the_page_shows_the_logo_and_links_and_allows_only_the_logos_origin(browser, make_client):
    client = make_client(
        name="Photo app",
        logo_uri="https://cdn.photos.example/logo.png",
        client_uri="https://photos.example/",
        policy_uri="https://photos.example/privacy",
        tos_uri="https://photos.example/terms",
    )[0]
    page, _, _ = authorize(browser, client)
    body = page.content.decode()
    assert '<img src="https://cdn.photos.example/logo.png"' in body
    assert 'referrerpolicy="no-referrer"' in body
    for link in ("https://photos.example/", "https://photos.example/privacy", "https://photos.example/terms"):
        assert f'href="{link}"' in body
    policy = page["Content-Security-Policy"]
    assert "img-src 'self' https://cdn.photos.example" in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_without_a_logo_the_policy_stays_as_it_is(browser, confidential):
    page, _, _ = authorize(browser, confidential[0])
    # Directive by directive: django-csp does not keep their order, so img-src may come last.
    directives = dict(d.strip().split(None, 1) for d in page["Content-Security-Policy"].split(";") if d.strip())
    assert directives["img-src"] == "'self'"  # ours only
    assert b"<img" not in page.content


def test_the_page_lists_each_scope_with_its_description(browser, confidential):
    page, _, _ = authorize(browser, confidential[0], scope="openid email read")
    body = page.content.decode()
    for scope in ("openid", "email", "read"):
        assert settings.OAUTH_SCOPES[scope] in body and f"({scope})" in body
