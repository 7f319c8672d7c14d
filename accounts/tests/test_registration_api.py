import secrets
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.tests.helpers import sent_mail

URL = "/api/users/"
STRONG = "a sufficiently long passphrase 42"


def register(client, *, headers=None, **fields):
    """POST a registration; `headers` are WSGI environ entries (HTTP_…, REMOTE_ADDR)."""
    body = {"username": "newcomer", "email": "newcomer@example.com", "password": STRONG, **fields}
    body = {k: v for k, v in body.items() if v is not None}
    return client.post(URL, body, content_type="application/json", **(headers or {}))


@pytest.mark.django_db
def test_register_returns_the_new_user_without_password(client):
    response = register(client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"sub", "username", "email", "email_verified", "date_joined"}
    assert body["email_verified"] is False
    user = get_user_model().objects.get(username="newcomer")
    assert body["sub"] == user.subject
    assert body["username"] == "newcomer"
    assert body["email"] == "newcomer@example.com"
    assert datetime.fromisoformat(body["date_joined"].replace("Z", "+00:00"))
    assert STRONG not in response.content.decode()
    assert user.check_password(STRONG)
    assert user.password != STRONG


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["short", "password123", "12345678901234", "newcomer-newcomer"],
    ids=["too-short", "common", "numeric", "like-username"],
)
def test_weak_password_refused(client, password):
    response = register(client, password=password)
    assert response.status_code == 400
    assert response.json()["password"]
    assert not get_user_model().objects.filter(username="newcomer").exists()


@pytest.mark.django_db
def test_passwords_under_12_characters_refused(client):
    # OWASP ASVS 2.1.1: at least 12 characters; an 11-character password that no other rule
    # refuses (not common, not numeric, not like the username) is too short.
    response = register(client, password="qz7-Lw4!xPv")
    assert response.status_code == 400
    assert "at least 12 characters" in response.json()["password"][0]
    assert register(client, password="qz7-Lw4!xPv9").status_code == 201


@pytest.mark.django_db
def test_password_over_256_characters_refused(client):
    response = register(client, password=secrets.token_urlsafe(200)[:257])
    assert response.status_code == 400
    assert response.json()["password"]


@pytest.mark.django_db
def test_password_of_256_characters_accepted(client):
    assert register(client, password=secrets.token_urlsafe(200)[:256]).status_code == 201


def test_duplicate_username_in_other_case_refused(client, make_user):
    make_user(username="Newcomer")
    response = register(client, username="NEWCOMER", email="someone@example.com")
    assert response.status_code == 400
    assert "username" in response.json()


def _answer(client, **fields):
    with CaptureQueriesContext(connection) as queries:
        response = register(client, **fields)
    body = response.json()
    # What differs between any two registrations: the new account's subject and time.
    return response.status_code, {k: v for k, v in body.items() if k not in ("sub", "date_joined")}, len(queries)


def test_a_taken_address_gets_the_same_answer_and_its_owner_a_mail(client, make_user):
    """Issue 15: registration does not say whether an address has an account."""
    owner = make_user(username="first", email="Taken@Example.com")
    taken = _answer(client, username="probe", email="taken@example.com")
    sent = list(sent_mail())
    free = _answer(client, username="probe2", email="free@example.com")
    assert taken[0] == free[0] == 201
    assert taken[1] == {"username": "probe", "email": "taken@example.com", "email_verified": False}
    assert free[1] == {**taken[1], "username": "probe2", "email": "free@example.com"}
    assert taken[2] == free[2]  # the same queries (and the same password hashing): comparable time
    [attempt] = sent
    assert attempt.to == [owner.email]
    assert "tried to register" in attempt.subject and "/accounts/password/reset/" in attempt.body
    [verification] = sent_mail()[len(sent) :]
    assert verification.to == ["free@example.com"]
    # Neither new account holds its address until it is verified: the accounts look alike too.
    User = get_user_model()
    assert User.objects.get(username="probe").email == User.objects.get(username="probe2").email == ""
    assert User.objects.get(pk=owner.pk).email == "Taken@Example.com"


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com"])
def test_bad_email_refused(client, email):
    response = register(client, email=email)
    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["has space", "tab\there", "nul\x00", "аlice", "ﬁve", "x" * 151, ""])
def test_bad_username_refused(client, username):
    # "аlice" starts with a Cyrillic а: a look-alike of "alice".
    response = register(client, username=username)
    assert response.status_code == 400
    assert "username" in response.json()


@pytest.mark.django_db
def test_missing_fields_refused(client):
    response = client.post(URL, {}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"username", "email", "password"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{not json", "[]", '"text"', "null"])
def test_malformed_json_is_a_client_error(client, body):
    response = client.post(URL, body, content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_registration_closed(client, settings):
    settings.REGISTRATION_OPEN = False
    response = register(client)
    assert response.status_code == 403
    assert not get_user_model().objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer a.b.c", "Basic !!!", "Negotiate"])
def test_bogus_authorization_header_is_ignored(client, header):
    response = register(client, headers={"HTTP_AUTHORIZATION": header})
    assert response.status_code == 201, response.content


@pytest.fixture
def low_rate(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"registration": "2/minute"}}


@pytest.mark.django_db
def test_throttled_after_the_rate(client, low_rate):
    assert register(client, username="one", email="one@example.com").status_code == 201
    assert register(client, username="two", email="two@example.com").status_code == 201
    response = register(client, username="three", email="three@example.com")
    assert response.status_code == 429
    assert "Retry-After" in response
    assert not get_user_model().objects.filter(username="three").exists()


@pytest.mark.django_db
def test_throttle_not_dodged_with_x_forwarded_for(client, low_rate):
    statuses = [
        register(
            client, username=f"u{i}", email=f"u{i}@example.com", headers={"HTTP_X_FORWARDED_FOR": f"203.0.113.{i}"}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]


@pytest.mark.django_db
def test_throttle_counts_per_client_address(client, low_rate):
    for i in range(2):
        register(client, username=f"u{i}", email=f"u{i}@example.com")
    other = register(client, username="u9", email="u9@example.com", headers={"REMOTE_ADDR": "198.51.100.7"})
    assert other.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [{"email": "nul\x00@example.com"}, {"password": STRONG + "\x00"}, {"username": ["a", "b"]}, {"email": 42}],
    ids=["nul-email", "nul-password", "list-username", "number-email"],
)
def test_hostile_input_is_a_client_error(client, fields):
    response = register(client, **fields)
    assert response.status_code == 400


@pytest.mark.django_db
def test_registration_works_while_the_cache_is_down(client):
    """The throttle's counts live in the cache: with Redis unreachable, registration still
    answers (the throttle is skipped and logged), never a 500."""
    dead_redis = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    with override_settings(CACHES=dead_redis):
        response = register(client, username="offline", email="offline@example.com")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_throttle_counts_an_ipv6_client_per_64(client, low_rate):
    # One subscriber holds a whole /64 (core.client_ip): new addresses in it are the same client.
    statuses = [
        register(
            client, username=f"v{i}", email=f"v{i}@example.com", headers={"REMOTE_ADDR": f"2001:db8:7:8::{i + 1:x}"}
        ).status_code
        for i in range(3)
    ]
    other_network = register(
        client, username="w", email="w@example.com", headers={"REMOTE_ADDR": "2001:db8:7:9::1"}
    ).status_code
    assert statuses == [201, 201, 429]
    assert other_network == 201
