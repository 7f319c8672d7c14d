"""Passkeys through Django's test client, with a software authenticator (softkey.py) whose
answers the server verifies for real (py_webauthn): registration, passwordless login, the code
step's passkey, one-time and expiring challenges, sign counters, user verification, origin,
management."""

import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from accounts.mfa import flows
from accounts.mfa.models import WebAuthnCredential
from accounts.mfa.webauthn import ceremony
from audit import events
from audit.models import SecurityEvent
from conftest import PASSWORD, Flow, bearer
from sso.models import SSOSession

from .conftest import code_for
from .softkey import SoftAuthenticator

pytestmark = pytest.mark.django_db


def log_in(client, user, next_url="/accounts/sessions/"):
    return client.post(f"/accounts/login/?next={next_url}", {"username": user.username, "password": PASSWORD})


def register(client, key, *, name="Laptop", origin=None):
    options = client.post("/accounts/passkeys/options/").json()
    answer = key.create(options, origin=origin)
    return client.post("/accounts/passkeys/add/", {"credential": answer, "name": name}), options


@pytest.fixture
def key():
    return SoftAuthenticator()


@pytest.fixture
def registered(client, user, key):
    """`user` with one passkey (`key`), logged out again; the passkey row."""
    log_in(client, user)
    response, _ = register(client, key)
    assert response.status_code == 303, response.content
    client.post("/accounts/logout/")
    return WebAuthnCredential.objects.get(user=user)


def passwordless(client, key, next_url="/accounts/sessions/", **answer):
    options = client.post("/accounts/login/passkey/options/").json()
    return client.post("/accounts/login/passkey/", {"credential": key.get(options, **answer), "next": next_url})


def latest_amr(user):
    return SSOSession.objects.filter(user=user).latest("created_at").amr


def audited(event):
    return list(SecurityEvent.objects.filter(event=event).order_by("pk"))


def test_registration_stores_the_passkey_and_records_it(client, user, key):
    log_in(client, user)
    response, options = register(client, key, name="  My   laptop ")
    assert response.status_code == 303 and response["Location"] == "/accounts/passkeys/"
    passkey = WebAuthnCredential.objects.get(user=user)
    assert (passkey.name, passkey.credential_id, passkey.confirmed) == ("My laptop", key.id, True)
    assert passkey.transports == ["internal"] and passkey.amr == "hwk" and passkey.sign_count == 0
    rp_id, _ = ceremony.relying_party()
    assert options["rp"]["id"] == rp_id and options["attestation"] == "none"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert passkey.user_handle == options["user"]["id"] and options["user"]["id"] != str(user.pk)
    [event] = audited(events.MFA_ENABLED)
    assert event.detail == {"method": "passkey", "name": "My laptop", "amr": "hwk"}
    assert flows.is_enabled(user)


def test_registration_answer_is_accepted_once(client, user, key):
    log_in(client, user)
    options = client.post("/accounts/passkeys/options/").json()
    answer = key.create(options)
    assert client.post("/accounts/passkeys/add/", {"credential": answer}).status_code == 303
    WebAuthnCredential.objects.all().delete()
    client.post("/accounts/passkeys/add/", {"credential": answer})
    assert not WebAuthnCredential.objects.exists()
    [failure] = audited(events.MFA_FAILED)
    assert failure.detail == {"method": "passkey", "reason": "no_challenge", "registering": True}


def test_a_second_passkey_shares_the_user_handle_and_excludes_the_first(client, user, key):
    log_in(client, user)
    register(client, key)
    other = SoftAuthenticator(backup_eligible=True)
    response, options = register(client, other, name="")
    assert [c["id"] for c in options["excludeCredentials"]] == [key.id]
    first, second = WebAuthnCredential.objects.filter(user=user).order_by("pk")
    assert first.user_handle == second.user_handle
    assert (second.name, second.amr, second.backup_eligible) == ("Passkey 2", "swk", True)


