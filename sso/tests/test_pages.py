"""The sessions page (/accounts/sessions/) and the JSON API (/api/sessions/)."""

import uuid

import pytest
from django.test import Client
from django.utils import timezone

from accounts.tests.helpers import csrf_token
from conftest import bearer
from sso import session_apps
from sso.models import SSOSession

from .conftest import is_logged_in, log_in, session_of

pytestmark = pytest.mark.django_db

PAGE = "/accounts/sessions/"
API = "/api/sessions/"


def test_the_page_needs_a_login():
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_lists_the_users_sessions_and_marks_this_one(user, make_user):
    laptop, phone = log_in(user, device="Laptop browser", ip="198.51.100.1"), log_in(user, device="Phone browser")
    log_in(make_user(), device="Someone else's browser")
    response = laptop.get(PAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "Laptop browser" in body and "Phone browser" in body and "198.51.100.1" in body
    assert "Someone else" not in body
    assert body.count("(this browser)") == 1
    assert session_of(laptop).sid not in body and session_of(phone).sid not in body  # public ids only
    assert str(session_of(phone).public_id) in body


def test_ending_another_session_from_the_page(user):
    laptop, phone = log_in(user), log_in(user)
    response = laptop.post(f"/accounts/sessions/{session_of(phone).public_id}/end/")
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)


def test_ending_this_session_from_the_page_logs_out(user):
    laptop = log_in(user)
    response = laptop.post(f"/accounts/sessions/{session_of(laptop).public_id}/end/")
    assert response.status_code == 302 and response["Location"] == "/accounts/logged-out/"
    assert not is_logged_in(laptop)


def test_another_users_session_cannot_be_ended_from_the_page(user, make_user):
    mine, theirs = log_in(user), log_in(make_user())
    target = session_of(theirs)
    assert mine.post(f"/accounts/sessions/{target.public_id}/end/").status_code == 404
    assert mine.post(f"/accounts/sessions/{uuid.uuid4()}/end/").status_code == 404
    assert is_logged_in(theirs)


