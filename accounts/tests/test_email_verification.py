"""Email verification: the link mailed at registration and after a change of address."""

import json
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from accounts import flows, verification
from accounts.tests.helpers import csrf_browser, csrf_token, link_in, sent_mail

pytestmark = pytest.mark.django_db
CONFIRM = "/accounts/verify-email/"
RESEND = "/accounts/verify-email/resend/"
STRONG = "a sufficiently long passphrase 42"


def follow(browser, link):
    response = browser.get(urlsplit(link).path)
    assert response.status_code == 302, response.content
    assert response["Location"] == CONFIRM
    return response


def confirm(browser):
    page = browser.get(CONFIRM)
    assert page.status_code == 200, page.content
    return browser.post(CONFIRM, {"csrfmiddlewaretoken": csrf_token(page)})


def register_by_form(browser, **fields):
    token = csrf_token(browser.get("/accounts/register/"))
    data = {"username": "newcomer", "email": "newcomer@example.com", "password": STRONG, **fields}
    return browser.post("/accounts/register/", {**data, "csrfmiddlewaretoken": token})


def test_registration_by_the_form_mails_a_link(settings):
    settings.ISSUER = "https://id.example.com"
    browser = csrf_browser()
    assert register_by_form(browser).status_code == 302
    [message] = sent_mail()
    assert message.to == ["newcomer@example.com"]
    assert message.subject == "Verify your email address for identity"
    assert link_in(message).startswith("https://id.example.com/accounts/verify-email/")
    follow(browser, link_in(message))
    response = confirm(browser)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"  # the logged-in owner goes to the account
    profile = browser.get("/accounts/profile/")
    assert b"is verified" in profile.content and b"Verified</span>" in profile.content
    assert profile.context["user"].email_verified


def test_registration_by_the_api_mails_a_link():
    body = {"username": "apiuser", "email": "api@example.com", "password": STRONG}
    response = Client().post("/api/users/", json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert response.json()["email_verified"] is False
    [message] = sent_mail()
    assert message.to == ["api@example.com"]
    browser = csrf_browser()  # not logged in
    follow(browser, link_in(message))
    response = confirm(browser)
    assert response["Location"] == "/accounts/login/"
    assert b"is verified" in browser.get("/accounts/login/").content
    assert flows.get_user_model().objects.get(username="apiuser").email_verified


def test_the_link_is_a_page_with_a_button_not_a_verification(user):
    """Mail scanners follow links: only the POST of the confirmation page verifies."""
    flows.send_verification_email(user=user)
    browser = csrf_browser()
    follow(browser, link_in(sent_mail()[0]))
    page = browser.get(CONFIRM)
    assert user.email.encode() in page.content and user.username.encode() in page.content
    user.refresh_from_db()
    assert not user.email_verified


def test_the_token_leaves_the_url(user):
    flows.send_verification_email(user=user)
    link = link_in(sent_mail()[0])
    token = urlsplit(link).path.rstrip("/").rsplit("/", 1)[1]
    browser = csrf_browser()
    assert token not in follow(browser, link)["Location"]
    assert token not in browser.get(CONFIRM).content.decode()


def test_verified_shows_in_userinfo_claims(user):
    from oauth.validators import Validator

    class Request:
        pass

    request = Request()
    request.user = user
    request.scopes = ["openid", "email"]
    assert Validator().get_additional_claims(request)["email_verified"] is False
    flows.verify_email(token=verification.make_token(user))
    user.refresh_from_db()
    assert Validator().get_additional_claims(request)["email_verified"] is True


def test_following_a_link_twice_is_harmless(user):
    flows.send_verification_email(user=user)
    link = link_in(sent_mail()[0])
    browser = csrf_browser()
    follow(browser, link)
    confirm(browser)
    follow(browser, link)
    assert b"already verified" in browser.get(CONFIRM).content
    assert confirm(browser).status_code == 302


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "a" * 600,
        signing.dumps({"sub": "nobody", "email": "x@example.com"}, salt=verification.SALT),
        signing.dumps({"sub": "x", "email": "x@example.com"}, salt="another purpose"),
        signing.dumps(["not", "a", "dict"], salt=verification.SALT),
    ],
)
def test_bad_links_are_refused(token):
    response = csrf_browser().get(f"/accounts/verify-email/{token}/")
    assert response.status_code == 400
    assert b"Invalid verification link" in response.content


