from django.conf import settings
from django.test import override_settings

from accounts.hashers import Argon2idHasher


def test_argon2id_is_the_first_password_hasher():
    # The test suite swaps in a fast hasher (conftest); read the project's real list.
    from identity import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idHasher"


def test_parameters_meet_owasp_minimum():
    hasher = Argon2idHasher()
    encoded = hasher.encode("correct horse battery staple", hasher.salt())
    assert encoded.startswith("argon2$argon2id$")
    params = hasher.decode(encoded)
    assert params["memory_cost"] >= 19 * 1024
    assert params["time_cost"] >= 2
    assert params["parallelism"] >= 1
    assert hasher.verify("correct horse battery staple", encoded)
    assert not hasher.verify("wrong", encoded)


@override_settings(PASSWORD_HASHERS=["accounts.hashers.Argon2idHasher"])
def test_hashes_with_other_parameters_are_upgraded():
    from django.contrib.auth.hashers import Argon2PasswordHasher

    old = Argon2PasswordHasher().encode("pw", "somesaltsomesalt")
    assert Argon2idHasher().must_update(old)
    assert settings.PASSWORD_HASHERS == ["accounts.hashers.Argon2idHasher"]
