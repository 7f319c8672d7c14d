import time

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

import identity.settings as project_settings
from oauth import checks
from oauth.hashers import ClientSecretHasher

SECRET = "Zq3v" * 32  # shaped like DOT's generated secrets: 128 characters


def hashed(secret=SECRET):
    return make_password(secret, hasher="client_secret_hmac")


def test_round_trip():
    encoded = hashed()
    assert encoded.startswith("client_secret_hmac$")
    assert SECRET not in encoded
    assert isinstance(identify_hasher(encoded), ClientSecretHasher)
    assert check_password(SECRET, encoded)


def test_salted():
    assert hashed() != hashed()


@pytest.mark.parametrize("wrong", ["", "x", SECRET[:-1], SECRET + "x", SECRET.upper()])
def test_wrong_secret_is_refused(wrong):
    assert not check_password(wrong, hashed())


def test_keyed_with_the_secret_key(settings):
    encoded = hashed()
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    settings.SECRET_KEY_FALLBACKS = []
    assert not check_password(SECRET, encoded)


def test_verifies_with_a_fallback_key_after_rotation(settings):
    old_key = settings.SECRET_KEY
    encoded = hashed()
    settings.SECRET_KEY = "rotated-" + old_key
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert check_password(SECRET, encoded)
    assert not check_password("wrong", encoded)
    assert check_password(SECRET, hashed())  # new hashes use the new key


def test_summary_masks_salt_and_hash():
    encoded = hashed()
    summary = ClientSecretHasher().safe_summary(encoded)
    _, salt, digest = encoded.split("$")
    assert summary["algorithm"] == "client_secret_hmac"
    assert salt not in summary["salt"] and digest not in summary["hash"]


def test_never_the_first_password_hasher():
    # The project's own list (the test suite swaps in fast hashers for user passwords).
    assert project_settings.PASSWORD_HASHERS[0] != "oauth.hashers.ClientSecretHasher"
    assert "oauth.hashers.ClientSecretHasher" in project_settings.PASSWORD_HASHERS
    assert project_settings.OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"] == ClientSecretHasher.algorithm


def test_user_passwords_do_not_use_it(user):
    assert not user.password.startswith("client_secret_hmac$")


def test_system_check_refuses_it_first(settings):
    assert checks.client_secret_hasher_check(None) == []
    settings.PASSWORD_HASHERS = ["oauth.hashers.ClientSecretHasher", *settings.PASSWORD_HASHERS]
    assert [e.id for e in checks.client_secret_hasher_check(None)] == ["oauth.E002"]


def test_system_check_needs_it_listed(settings):
    settings.PASSWORD_HASHERS = [h for h in settings.PASSWORD_HASHERS if h != "oauth.hashers.ClientSecretHasher"]
    assert [e.id for e in checks.client_secret_hasher_check(None)] == ["oauth.E003"]


def test_checking_a_secret_is_cheap():
    # A loose bound, not a benchmark: PBKDF2 would take ~500 ms per check.
    encoded = hashed()
    start = time.perf_counter()
    for i in range(100):
        assert check_password(SECRET, encoded)
        assert not check_password(f"wrong{i}", encoded)
    per_check = (time.perf_counter() - start) / 200
    assert per_check < 0.005, f"{per_check * 1000:.2f} ms per check"
