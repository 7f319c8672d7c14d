"""Every form of the server, posted with the `Origin` header a browser sends.

Chromium sends `Origin` on every POST. Its value depends on the page's referrer policy: under
`no-referrer` it is `null`, which Django's CSRF check refuses, so that no form of the server
could be submitted from a real browser while every test without the header passed. Here each
form is posted three ways: from our own origin (accepted), from `null` and from another site
(refused with 403). tests/browser/ submits the same forms in Chromium itself.
"""

import pytest
from django.test import Client

from accounts.tests.helpers import csrf_token
from conftest import PASSWORD, REDIRECT_URI, Flow, new_verifier

SAME_ORIGIN = "http://testserver"  # the test client's scheme and host
REFUSED_ORIGINS = ["null", "https://evil.example", "http://testserver.evil.example"]


def browser():
    return Client(enforce_csrf_checks=True)


def logged_in(user):
    agent = browser()
    agent.force_login(user)
    return agent


def anonymous(path):
    def prepare(user, client):
        agent = browser()
        return agent, path, {"csrfmiddlewaretoken": csrf_token(agent.get(path))}

    return prepare


def login_form(user, client):
    agent, path, data = anonymous("/accounts/login/")(user, client)
    return agent, path, {**data, "username": user.username, "password": PASSWORD}


def register_form(user, client):
    agent, path, data = anonymous("/accounts/register/")(user, client)
    return agent, path, {**data, "username": "newcomer", "email": "new@example.com", "password": PASSWORD}


def page_form(page, path=None):
    """A form of a logged-in user's page: the CSRF token comes from `page`."""

    def prepare(user, client):
        agent = logged_in(user)
        return agent, path or page, {"csrfmiddlewaretoken": csrf_token(agent.get(page))}

    return prepare


def consent_form(user, client):
    flow = Flow(user, client)
    agent = logged_in(user)
    _, challenge = new_verifier()
    params = flow.authorize_params(challenge=challenge)
    page = agent.get("/oauth/authorize/", params)
    assert page.status_code == 200
    url = page.wsgi_request.get_full_path()
    return agent, url, {**params, "allow": "Authorize", "csrfmiddlewaretoken": csrf_token(page)}


def password_change_form(user, client):
    agent, path, data = page_form("/accounts/password/")(user, client)
    new = "a brand new passphrase 42"
    return agent, path, {**data, "old_password": PASSWORD, "new_password1": new, "new_password2": new}


def end_one_session(user, client):
    other = logged_in(user)
    other.get("/accounts/profile/")  # a second device
    agent = logged_in(user)
    page = agent.get("/accounts/sessions/")
    session = next(row.session for row in page.context["sessions"] if not row.current)
    return agent, f"/accounts/sessions/{session.public_id}/end/", {"csrfmiddlewaretoken": csrf_token(page)}


def logout_confirm_form(user, client):
    agent = logged_in(user)
    page = agent.get("/oauth/logout/")  # no id_token_hint: the user is asked
    assert page.status_code == 200
    return agent, "/oauth/logout/confirm/", {"csrfmiddlewaretoken": csrf_token(page)}


def revoke_app_access(user, client):
    Flow(user, client).code()  # consent given: the app is connected
    agent = logged_in(user)
    page = agent.get("/accounts/apps/")
    return agent, f"/accounts/apps/{client.client_id}/revoke/", {"csrfmiddlewaretoken": csrf_token(page)}


def _enrolled(user):
    from accounts.mfa import flows
    from accounts.mfa.tests.conftest import code_for

    device = flows.start_totp(user=user)
    flows.confirm_totp(user=user, code=code_for(device, offset_steps=-1))
    return device


def mfa_code_form(user, client):
    from accounts.mfa.tests.conftest import code_for

    device = _enrolled(user)
    agent, path, data = login_form(user, client)
    assert agent.post(path, data, HTTP_ORIGIN=SAME_ORIGIN)["Location"] == "/accounts/login/code/"
    page = agent.get("/accounts/login/code/")
    return (
        agent,
        "/accounts/login/code/",
        {"csrfmiddlewaretoken": csrf_token(page), "code": code_for(device, offset_steps=1)},
    )