def test_a_forged_signature_is_refused(user):
    token = verification.make_token(user)
    response = csrf_browser().get(f"/accounts/verify-email/{token[:-2]}xx/")
    assert response.status_code == 400


def test_an_expired_link_is_refused(user, settings):
    token = verification.make_token(user)
    settings.EMAIL_VERIFICATION_TIMEOUT = -1
    assert csrf_browser().get(f"/accounts/verify-email/{token}/").status_code == 400
    with pytest.raises(verification.InvalidToken):
        flows.verify_email(token=token)


def test_a_link_dies_when_the_address_changes(user):
    token = verification.make_token(user)
    browser = csrf_browser()
    browser.get(f"/accounts/verify-email/{token}/")
    user.email = "other@example.com"
    user.save()
    assert browser.get(CONFIRM).status_code == 400
    assert browser.post(CONFIRM, {}).status_code in (400, 403)
    user.refresh_from_db()
    assert not user.email_verified


def test_the_confirmation_page_without_a_link_is_refused():
    browser = csrf_browser()
    assert browser.get(CONFIRM).status_code == 400
    page = csrf_browser().get("/accounts/login/")
    assert browser.post(CONFIRM, {"csrfmiddlewaretoken": csrf_token(page)}).status_code in (400, 403)


def test_a_link_of_a_disabled_user_is_refused(user):
    token = verification.make_token(user)
    user.is_active = False
    user.save()
    assert csrf_browser().get(f"/accounts/verify-email/{token}/").status_code == 400


def test_a_race_with_an_address_change_leaves_the_new_address_unverified(user):
    token = verification.make_token(user)
    stale = verification.user_for_token(token)
    flows.get_user_model().objects.filter(pk=user.pk).update(email="new@example.com")
    flows.get_user_model().objects.filter(pk=stale.pk, email=stale.email).update(email_verified=True)
    user.refresh_from_db()
    assert not user.email_verified


def test_resend(user):
    browser = csrf_browser()
    browser.force_login(user)
    page = browser.get("/accounts/profile/")
    assert b"Send the verification email again" in page.content
    response = browser.post(RESEND, {"csrfmiddlewaretoken": csrf_token(page)})
    assert response.status_code == 302
    assert b"We sent a new verification link" in browser.get("/accounts/profile/").content
    [message] = sent_mail()
    assert message.to == [user.email]


def test_resend_is_throttled_per_user(user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verification_email": "2/hour"},
    }
    browser = csrf_browser()
    browser.force_login(user)
    token = csrf_token(browser.get("/accounts/profile/"))
    assert browser.post(RESEND, {"csrfmiddlewaretoken": token}).status_code == 302
    assert browser.post(RESEND, {"csrfmiddlewaretoken": token}).status_code == 302
    response = browser.post(RESEND, {"csrfmiddlewaretoken": token})
    assert response.status_code == 429
    assert b"Too many verification emails" in response.content
    assert len(sent_mail()) == 2
    other = csrf_browser(REMOTE_ADDR="198.51.100.3")  # another network: still this user's count
    other.force_login(user)
    assert other.post(RESEND, {"csrfmiddlewaretoken": csrf_token(other.get("/accounts/profile/"))}).status_code == 429


def test_resend_when_already_verified_sends_nothing(user):
    user.email_verified = True
    user.save()
    browser = csrf_browser()
    browser.force_login(user)
    page = browser.get("/accounts/profile/")
    assert b"Send the verification email again" not in page.content
    assert browser.post(RESEND, {"csrfmiddlewaretoken": csrf_token(page)}).status_code == 302
    assert sent_mail() == []


