"""oauth.prompts: the pure rules behind prompt and max_age."""

import pytest

from oauth import prompts

NOW = 1_000_000


def needs(prompt="", max_age=None, auth_time=NOW - 10, requested=None):
    return prompts.needs_login(
        prompt=prompts.prompt_values(prompt),
        max_age=max_age,
        auth_time=auth_time,
        login_requested_at=requested,
        now=NOW,
    )


def test_a_recent_login_is_enough_by_default():
    assert not needs()


def test_no_known_login_time_needs_a_login():
    assert needs(auth_time=None)


def test_prompt_login_always_needs_a_login():
    assert needs("login") and needs("consent login")


def test_max_age_compares_the_session_age():
    assert not needs(max_age=10) and needs(max_age=9) and needs(max_age=0)


def test_max_age_zero_is_prompt_login_even_for_a_login_this_second():
    assert needs(max_age=0, auth_time=NOW)


def test_a_requested_login_is_satisfied_only_by_a_later_one():
    assert needs(requested=NOW - 5)
    assert not needs(requested=NOW - 10)


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("0", 0), ("3600", 3600)])
def test_max_age_parses(value, expected):
    assert prompts.max_age(value) == expected


@pytest.mark.parametrize("value", ["-1", "1.0", "x", "１", "12345678901"])
def test_max_age_refuses_what_is_not_a_count_of_seconds(value):
    with pytest.raises(ValueError):
        prompts.max_age(value)


def test_after_login_drops_prompt_login_and_max_age_only():
    path = "/oauth/authorize/?client_id=c&prompt=login+consent&max_age=0&resource=a&resource=b"
    assert prompts.after_login(path) == "/oauth/authorize/?client_id=c&prompt=consent&resource=a&resource=b"
    assert prompts.after_login("/oauth/authorize/?prompt=login&state=s") == "/oauth/authorize/?state=s"


def test_requested_acr_reads_acr_values_and_the_acr_claim():
    import json

    from oauth.claims import ACR_MFA, ACR_PASSWORD

    assert prompts.requested_acr(None, None) == frozenset()
    assert prompts.requested_acr(f"{ACR_MFA} {ACR_PASSWORD}", None) == {ACR_MFA, ACR_PASSWORD}
    one = json.dumps({"id_token": {"acr": {"essential": True, "value": ACR_MFA}}})
    several = json.dumps({"id_token": {"acr": {"values": [ACR_MFA, 3]}}})
    assert prompts.requested_acr("", one) == {ACR_MFA} == prompts.requested_acr(None, several)
    assert prompts.requested_acr(None, json.dumps({"userinfo": {"acr": {"value": ACR_MFA}}})) == frozenset()
    assert prompts.requested_acr(None, "{not json") == frozenset()
    assert prompts.needs_second_factor(accepted={ACR_MFA}, acr=ACR_PASSWORD)
    assert not prompts.needs_second_factor(accepted={ACR_MFA, ACR_PASSWORD}, acr=ACR_PASSWORD)
    assert not prompts.needs_second_factor(accepted={ACR_MFA}, acr=ACR_MFA)
    assert not prompts.needs_second_factor(accepted={"urn:other"}, acr=ACR_PASSWORD)
