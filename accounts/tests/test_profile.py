"""The account page: name and email address, with a confirmation that they were saved."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import claims, flows
from accounts.tests.helpers import csrf_browser, csrf_token, link_in, sent_mail, without_csrf_tokens
from audit import events
from audit.models import SecurityEvent

pytestmark = pytest.mark.django_db
URL = "/accounts/profile/"


@pytest.fixture
def browser(user):
    agent = csrf_browser()
    agent.force_login(user)
    return agent


def save(browser, **fields):
    page = browser.get(URL)
    initial = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data = {**initial, **fields}
    return browser.post(URL, {**data, "csrfmiddlewaretoken": csrf_token(page)})


def test_the_page_shows_the_form_filled_in(browser, user):
    page = browser.get(URL)
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert {k: initial[k] for k in ("first_name", "last_name", "email")} == {
        "first_name": "",
        "last_name": "",
        "email": user.email,
    }
    assert set(initial) == set(claims.EDITABLE_FIELDS)
    assert b'autocomplete="given-name"' in page.content and b"Not verified" in page.content


def test_changing_the_name(browser, user):
    user.email_verified = True
    user.save()
    response = save(browser, first_name="Ada", last_name="Lovelace")
    assert response.status_code == 302 and response["Location"] == URL
    page = browser.get(URL)
    assert b"Your changes have been saved." in page.content
    assert b'role="status"' in page.content
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.email_verified) == ("Ada", "Lovelace", True)
    assert sent_mail() == []  # same address: nothing to verify


def follow_link(message, agent=None):
    """Follow a verification link and confirm it, as its reader does; the confirmation's answer."""
    agent = agent or csrf_browser()
    response = agent.get(link_in(message).removeprefix("http://127.0.0.1:8000"))
    if response.status_code != 302:
        return response
    page = agent.get("/accounts/verify-email/")
    return agent.post("/accounts/verify-email/", {"csrfmiddlewaretoken": csrf_token(page)})


def test_a_new_address_replaces_the_old_one_only_when_its_link_is_followed(browser, user):
    """Issue 15: asked for, the new address is pending; the account keeps its address."""
    old = user.email
    user.email_verified = True
    user.save()
    response = save(browser, email="new.address@example.com")
    assert response.status_code == 302
    note = b"We sent a link to new.address@example.com: your address changes to it when you follow the link."
    assert note in browser.get(URL).content
    user.refresh_from_db()
    assert (user.email, user.email_verified, user.profile_updated_at) == (old, True, None)
    [verify] = sent_mail()
    assert verify.to == ["new.address@example.com"] and "/accounts/verify-email/" in link_in(verify)
    assert "new.address@example.com" in verify.body
    # The new link makes the new address the account's, verified; the old one is told.
    assert follow_link(verify, browser)["Location"] == URL
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("new.address@example.com", True)
    assert user.profile_updated_at is not None
    [notice] = sent_mail()[1:]
    assert notice.to == [old] and "new.address@example.com" in notice.body and "http" not in notice.body
    event = SecurityEvent.objects.get(event=events.EMAIL_VERIFIED)
    assert event.detail == {"email": "new.address@example.com", "previous_email": old}
    assert event.subject_id == user.pk


def test_an_unverified_old_address_gets_no_notice(browser, user):
    """It may not be the user's: a typo at registration, someone else's mailbox."""
    save(browser, email="new.address@example.com")
    [verify] = sent_mail()
    assert verify.to == ["new.address@example.com"]
    follow_link(verify)
    assert len(sent_mail()) == 1


def test_an_account_without_an_address_gets_one_when_its_link_is_followed(browser, user):
    user.email = ""
    user.save()
    save(browser, email="first@example.com")
    user.refresh_from_db()
    assert user.email == ""
    [verify] = sent_mail()
    follow_link(verify)
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("first@example.com", True)
    assert len(sent_mail()) == 1  # no old address to tell


def test_links_die_once_the_address_changes(browser, user):
    flows.send_verification_email(user=user)
    save(browser, email="first.choice@example.com")
    save(browser, email="second.choice@example.com")
    current, first, second = sent_mail()
    assert follow_link(second).status_code == 302
    # The link for the old address, and the other change asked from it, are dead now.
    assert follow_link(current).status_code == 400
    assert follow_link(first).status_code == 400
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("second.choice@example.com", True)
    # Following the used link again is harmless, and says it is done.
    agent = csrf_browser()
    agent.get(link_in(second).removeprefix("http://127.0.0.1:8000"))
    assert b"is already verified" in agent.get("/accounts/verify-email/").content


def _answer(browser, email):
    page = browser.get(URL)
    initial = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data = {**initial, "first_name": "Ada", "email": email, "csrfmiddlewaretoken": csrf_token(page)}
    with CaptureQueriesContext(connection) as queries:
        response = browser.post(URL, data)
    body = without_csrf_tokens(browser.get(URL).content.decode()).replace(email, "EMAIL")
    return response.status_code, response["Location"], body, len(queries)