def test_resend_needs_a_login_and_a_post(user):
    assert Client().post(RESEND)["Location"].startswith("/accounts/login/")
    browser = Client()
    browser.force_login(user)
    assert browser.get(RESEND).status_code == 405
    assert sent_mail() == []


@pytest.mark.usefixtures("mfa_not_required")
def test_the_admin_shows_and_filters_email_verified(admin_client, make_user):
    make_user(username="verified-one", email_verified=True)
    make_user(username="unverified-one")
    page = admin_client.get("/admin/accounts/user/", {"email_verified__exact": "1"})
    assert page.status_code == 200
    assert b"verified-one" in page.content and b"unverified-one" not in page.content
    assert b"email_verified__exact" in page.content  # the filter is offered


@pytest.mark.parametrize(
    ("changed", "verified_after"),
    [(["email"], False), (["email", "email_verified"], True), (["first_name"], True)],
)
def test_the_admin_clears_email_verified_when_the_address_changes(make_user, rf, changed, verified_after):
    """Unless the operator set email_verified in the same save, a new address is unverified."""
    from django.contrib import admin

    from accounts.models import User

    person = make_user(email_verified=True)
    person.email = "moved@example.com" if "email" in changed else person.email
    form = type("Form", (), {"changed_data": changed})()
    admin.site._registry[User].save_model(rf.post("/"), person, form, change=True)
    person.refresh_from_db()
    assert person.email_verified is verified_after


def test_a_sign_up_address_joins_the_account_only_when_verified():
    body = {"username": "later", "email": "later@example.com", "password": STRONG}
    assert Client().post("/api/users/", json.dumps(body), content_type="application/json").status_code == 201
    user = flows.get_user_model().objects.get(username="later")
    assert user.email == ""  # issue 15: an unverified address is not the account's yet
    [message] = sent_mail()
    browser = csrf_browser()
    follow(browser, link_in(message))
    assert b"later@example.com" in browser.get(CONFIRM).content
    confirm(browser)
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("later@example.com", True)


def test_a_sign_up_address_taken_before_it_is_verified_is_an_invalid_link(make_user):
    body = {"username": "slow", "email": "race@example.com", "password": STRONG}
    assert Client().post("/api/users/", json.dumps(body), content_type="application/json").status_code == 201
    [message] = sent_mail()
    make_user(username="fast", email="race@example.com")  # e.g. an operator created it meanwhile
    browser = csrf_browser()
    follow(browser, link_in(message))
    page = browser.get(CONFIRM)
    response = browser.post(CONFIRM, {"csrfmiddlewaretoken": csrf_token(page)})
    assert response.status_code == 400
    assert flows.get_user_model().objects.get(username="slow").email == ""


def _legacy_token(user, email):
    """A token as made before tokens named the account's address (`from`)."""
    return signing.dumps({"sub": user.subject, "email": email}, salt=verification.SALT, compress=True)


def test_a_token_without_from_verifies_the_current_address_or_a_sign_up_address(make_user):
    current = make_user(email="current@example.com")
    assert flows.verify_email(token=_legacy_token(current, "current@example.com")).email_verified
    with pytest.raises(verification.InvalidToken):
        flows.verify_email(token=_legacy_token(current, "elsewhere@example.com"))
    newcomer = make_user(email="")
    flows.verify_email(token=_legacy_token(newcomer, "joined@example.com"))
    newcomer.refresh_from_db()
    assert (newcomer.email, newcomer.email_verified) == ("joined@example.com", True)


def test_a_change_token_completes_only_from_the_address_it_was_made_for(make_user):
    user = make_user(email="before@example.com")
    token = verification.make_token(user, email="after@example.com")
    pending = verification.user_for_token(token)
    assert (pending.email, pending.email_pending, pending.email_replaced) == (
        "after@example.com",
        True,
        (user.email, False),
    )
    flows.get_user_model().objects.filter(pk=user.pk).update(email="moved@example.com")
    with pytest.raises(verification.InvalidToken):
        flows.verify_email(token=token)
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("moved@example.com", False)