def test_the_page_buttons_need_post_and_csrf(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(PAGE)
    other = log_in(user)
    end_url = f"/accounts/sessions/{session_of(other).public_id}/end/"
    assert browser.get(end_url).status_code == 405
    assert browser.post(end_url).status_code == 403
    assert browser.post("/accounts/sessions/logout-everywhere/").status_code == 403
    assert is_logged_in(other)
    assert browser.post(end_url, {"csrfmiddlewaretoken": csrf_token(page)}).status_code == 302
    assert not is_logged_in(other)


def test_logout_everywhere_from_the_page(user):
    laptop, phone = log_in(user), log_in(user)
    token = csrf_token(laptop.get(PAGE))
    response = laptop.post("/accounts/sessions/logout-everywhere/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/accounts/logged-out/?everywhere=1"
    assert not is_logged_in(laptop) and not is_logged_in(phone)
    assert not SSOSession.objects.active(timezone.now()).filter(user=user).exists()


# --- JSON API -------------------------------------------------------------------------------


def test_the_api_needs_credentials():
    response = Client().get(API)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Client().post(f"{API}logout-all").status_code == 401
    assert Client().delete(f"{API}{uuid.uuid4()}").status_code == 401


def test_the_api_lists_sessions_for_the_browser(user, make_user):
    laptop, phone = log_in(user, device="laptop"), log_in(user, device="phone")
    log_in(make_user())
    response = laptop.get(API)
    assert response.status_code == 200
    sessions = {s["user_agent"]: s for s in response.json()}
    assert set(sessions) == {"laptop", "phone"}
    assert sessions["laptop"]["current"] is True and sessions["phone"]["current"] is False
    assert sessions["phone"]["id"] == str(session_of(phone).public_id)
    assert "sid" not in sessions["phone"]
    assert set(sessions["laptop"]) == {
        "id",
        "current",
        "user_agent",
        "ip",
        "created_at",
        "last_seen_at",
        "expires_at",
        "amr",
    }


def test_the_api_ends_one_session(user, make_user):
    laptop, phone = log_in(user), log_in(user)
    theirs = log_in(make_user())
    assert laptop.delete(f"{API}{session_of(theirs).public_id}").status_code == 404
    assert laptop.delete(f"{API}{uuid.uuid4()}").status_code == 404
    assert is_logged_in(theirs)
    phone_id = session_of(phone).public_id
    assert laptop.delete(f"{API}{phone_id}").status_code == 204
    assert not is_logged_in(phone) and is_logged_in(laptop)
    assert laptop.delete(f"{API}{phone_id}").status_code == 204  # idempotent


def test_the_api_logs_out_everywhere(user):
    laptop, phone = log_in(user), log_in(user)
    assert laptop.post(f"{API}logout-all").status_code == 204
    assert not is_logged_in(laptop) and not is_logged_in(phone)


def test_the_api_enforces_csrf_for_cookie_callers(user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get(API).status_code == 200
    assert browser.post(f"{API}logout-all").status_code == 403
    assert is_logged_in(browser)


def test_the_api_accepts_access_tokens(flow, user):
    laptop = log_in(user, device="laptop")
    tokens = flow.tokens(scope="profile")
    response = Client().get(API, **bearer(tokens["access_token"]))
    assert response.status_code == 200
    assert "laptop" in {s["user_agent"] for s in response.json()}
    assert Client().post(f"{API}logout-all", **bearer(tokens["access_token"])).status_code == 204
    assert not is_logged_in(laptop)


def test_the_api_refuses_tokens_without_the_profile_scope(flow):
    tokens = flow.tokens(scope="read")
    response = Client().get(API, **bearer(tokens["access_token"]))
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    # RFC 6750 3.1: the challenge names the error and the scope needed.
    assert response["WWW-Authenticate"] == 'Bearer realm="identity", error="insufficient_scope", scope="profile"'


def test_the_api_refuses_client_credentials_tokens(service):
    from conftest import basic, form_post

    client, secret = service
    answer = form_post(
        Client(),
        "/oauth/token/",
        {"grant_type": "client_credentials", "scope": "profile"},
        HTTP_AUTHORIZATION=basic(client.client_id, secret),
    )
    assert answer.status_code == 200, answer.content
    assert Client().get(API, **bearer(answer.json()["access_token"])).status_code == 403


# --- Devices and apps on the page ----------------------------------------------------------

CHROME_LINUX = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"


def test_the_page_names_each_device_and_keeps_the_full_user_agent(user):
    laptop = log_in(user, device=CHROME_LINUX)
    log_in(user, device="Laptop browser")
    body = laptop.get(PAGE).content.decode()
    assert "Chrome on Linux" in body and CHROME_LINUX in body
    assert "Unknown device" in body


def test_the_page_lists_the_apps_each_session_used(user, monkeypatch):
    """The apps come from the providers registered with sso.session_apps (oauth's, in the
    project; a stand-in here: sso knows no OAuth client)."""
    laptop, phone = log_in(user), log_in(user)
    laptop_sid, phone_sid = session_of(laptop).sid, session_of(phone).sid
    asked = []

    def provider(*, user, sids):
        asked.append((user, sorted(sids)))
        return {laptop_sid: ["Zeta", "alpha"], "someone-elses-sid": ["Leak"]}

    def other_provider(*, user, sids):
        return {laptop_sid: ["alpha", "Beta"]}

    monkeypatch.setattr(session_apps, "_providers", {"test": provider, "other": other_provider})
    assert session_apps.apps_by_session(user=user, sids=[laptop_sid]) == {
        laptop_sid: ["alpha", "Beta", "Zeta"],
        "someone-elses-sid": ["Leak"],
    }
    response = laptop.get(PAGE)
    rows = {row.session.sid: row for row in response.context["sessions"]}
    assert rows[laptop_sid].apps == ["alpha", "Beta", "Zeta"]
    assert rows[phone_sid].apps == []
    assert "alpha, Beta, Zeta" in response.content.decode() and "Leak" not in response.content.decode()
    assert asked[-1] == (user, sorted([laptop_sid, phone_sid]))


def test_oauth_registers_its_provider():
    assert "oauth.clients" in session_apps.registered()