def test_registration_from_another_origin_is_refused(client, user, key):
    log_in(client, user)
    response, _ = register(client, key, origin="https://evil.example")
    assert response.status_code == 303
    assert not WebAuthnCredential.objects.exists()
    assert audited(events.MFA_FAILED)[0].detail["reason"] == "invalid_registration"


def test_registration_needs_a_login(client, key):
    assert client.post("/accounts/passkeys/options/").status_code == 302
    assert client.get("/accounts/passkeys/").status_code == 302


def test_passwordless_login_starts_a_two_factor_session(client, user, key, registered):
    options = client.post("/accounts/login/passkey/options/").json()
    assert options["userVerification"] == "required" and options["allowCredentials"] == []
    answer = key.get(options)
    response = client.post("/accounts/login/passkey/", {"credential": answer, "next": "/accounts/sessions/"})
    assert response.status_code == 303 and response["Location"] == "/accounts/sessions/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert latest_amr(user) == ["hwk", "mfa"]
    registered.refresh_from_db()
    assert registered.sign_count == 1 and registered.last_used_at is not None
    assert audited(events.LOGIN_SUCCEEDED)[-1].detail == {"amr": ["hwk", "mfa"]}  # the passkey's use


def test_a_synced_passkey_is_software_bound(client, user):
    key = SoftAuthenticator(backup_eligible=True)
    log_in(client, user)
    register(client, key)
    client.post("/accounts/logout/")
    passwordless(client, key)
    assert latest_amr(user) == ["mfa", "swk"]


def test_passwordless_login_needs_user_verification(client, user, key, registered):
    response = passwordless(client, key, user_verification=False)
    assert response.status_code == 303 and response["Location"].startswith("/accounts/login/")
    assert SESSION_KEY not in client.session and SSOSession.objects.filter(user=user).count() == 1  # registering
    failure = audited(events.MFA_FAILED)[-1]
    assert failure.detail == {"method": "passkey", "reason": "uv_required"} and failure.subject_id == user.pk


def test_an_assertion_is_accepted_once(client, user, key, registered):
    options = client.post("/accounts/login/passkey/options/").json()
    answer = key.get(options)
    assert client.post("/accounts/login/passkey/", {"credential": answer}).status_code == 303
    client.post("/accounts/logout/")
    again = client.post("/accounts/login/passkey/", {"credential": answer})
    assert again["Location"].startswith("/accounts/login/") and SESSION_KEY not in client.session
    assert audited(events.MFA_FAILED)[-1].detail["reason"] == "no_challenge"


def test_an_expired_challenge_is_refused(client, user, key, registered):
    options = client.post("/accounts/login/passkey/options/").json()
    session = client.session
    session[ceremony.SESSION_KEY] = {**session[ceremony.SESSION_KEY], "expires_at": 0}
    session.save()
    client.post("/accounts/login/passkey/", {"credential": key.get(options)})
    assert SESSION_KEY not in client.session
    assert audited(events.MFA_FAILED)[-1].detail["reason"] == "challenge_expired"


def test_a_challenge_of_another_ceremony_is_refused(client, user, key, registered):
    log_in(client, user)  # the code step: its challenge is for this user's second factor
    options = client.post("/accounts/login/code/passkey/options/").json()
    client.post("/accounts/login/passkey/", {"credential": key.get(options)})
    assert SESSION_KEY not in client.session
    assert audited(events.MFA_FAILED)[-1].detail["reason"] == "no_challenge"


def test_a_signature_counter_that_goes_back_is_refused(client, user, key, registered):
    passwordless(client, key, sign_count=5)
    client.post("/accounts/logout/")
    response = passwordless(client, key, sign_count=5)
    assert response["Location"].startswith("/accounts/login/") and SESSION_KEY not in client.session
    assert audited(events.MFA_FAILED)[-1].detail["reason"] == "sign_count"
    registered.refresh_from_db()
    assert registered.sign_count == 5


def test_an_authenticator_without_a_counter_passes(client, user):
    key = SoftAuthenticator(counter=False)
    log_in(client, user)
    register(client, key)
    client.post("/accounts/logout/")
    for _ in range(2):
        passwordless(client, key)
        assert client.session[SESSION_KEY] == str(user.pk)
        client.post("/accounts/logout/")


