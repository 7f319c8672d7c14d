import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured
from django.db import ProgrammingError
from jwcrypto import jwk

from oauth import checks, keys
from oauth.models import SigningKey

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def pem(private_key, password=None):
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@pytest.fixture(scope="module")
def rsa_2048():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def no_key(settings, db):
    """Production-like: no key in the table, none configured, none may be generated."""
    settings.SIGNING_KEY_PEM = None
    settings.SIGNING_KEY_FILE = None
    settings.SIGNING_KEY_DEV_GENERATE = False
    keys.reset()
    return settings


@pytest.fixture
def dev(no_key):
    no_key.SIGNING_KEY_DEV_GENERATE = True
    return no_key


def test_dev_key_generated_once_into_the_database_and_reused(dev):
    first = keys.signing_key()["kid"]
    keys.reset()
    assert keys.signing_key()["kid"] == first
    [stored] = SigningKey.objects.all()
    assert (stored.kid, stored.state) == (first, SigningKey.State.ACTIVE)


def test_dev_key_is_rsa_2048_for_rs256(dev):
    key = keys.signing_key()
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert key.get_op_key("sign").key_size == 2048
    assert key["kid"] == key.thumbprint()


def test_production_generates_no_key(no_key):
    with pytest.raises(ImproperlyConfigured, match="SIGNING_KEY"):
        keys.signing_key()
    assert not SigningKey.objects.exists()


def test_pem_from_setting_is_imported_as_the_active_key(dev, rsa_2048):
    dev.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    key = keys.signing_key()
    assert key["kid"] == jwk.JWK.from_pem(pem(rsa_2048)).thumbprint()
    assert key["alg"] == "RS256" and key["use"] == "sig"
    # Imported, not generated, and only once.
    keys.reset()
    keys.signing_key()
    assert list(SigningKey.objects.values_list("kid", "state")) == [(key["kid"], "active")]


def test_pem_setting_is_ignored_once_a_key_is_active(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    first = keys.signing_key()["kid"]
    no_key.SIGNING_KEY_PEM = pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)).decode()
    keys.reset()
    assert keys.signing_key()["kid"] == first


def test_pem_from_file_setting_is_used(no_key, rsa_2048, tmp_path):
    path = tmp_path / "key.pem"
    path.write_bytes(pem(rsa_2048))
    no_key.SIGNING_KEY_FILE = str(path)
    assert keys.signing_key()["kid"] == jwk.JWK.from_pem(pem(rsa_2048)).thumbprint()


def test_key_is_parsed_once_per_process(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    assert keys.signing_key() is keys.signing_key()


def test_small_rsa_key_refused(no_key):
    no_key.SIGNING_KEY_PEM = pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)).decode()
    with pytest.raises(ImproperlyConfigured, match="2048"):
        keys.signing_key()


@pytest.mark.parametrize(
    "material",
    [
        lambda k: k.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        lambda k: pem(ec.generate_private_key(ec.SECP256R1())),
        lambda k: pem(k, password=b"secret"),
        lambda k: b"-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n",
        lambda k: b"",
    ],
    ids=["public-key", "ec-key", "encrypted", "garbage", "empty"],
)
def test_unusable_keys_refused(no_key, rsa_2048, material):
    with pytest.raises(ImproperlyConfigured):
        keys.load_private_key(material(rsa_2048))


def test_check_reports_a_missing_key(no_key):
    errors = checks.signing_key_check(None)
    assert [e.id for e in errors] == ["oauth.E001"]
    assert "SIGNING_KEY" in errors[0].msg
    assert not SigningKey.objects.exists()  # the check writes nothing


def test_check_passes_in_development_without_generating(dev):
    assert checks.signing_key_check(None) == []
    assert not SigningKey.objects.exists()


def test_check_passes_with_an_active_key_and_no_setting(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    keys.signing_key()
    no_key.SIGNING_KEY_PEM = None
    assert checks.signing_key_check(None) == []


def test_check_reports_an_active_key_the_kek_cannot_decrypt(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    keys.signing_key()
    no_key.KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    errors = checks.signing_key_check(None)
    assert [e.id for e in errors] == ["oauth.E001"]
    assert "KEY_ENCRYPTION_KEYS" in errors[0].msg


def test_check_skips_the_table_before_migrate(no_key, rsa_2048, monkeypatch):
    def no_table(*args, **kwargs):
        raise ProgrammingError('relation "oauth_signingkey" does not exist')

    monkeypatch.setattr(SigningKey.objects, "filter", no_table)
    assert [e.id for e in checks.signing_key_check(None)] == ["oauth.E001"]  # judged on settings
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    assert checks.signing_key_check(None) == []


@pytest.mark.parametrize("problem", ["garbage", "missing-file", "encrypted"])
def test_check_reports_an_unusable_key(no_key, rsa_2048, tmp_path, problem):
    if problem == "garbage":
        no_key.SIGNING_KEY_PEM = "not a key"
    elif problem == "missing-file":
        no_key.SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    else:
        no_key.SIGNING_KEY_PEM = pem(rsa_2048, password=b"secret").decode()
    assert [e.id for e in checks.signing_key_check(None)] == ["oauth.E001"]


def test_check_passes_with_a_good_key(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    assert checks.signing_key_check(None) == []


def test_verification_key_lookup(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    kid = keys.signing_key()["kid"]
    public = keys.verification_key(kid)
    assert not public.has_private
    assert keys.verification_key("other") is None
    assert keys.verification_key(None) is None
    assert keys.verification_key(["list"]) is None


def test_jwks_has_public_members_only(no_key, rsa_2048):
    no_key.SIGNING_KEY_PEM = pem(rsa_2048).decode()
    [published] = keys.public_jwks()["keys"]
    assert not PRIVATE_MEMBERS & set(published)
    assert published["kid"] == keys.signing_key()["kid"]
