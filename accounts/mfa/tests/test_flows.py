"""Enrolment, verification, recovery codes and removal (accounts.mfa.flows) on the real tables."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import flows, recovery_codes, signals, totp

from .conftest import code_for

pytestmark = pytest.mark.django_db


def test_enrolment_gives_the_uri_the_secret_and_an_inline_qr_code(user, settings):
    settings.MFA_TOTP_ISSUER = "Example: ID"
    device = flows.start_totp(user=user)
    data = flows.enrolment(device)
    url = urlsplit(data.uri)
    assert (url.scheme, url.netloc) == ("otpauth", "totp")
    assert url.path == f"/Example%20ID%3A{user.username}"
    query = parse_qs(url.query)
    assert query["secret"] == [data.secret] and query["issuer"] == ["Example ID"]
    assert query["digits"] == ["6"] and query["period"] == ["30"] and query["algorithm"] == ["SHA1"]
    assert data.secret == totp.secret_base32(device) and "=" not in data.secret
    assert data.qr_svg.startswith("<svg") and 'role="img"' in data.qr_svg and "<path" in data.qr_svg
    assert not device.confirmed and not flows.is_enabled(user)


def test_the_account_can_be_named_by_email(user, settings):
    settings.MFA_TOTP_ACCOUNT_FIELD = "email"
    data = flows.enrolment(flows.start_totp(user=user))
    assert user.email.replace("@", "%40") in data.uri


def test_confirming_with_a_current_code_turns_it_on_and_gives_ten_recovery_codes(user):
    events = []
    signals.mfa_enabled.connect(lambda **kw: events.append(kw), weak=False, dispatch_uid="t")
    try:
        device = flows.start_totp(user=user)
        codes = flows.confirm_totp(user=user, code=code_for(device))
    finally:
        signals.mfa_enabled.disconnect(dispatch_uid="t")
    assert flows.is_enabled(user)
    assert len(codes) == 10 == len(set(codes)) == flows.remaining_recovery_codes(user)
    assert [e["method"] for e in events] == ["totp"]
    # Stored as keyed hashes only.
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert not stored & {recovery_codes.normalize(c) for c in codes}


def test_a_wrong_code_does_not_confirm(user):
    device = flows.start_totp(user=user)
    with pytest.raises(flows.MFAError):
        flows.confirm_totp(user=user, code="000000" if code_for(device) != "000000" else "111111")
    assert not flows.is_enabled(user)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # committed, despite the refusal


def test_starting_again_replaces_the_unconfirmed_device_and_a_confirmed_one_is_kept(user, enrolled):
    with pytest.raises(flows.MFAError):
        flows.start_totp(user=user)
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_code_is_accepted_once(user, enrolled):
    device, _ = enrolled
    code = code_for(device, offset_steps=1)
    assert flows.verify(user=user, code=code) == "totp"
    with pytest.raises(flows.MFAError):
        flows.verify(user=user, code=code)


@pytest.mark.parametrize("steps", [-1, 1])
def test_one_step_of_drift_each_way_is_accepted(user, enrolled, steps):
    device, _ = enrolled
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # no code used for a long time
    assert flows.verify(user=user, code=code_for(device, offset_steps=steps)) == "totp"


def test_two_steps_off_is_refused(user, enrolled):
    device, _ = enrolled
    with pytest.raises(flows.MFAError):
        flows.verify(user=user, code=code_for(device, offset_steps=3))


def test_wrong_codes_are_throttled_with_a_growing_delay(user, enrolled):
    device, _ = enrolled
    with pytest.raises(flows.MFAError):
        flows.verify(user=user, code="12345")  # not even six digits: counted too
    with pytest.raises(flows.Throttled) as throttled:
        flows.verify(user=user, code=code_for(device, offset_steps=1))  # right, but too soon
    assert throttled.value.retry_after >= 1


@pytest.mark.parametrize("typed", ["{}", "{} ", "{UPPER}", "{nodash}"])
def test_a_recovery_code_logs_in_once(user, enrolled, typed):
    _, codes = enrolled
    code = codes[3]
    typed = typed.replace("{UPPER}", code.upper()).replace("{nodash}", code.replace("-", "")).format(code)
    assert flows.verify(user=user, code=typed) == "recovery_code"
    assert flows.remaining_recovery_codes(user) == 9
    with pytest.raises(flows.MFAError):
        flows.verify(user=user, code=code)


def test_new_recovery_codes_end_the_old_ones(user, enrolled):
    _, old = enrolled
    new = flows.regenerate_recovery_codes(user=user)
    assert not set(old) & set(new)
    assert flows.verify(user=user, code=new[0]) == "recovery_code"
    with pytest.raises(flows.MFAError):
        flows.verify(user=user, code=old[0])


def test_a_recovery_code_survives_a_secret_key_rotation(user, enrolled, settings):
    _, codes = enrolled
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    assert flows.verify(user=user, code=codes[0]) == "recovery_code"


def test_disable_removes_every_factor_and_says_so(user, enrolled, make_user):
    events = []
    signals.mfa_disabled.connect(lambda **kw: events.append(kw), weak=False, dispatch_uid="t")
    admin = make_user(username="operator")
    try:
        assert flows.disable(user=user, by=admin, reason="admin") > 0
    finally:
        signals.mfa_disabled.disconnect(dispatch_uid="t")
    assert not flows.is_enabled(user) and flows.remaining_recovery_codes(user) == 0
    assert [(e["user"], e["by"], e["reason"]) for e in events] == [(user, admin, "admin")]


def test_recovery_code_formats():
    codes = recovery_codes.generate()
    assert len(codes) == 10
    assert all(recovery_codes.normalize(recovery_codes.display(c)) == c for c in codes)
    assert recovery_codes.normalize("123456") is None  # a TOTP code is never taken for one
    assert recovery_codes.normalize("abcde-fghi0") is None  # 0 is not in the alphabet