def mfa_setup_form(user, client):
    from accounts.mfa import flows
    from accounts.mfa.tests.conftest import code_for

    agent, path, data = page_form("/accounts/2fa/totp/")(user, client)
    return agent, path, {**data, "code": code_for(flows.pending_totp(user))}


def mfa_logged_in_form(path, page, **fields):
    def prepare(user, client):
        _enrolled(user)
        agent, _, data = page_form(page)(user, client)
        return agent, path, {**data, **fields}

    return prepare


def profile_form(user, client):
    agent, path, data = page_form("/accounts/profile/")(user, client)
    return agent, path, {**data, "first_name": "Ada", "last_name": "Lovelace", "email": user.email}


def resend_verification_form(user, client):
    return page_form("/accounts/profile/", "/accounts/verify-email/resend/")(user, client)


def password_reset_form(user, client):
    agent, path, data = anonymous("/accounts/password/reset/")(user, client)
    return agent, path, {**data, "email": user.email}


def password_reset_confirm_form(user, client):
    from django.contrib.auth.tokens import default_token_generator

    from accounts.flows import reset_uid

    agent = browser()
    link = f"/accounts/password/reset/{reset_uid(user)}/{default_token_generator.make_token(user)}/"
    path = agent.get(link)["Location"]  # the token moves into the session
    new = "a brand new passphrase 42"
    return agent, path, {"csrfmiddlewaretoken": csrf_token(agent.get(path)), "new_password1": new, "new_password2": new}


def verify_email_form(user, client):
    from accounts.verification import make_token

    agent = browser()
    path = agent.get(f"/accounts/verify-email/{make_token(user)}/")["Location"]
    return agent, path, {"csrfmiddlewaretoken": csrf_token(agent.get(path))}


FORMS = {
    "two-factor code step": mfa_code_form,
    "two-factor set-up": mfa_setup_form,
    "new recovery codes": mfa_logged_in_form("/accounts/2fa/recovery-codes/", "/accounts/2fa/"),
    "turn off two-factor": mfa_logged_in_form("/accounts/2fa/disable/", "/accounts/2fa/disable/", password=PASSWORD),
    "login": login_form,
    "register": register_form,
    "consent": consent_form,
    "logout": page_form("/accounts/profile/", "/accounts/logout/"),
    "password change": password_change_form,
    "end one session": end_one_session,
    "log out everywhere": page_form("/accounts/sessions/", "/accounts/sessions/logout-everywhere/"),
    "RP-initiated logout confirmation": logout_confirm_form,
    "revoke app access": revoke_app_access,
    "profile": profile_form,
    "resend verification email": resend_verification_form,
    "password reset request": password_reset_form,
    "password reset new password": password_reset_confirm_form,
    "email verification": verify_email_form,
}


@pytest.fixture
def oauth_client(make_client):
    return make_client(redirect_uris=[REDIRECT_URI])[0]


@pytest.mark.django_db
@pytest.mark.parametrize("form", FORMS)
def test_a_post_from_our_own_origin_is_accepted(form, user, oauth_client):
    agent, path, data = FORMS[form](user, oauth_client)
    response = agent.post(path, data, HTTP_ORIGIN=SAME_ORIGIN)
    assert response.status_code != 403, response.content[:500]
    assert response.status_code in (200, 302), response.content[:500]


@pytest.mark.django_db
@pytest.mark.parametrize("origin", REFUSED_ORIGINS)
@pytest.mark.parametrize("form", FORMS)
def test_a_post_from_null_or_another_origin_is_refused(form, origin, user, oauth_client):
    agent, path, data = FORMS[form](user, oauth_client)
    response = agent.post(path, data, HTTP_ORIGIN=origin)
    assert response.status_code == 403


@pytest.mark.django_db
def test_pages_ask_browsers_to_send_their_origin_on_posts(client):
    """`same-origin`: our own POSTs carry our origin (Django's CSRF check needs it, under
    `no-referrer` Chromium sends `null`), and no URL of ours (an authorization request's
    state, a reset link) reaches another site in a Referer."""
    response = client.get("/accounts/login/")
    assert response["Referrer-Policy"] == "same-origin"
    assert b'<meta name="referrer" content="same-origin">' in response.content