def test_an_assertion_for_another_origin_or_rp_id_is_refused(client, user, key, registered):
    passwordless(client, key, origin="http://127.0.0.1.evil.example")
    passwordless(client, key, rp_id="evil.example")
    assert SESSION_KEY not in client.session
    assert [e.detail["reason"] for e in audited(events.MFA_FAILED)] == ["invalid", "invalid"]


def test_an_unknown_passkey_or_a_disabled_user_cannot_log_in(client, user, key, registered):
    passwordless(client, SoftAuthenticator())
    user.is_active = False
    user.save()
    passwordless(client, key)
    assert SESSION_KEY not in client.session
    assert [e.detail["reason"] for e in audited(events.MFA_FAILED)] == ["unknown_credential", "inactive_user"]


MALFORMED = [
    "",
    "not json",
    "[]",
    '{"id": "", "response": {}}',
    '{"id": "KEY", "response": 3}',
    '{"id": "KEY", "response": {"userHandle": 7, "clientDataJSON": 1}}',
    '{"id": "KEY", "response": {"clientDataJSON": "%%%", "authenticatorData": "", "signature": ""}}',
    '{"id": "a\\u0000b", "response": {}}',
    '{"id": "KEY\\u0000", "response": {}}',
    "x" * 20000,
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_answers_are_refused_without_a_500(client, user, key, registered, body):
    client.post("/accounts/login/passkey/options/")
    response = client.post("/accounts/login/passkey/", {"credential": body.replace("KEY", key.id)})
    assert response.status_code == 303 and SESSION_KEY not in client.session
    client.force_login(user)
    client.post("/accounts/passkeys/options/")
    assert client.post("/accounts/passkeys/add/", {"credential": body.replace("KEY", key.id)}).status_code == 303


def test_the_code_step_offers_the_passkey_and_it_is_the_second_factor(client, user, key, registered):
    response = log_in(client, user)
    assert response["Location"] == "/accounts/login/code/"
    page = client.get("/accounts/login/code/")
    assert b"Use a passkey" in page.content
    assert b"Enter the 6-digit code" not in page.content  # no app, no recovery codes
    options = client.post("/accounts/login/code/passkey/options/").json()
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    assert options["userVerification"] == "preferred"
    answer = key.get(options, user_verification=False)  # presence is enough after the password
    done = client.post("/accounts/login/code/passkey/", {"credential": answer})
    assert done.status_code == 303 and done["Location"] == "/accounts/sessions/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert latest_amr(user) == ["hwk", "pwd"]
    assert audited(events.LOGIN_SUCCEEDED)[-1].detail == {"amr": ["hwk", "pwd"]}


def test_the_code_step_refuses_another_users_passkey(client, user, make_user, registered):
    other, other_key = make_user(username="other-person"), SoftAuthenticator()
    client.force_login(other)
    register(client, other_key)
    client.post("/accounts/logout/")
    log_in(client, user)
    options = client.post("/accounts/login/code/passkey/options/").json()
    response = client.post("/accounts/login/code/passkey/", {"credential": other_key.get(options)})
    assert response.status_code == 400 and b'role="alert"' in response.content
    assert SESSION_KEY not in client.session
    assert audited(events.MFA_FAILED)[-1].detail["reason"] == "unknown_credential"


def test_the_code_step_passkey_needs_a_pending_login(client, key, registered):
    assert client.post("/accounts/login/code/passkey/options/").status_code == 400
    assert client.post("/accounts/login/code/passkey/", {"credential": "{}"})["Location"] == "/accounts/login/"


def test_with_an_app_too_the_code_step_offers_both(client, user, key, registered, enrolled):
    log_in(client, user)
    page = client.get("/accounts/login/code/")
    assert b"Use a passkey" in page.content and b"Enter the 6-digit code" in page.content
    device, _ = enrolled
    done = client.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)})
    assert done["Location"] == "/accounts/sessions/"


