"""The account page: name and email address, with a confirmation that they were saved."""

import pytest
from django.db import IntegrityError

from accounts import claims, flows
from accounts.tests.helpers import csrf_browser, csrf_token, link_in, sent_mail

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


def test_changing_the_email_unverifies_it_and_mails_both_addresses(browser, user):
    old = user.email
    user.email_verified = True
    user.save()
    response = save(browser, email="new.address@example.com")
    assert response.status_code == 302
    assert b"We sent a link to new.address@example.com" in browser.get(URL).content
    user.refresh_from_db()
    assert (user.email, user.email_verified) == ("new.address@example.com", False)
    verify, notice = sent_mail()
    assert verify.to == ["new.address@example.com"] and "/accounts/verify-email/" in link_in(verify)
    assert notice.to == [old] and "new.address@example.com" in notice.body and "http" not in notice.body
    # The new link verifies the new address.
    agent = csrf_browser()
    agent.get(link_in(verify).removeprefix("http://127.0.0.1:8000"))
    page = agent.get("/accounts/verify-email/")
    agent.post("/accounts/verify-email/", {"csrfmiddlewaretoken": csrf_token(page)})
    user.refresh_from_db()
    assert user.email_verified


def test_an_unverified_old_address_gets_no_notice(browser, user):
    """It may not be the user's: a typo at registration, someone else's mailbox."""
    save(browser, email="new.address@example.com")
    [verify] = sent_mail()
    assert verify.to == ["new.address@example.com"]


def test_an_old_link_does_not_verify_a_new_address(browser, user):
    flows.send_verification_email(user=user)
    old_link = link_in(sent_mail()[0])
    save(browser, email="new.address@example.com")
    assert csrf_browser().get(old_link.removeprefix("http://127.0.0.1:8000")).status_code == 400


@pytest.mark.parametrize("taken", ["taken@example.com", "TAKEN@Example.com"])
def test_an_address_of_another_user_is_refused(browser, user, make_user, taken):
    make_user(email="taken@example.com")
    response = save(browser, email=taken)
    assert response.status_code == 400
    assert b"A user with that email address already exists." in response.content
    user.refresh_from_db()
    assert user.email != taken
    assert sent_mail() == []


def test_a_lost_race_for_an_address_is_a_form_error(browser, user, monkeypatch):
    from accounts.models import User

    original = User.save

    def racing(self, *args, **kwargs):
        if kwargs.get("update_fields") and "email" in kwargs["update_fields"]:
            raise IntegrityError("accounts_user_email_ci_unique")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(User, "save", racing)
    response = save(browser, email="raced@example.com")
    assert response.status_code == 400
    assert b"A user with that email address already exists." in response.content
    assert sent_mail() == []


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
