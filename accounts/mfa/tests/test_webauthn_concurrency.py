"""One passkey answer posted several times at once (PostgreSQL, separate connections): one
login at most, also for an authenticator that keeps no signature counter (the challenge of
the last accepted login is kept on the locked row)."""

import pytest
from django.test import Client

from accounts.mfa.models import WebAuthnCredential
from conftest import PASSWORD, run_concurrently
from sso.models import SSOSession

from .softkey import SoftAuthenticator

pytestmark = [
    pytest.mark.postgres("simultaneous uses of one passkey answer on separate connections"),
    pytest.mark.django_db(transaction=True),
]


def test_one_passkey_answer_posted_at_once_logs_in_once(user):
    key = SoftAuthenticator(counter=False)
    browser = Client()
    browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    options = browser.post("/accounts/passkeys/options/").json()
    browser.post("/accounts/passkeys/add/", {"credential": key.create(options)})
    browser.post("/accounts/logout/")
    assert WebAuthnCredential.objects.filter(user=user).count() == 1
    before = SSOSession.objects.count()

    options = browser.post("/accounts/login/passkey/options/").json()
    answer = key.get(options)

    def post():
        twin = Client()
        twin.cookies = browser.cookies
        response = twin.post("/accounts/login/passkey/", {"credential": answer, "next": "/accounts/sessions/"})
        return response.status_code, response.get("Location", "")

    results, errors = run_concurrently(post, 6)
    assert errors == []
    assert [r for r in results if r == (303, "/accounts/sessions/")] == [(303, "/accounts/sessions/")]
    assert all(status < 500 for status, _ in results)
    assert SSOSession.objects.count() == before + 1


def test_one_registration_answer_posted_at_once_registers_once(user):
    key = SoftAuthenticator()
    browser = Client()
    browser.force_login(user)
    options = browser.post("/accounts/passkeys/options/").json()
    answer = key.create(options)

    def post():
        twin = Client()
        twin.cookies = browser.cookies
        return twin.post("/accounts/passkeys/add/", {"credential": answer}).status_code

    results, errors = run_concurrently(post, 6)
    assert errors == [] and all(status < 500 for status in results)
    assert WebAuthnCredential.objects.filter(user=user).count() == 1