def test_rename_and_remove_with_the_password(client, user, registered):
    client.force_login(user)
    client.post(f"/accounts/passkeys/{registered.pk}/rename/", {"name": "YubiKey"})
    registered.refresh_from_db()
    assert registered.name == "YubiKey"
    page = client.get("/accounts/passkeys/")
    assert b"YubiKey" in page.content and b"Add a passkey" in page.content

    url = f"/accounts/passkeys/{registered.pk}/remove/"
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 400
    assert client.post(url, {"password": "not the password at all"}).status_code == 400
    assert WebAuthnCredential.objects.exists()
    assert client.post(url, {"password": PASSWORD}).status_code == 303
    assert not WebAuthnCredential.objects.exists() and not flows.is_enabled(user)
    [removed] = audited(events.MFA_DISABLED)
    assert removed.detail == {"method": "passkey", "name": "YubiKey", "reason": "removed by the user"}


def test_remove_with_a_code_from_the_app(client, user, registered, enrolled):
    device, _ = enrolled
    client.force_login(user)
    url = f"/accounts/passkeys/{registered.pk}/remove/"
    assert client.post(url, {"code": "000000" if code_for(device) != "000000" else "111111"}).status_code == 400
    device.refresh_from_db()
    device.throttle_reset()
    assert client.post(url, {"code": code_for(device, offset_steps=1)}).status_code == 303
    assert not WebAuthnCredential.objects.exists()


def test_another_users_passkey_cannot_be_renamed_or_removed(client, user, make_user, registered):
    client.force_login(make_user(username="intruder"))
    client.post(f"/accounts/passkeys/{registered.pk}/rename/", {"name": "mine"})
    assert client.get(f"/accounts/passkeys/{registered.pk}/remove/")["Location"] == "/accounts/passkeys/"
    client.post(f"/accounts/passkeys/{registered.pk}/remove/", {"password": PASSWORD})
    registered.refresh_from_db()
    assert registered.name == "Laptop"


def test_turning_two_factor_off_removes_the_passkeys_too(user, registered):
    assert flows.disable(user=user, by=user) and not WebAuthnCredential.objects.exists()


def test_the_login_page_offers_a_passkey(client):
    page = client.get("/accounts/login/?next=/accounts/sessions/")
    assert b"Sign in with a passkey" in page.content and b"/static/passkeys.js" in page.content
    assert b'value="/accounts/sessions/"' in page.content


def test_options_need_a_post_with_csrf(user):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/accounts/login/passkey/options/").status_code == 403
    assert strict.get("/accounts/login/passkey/options/").status_code == 405


def test_options_are_json(client):
    response = client.post("/accounts/login/passkey/options/")
    assert response["Content-Type"] == "application/json" and json.loads(response.content)["challenge"]


def test_operators_see_a_users_passkeys_and_the_reset_removes_them(
    client, user, make_user, registered, mfa_not_required
):
    operator = make_user(username="operator", is_staff=True, is_superuser=True)
    client.force_login(operator)
    page = client.get(f"/admin/accounts/user/{user.pk}/change/")
    assert page.status_code == 200 and b"Laptop" in page.content and b"hwk" in page.content
    client.post("/admin/accounts/user/", {"action": "remove_two_factor", "_selected_action": [user.pk]})
    assert not WebAuthnCredential.objects.filter(user=user).exists()


def test_removing_the_app_over_the_api_keeps_the_passkeys(user, registered, enrolled, make_client):
    client, secret = make_client(scopes="openid profile mfa")
    token = Flow(user, client, secret).tokens(scope="openid mfa")["access_token"]
    response = Client().delete(
        "/api/me/totp/", json.dumps({"password": PASSWORD}), content_type="application/json", **bearer(token)
    )
    assert response.status_code == 204
    assert not flows.has_totp(user) and WebAuthnCredential.objects.filter(user=user).exists()
    assert flows.is_enabled(user)  # the passkey is still the second factor


def test_a_passkey_only_user_sees_two_factor_on(client, user, registered):
    client.force_login(user)
    page = client.get("/accounts/2fa/").content.decode()
    assert "Logging in asks for one of your passkeys" in page and "1 passkey registered" in page