@pytest.mark.parametrize("taken", ["taken@example.com", "TAKEN@Example.com"])
def test_an_address_of_another_account_is_answered_as_a_free_one(browser, user, make_user, taken):
    """Issue 15: the profile page does not say whether an address has an account; its owner
    is mailed instead, and the account keeps its own address."""
    owner = make_user(username="owner", email="taken@example.com")
    taken_answer = _answer(browser, taken)
    [attempt] = sent_mail()
    free_answer = _answer(browser, "free@example.com")
    assert taken_answer[:2] == free_answer[:2] == (302, URL)
    assert taken_answer[2] == free_answer[2]  # the same page
    assert "We sent a link to EMAIL: your address changes to it" in taken_answer[2]
    assert taken_answer[3] == free_answer[3]  # the same queries: comparable time
    assert attempt.to == [owner.email] and "owner" in attempt.body
    assert "another account" in attempt.body and "/accounts/password/reset/" in attempt.body
    assert user.email not in attempt.body  # the owner learns nothing of the asker either
    [verify] = sent_mail()[1:]
    assert verify.to == ["free@example.com"]
    user.refresh_from_db()
    assert user.email not in (taken, "free@example.com") and user.first_name == "Ada"


def test_a_disabled_account_with_the_address_is_not_told(browser, user, make_user):
    make_user(email="taken@example.com", is_active=False)
    assert save(browser, email="taken@example.com").status_code == 302
    assert sent_mail() == []


def test_changes_of_address_are_throttled_per_user_whoever_has_the_address(browser, user, make_user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verification_email": "2/hour"},
    }
    make_user(email="taken@example.com")
    assert save(browser, email="taken@example.com").status_code == 302
    assert save(browser, email="free@example.com").status_code == 302
    addresses = ("taken@example.com", "other@example.com")
    answers = [save(browser, email=address, first_name="Ada") for address in addresses]
    assert [a.status_code for a in answers] == [429, 429]
    bodies = [
        without_csrf_tokens(a.content.decode()).replace(e, "EMAIL") for a, e in zip(answers, addresses, strict=True)
    ]
    assert bodies[0] == bodies[1] and "Too many changes of address were asked for." in bodies[0]
    assert len(sent_mail()) == 2
    user.refresh_from_db()
    assert user.first_name == ""  # nothing saved
    # Other details can still be saved.
    assert save(browser, first_name="Ada").status_code == 302


@pytest.mark.parametrize("taken", ["raced@example.com", "RACED@example.com"])
def test_an_address_taken_before_its_link_is_followed_is_an_invalid_link(browser, user, make_user, taken):
    old = user.email
    save(browser, email="raced@example.com")
    [verify] = sent_mail()
    make_user(email=taken)  # e.g. an operator gave it to another account meanwhile
    response = follow_link(verify)
    assert response.status_code == 400
    assert b"Invalid verification link" in response.content
    user.refresh_from_db()
    assert (user.email, user.email_verified) == (old, False)
    assert not SecurityEvent.objects.filter(event=events.EMAIL_VERIFIED).exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": ""}, b"This field is required."),
        ({"email": "not-an-address"}, b"Enter a valid email address."),
        ({"first_name": "x" * 151}, b"Ensure this value has at most 150 characters"),
        ({"last_name": "nul\x00byte"}, b"Null characters are not allowed."),
    ],
)
def test_bad_input_is_a_form_error(browser, user, fields, message):
    response = save(browser, **fields)
    assert response.status_code == 400
    assert message in response.content
    assert b'aria-invalid="true"' in response.content
    user.refresh_from_db()
    assert user.first_name == "" and user.email.endswith("@example.com")


def test_the_page_needs_a_login():
    agent = csrf_browser()
    token = csrf_token(agent.get("/accounts/login/"))
    response = agent.post(URL, {"first_name": "x", "email": "x@example.com", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_standard_claims_are_saved_and_stamped(browser, user):
    response = save(
        browser,
        nickname="Ada",
        picture="https://cdn.example.com/ada.png",
        website="https://ada.example.com",
        birthdate="1815-12-10",
        zoneinfo="Europe/London",
        locale="en-GB",
        phone_number="+441632960961",
        address_street_address="12 St James's Square",
        address_locality="London",
        address_postal_code="SW1Y 4JH",
        address_country="United Kingdom",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.zoneinfo == "Europe/London" and user.birthdate.isoformat() == "1815-12-10"
    assert user.profile_updated_at is not None
    values = claims.user_claims(user)
    assert values["address"]["formatted"] == "12 St James's Square\nSW1Y 4JH London\nUnited Kingdom"
    assert values["phone_number"] == "+441632960961" and values["phone_number_verified"] is False
    assert values["updated_at"] == int(user.profile_updated_at.timestamp())


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_number", "0171 555 0100"),
        ("zoneinfo", "Mars/Olympus_Mons"),
        ("locale", "english"),
        ("picture", "http://cdn.example.com/ada.png"),
        ("website", "javascript:alert(1)"),
        ("birthdate", "2999-01-01"),
    ],
)
def test_bad_claim_values_are_refused_and_nothing_saved(browser, user, field, value):
    response = save(browser, nickname="Changed", **{field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    user.refresh_from_db()
    assert user.nickname == "" and user.profile_updated_at is None


def test_a_new_phone_number_is_unverified(browser, user):
    user.phone_number, user.phone_number_verified = "+14155550100", True
    user.save()
    assert save(browser, phone_number="+14155550199").status_code == 302
    user.refresh_from_db()
    assert user.phone_number_verified is False


def test_saving_nothing_new_changes_nothing(browser, user):
    assert save(browser).status_code == 302
    user.refresh_from_db()
    assert user.profile_updated_at is None
