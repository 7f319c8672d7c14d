"""Wrong codes per client IP across users (accounts.mfa.ip_throttle), beside django-otp's delay
per device: past MFA_IP_FAILURE_ALLOWANCE, a growing delay answered 429 with Retry-After on the
page and the API; the same answer, in comparable time, for a wrong code and a user whose device
is gone. Runs on the cache in use: the in-process one by default, Redis with REDIS_URL."""

import statistics
import time

import pytest
from django.test import Client

from accounts.mfa import flows, ip_throttle
from conftest import PASSWORD

from .conftest import code_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_allowance(settings):
    settings.MFA_IP_FAILURE_ALLOWANCE = 2
    settings.MFA_IP_MAX_DELAY_SECONDS = 60


@pytest.mark.parametrize(("failures", "delay"), [(0, 0), (2, 0), (3, 1), (4, 2), (5, 4), (9, 60), (10_000, 60)])
def test_the_delay_grows_and_is_capped(small_allowance, failures, delay):
    assert ip_throttle.delay_for(failures) == delay


def enrolled_user(make_user, name):
    person = make_user(username=name)
    device = flows.start_totp(user=person)
    flows.confirm_totp(user=person, code=code_for(device, offset_steps=-1))
    device.refresh_from_db()
    return person, device


def at_code_step(person, ip="203.0.113.7"):
    browser = Client(REMOTE_ADDR=ip)
    browser.post("/accounts/login/", {"username": person.username, "password": PASSWORD})
    return browser


def test_one_ip_guessing_at_many_users_is_slowed_down(small_allowance, make_user):
    victims = [enrolled_user(make_user, f"victim{n}") for n in range(3)]
    for person, _ in victims:  # one wrong code each: django-otp's per-device delay never triggers
        response = at_code_step(person).post("/accounts/login/code/", {"code": "000000"})
        assert response.status_code == 400
    person, device = enrolled_user(make_user, "next")
    browser = at_code_step(person)
    response = browser.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)})  # even right
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 1
    assert b'role="alert"' in response.content and b"Too many wrong codes" in response.content

    other_ip = at_code_step(person, ip="198.51.100.9")  # another client is not slowed down
    assert other_ip.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)}).status_code == 302


def test_the_delay_passes_and_a_right_code_does_not_reset_the_count(small_allowance, make_user, monkeypatch):
    for n in range(3):
        person, _ = enrolled_user(make_user, f"victim{n}")
        at_code_step(person).post("/accounts/login/code/", {"code": "000000"})
    person, device = enrolled_user(make_user, "owner")
    browser = at_code_step(person)
    later = time.time() + 2
    monkeypatch.setattr(ip_throttle.time, "time", lambda: later)
    assert browser.post("/accounts/login/code/", {"code": code_for(device, offset_steps=1)}).status_code == 302
    other, _ = enrolled_user(make_user, "other")
    response = at_code_step(other).post("/accounts/login/code/", {"code": "000000"})  # the 4th: 2 s
    assert response.status_code == 400
    assert 1 <= ip_throttle.retry_after(response.wsgi_request) <= 2 + 2  # still counted after the success


def test_the_api_answers_429_with_retry_after(small_allowance, make_user):
    person, _ = enrolled_user(make_user, "apiuser")
    browser = Client(REMOTE_ADDR="203.0.113.8")
    browser.force_login(person)
    for _ in range(3):
        browser.post("/api/me/totp/verify", {"code": "000000"}, content_type="application/json")
        browser.delete("/api/me/totp/", {"code": "000000"}, content_type="application/json")
        person.totpdevice_set.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    response = browser.delete("/api/me/totp/", {"code": "000000"}, content_type="application/json")
    assert response.status_code == 429 and response.json()["error"] == "too_many_attempts"
    assert int(response["Retry-After"]) >= 1
    assert flows.is_enabled(person)


def test_with_the_cache_down_the_per_ip_limit_is_skipped(small_allowance, user, enrolled, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def down(*args, **kwargs):
        raise RedisConnectionError("down")

    monkeypatch.setattr(ip_throttle.cache, "get_many", down)
    monkeypatch.setattr(ip_throttle.cache, "add", down)
    browser = at_code_step(user)
    assert browser.post("/accounts/login/code/", {"code": "000000"}).status_code == 400


def _body(response):
    import re

    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


def test_a_wrong_code_and_a_user_without_a_device_get_the_same_page_in_comparable_time(make_user, settings):
    settings.MFA_IP_FAILURE_ALLOWANCE = 1000
    with_device, device = enrolled_user(make_user, "hasdevice")
    without, gone = enrolled_user(make_user, "nodevice")
    with_browser, without_browser = at_code_step(with_device), at_code_step(without)
    flows.disable(user=without, by=without)  # removed since the password step
    timings = {"wrong": [], "none": []}
    answers = {}
    for _ in range(8):
        for key, browser, person in (("wrong", with_browser, with_device), ("none", without_browser, without)):
            person.totpdevice_set.update(throttling_failure_count=0, throttling_failure_timestamp=None)
            start = time.perf_counter()
            response = browser.post("/accounts/login/code/", {"code": "000000"})
            timings[key].append(time.perf_counter() - start)
            answers[key] = (response.status_code, _body(response))
    assert answers["wrong"] == answers["none"]
    assert answers["wrong"][0] == 400 and b"That code is not right" in answers["wrong"][1]
    wrong, none = statistics.median(timings["wrong"]), statistics.median(timings["none"])
    assert none < wrong * 3 and wrong < none * 3, timings


def test_flows_say_the_same_for_no_device(user):
    with pytest.raises(flows.MFAError) as refused:
        flows.verify(user=user, code="123456")
    assert str(refused.value) == flows.WRONG_TOTP
