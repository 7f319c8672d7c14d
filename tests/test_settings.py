"""identity/settings.py in fresh processes: production configuration passes Django's and
django-oauth-toolkit's deploy checks; a missing secret fails fast; no environment still runs."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE_DIR = Path(__file__).resolve().parent.parent
# Only what a process needs to start: never DATABASE_URL, REDIS_URL or DJANGO_* from the
# test run (they would point these processes at the test run's own services).
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def manage(*args, env):
    base = {name: os.environ[name] for name in INHERITED if name in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def random_secret_key():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(50))


@pytest.fixture
def production_env(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "secrets").mkdir()
    key_file = tmp_path / "secrets" / "signing_key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return {
        "DEBUG": "false",
        "SECRET_KEY": random_secret_key(),
        "ISSUER": "https://id.example.com",
        "SIGNING_KEY_FILE": str(key_file),
        "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "id.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "EMAIL_URL": "smtp+tls://identity:mail-password@smtp.example.com:587",
        "DEFAULT_FROM_EMAIL": "Example ID <id@example.com>",
        "VAR_DIR": str(tmp_path),
    }


def test_production_settings_pass_the_deploy_checks(production_env, tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # Production generates nothing: no development secret or key appears in VAR_DIR.
    for name in ("secret_key", "key_encryption_key", "signing_key.pem"):
        assert not (tmp_path / name).exists(), name


def test_production_settings_have_debug_off(production_env):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SIGNING_KEY_DEV_GENERATE)"
    )
    base = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env = {**base, **production_env, "DJANGO_SETTINGS_MODULE": "identity.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["False", "True", "True", "False"], result.stderr


def test_http_issuer_fails_the_deploy_checks(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**production_env, "ISSUER": "http://id"})
    assert result.returncode != 0
    assert "oauth.W001" in result.stderr + result.stdout


def test_production_without_signing_key_fails(production_env):
    env = {k: v for k, v in production_env.items() if k != "SIGNING_KEY_FILE"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "oauth.E001" in result.stderr + result.stdout


def test_production_without_key_encryption_key_fails(production_env, tmp_path):
    env = {k: v for k, v in production_env.items() if k != "KEY_ENCRYPTION_KEYS"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "oauth.E004" in result.stderr + result.stdout
    assert not (tmp_path / "key_encryption_key").exists()


def test_key_encryption_keys_from_a_file(production_env, tmp_path):
    kek_file = tmp_path / "secrets" / "kek"
    kek_file.write_text(f"{Fernet.generate_key().decode()},\n{Fernet.generate_key().decode()}\n")
    env = {k: v for k, v in production_env.items() if k != "KEY_ENCRYPTION_KEYS"}
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env={**env, "KEY_ENCRYPTION_KEYS_FILE": str(kek_file)}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_invalid_key_encryption_key_fails_without_showing_it(production_env):
    result = manage("check", env={**production_env, "KEY_ENCRYPTION_KEYS": "not-a-fernet-key"})
    assert result.returncode != 0
    assert "oauth.E004" in result.stderr + result.stdout
    assert "not-a-fernet-key" not in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ISSUER"])
def test_debug_off_without_required_setting_fails(production_env, missing):
    env = {k: v for k, v in production_env.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_runs_with_no_environment(tmp_path):
    result = manage("check", env={"VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    # Development secrets are generated into VAR_DIR, owner-only (the signing key goes into
    # the database, encrypted with the generated key-encryption key).
    for name in ("secret_key", "key_encryption_key"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
    Fernet((tmp_path / "key_encryption_key").read_text().strip())  # a valid Fernet key


def test_production_with_an_imported_key_needs_no_signing_key_setting(production_env):
    """The operator's runbook: migrate, import the key once, then run without SIGNING_KEY_FILE."""
    key_file = production_env["SIGNING_KEY_FILE"]
    env = {k: v for k, v in production_env.items() if k != "SIGNING_KEY_FILE"}
    assert manage("migrate", "--noinput", env=production_env).returncode == 0
    result = manage("import_signing_key", "--file", key_file, "--activate", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    # With the wrong key-encryption key, the stored key is unusable: the check says so.
    result = manage("check", env={**env, "KEY_ENCRYPTION_KEYS": Fernet.generate_key().decode()})
    assert result.returncode != 0
    assert "oauth.E001" in result.stderr + result.stdout


# --- Email -----------------------------------------------------------------------------------

EMAIL_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; import json; "
    "print(json.dumps({n: getattr(s, n, None) for n in ('EMAIL_BACKEND', 'EMAIL_HOST', 'EMAIL_PORT', "
    "'EMAIL_HOST_USER', 'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_USE_SSL', 'EMAIL_TIMEOUT', "
    "'DEFAULT_FROM_EMAIL')}))"
)


def email_settings(env):
    import json

    base = {name: os.environ[name] for name in INHERITED if name in os.environ}
    result = subprocess.run(
        [sys.executable, "-c", EMAIL_SETTINGS],
        cwd=BASE_DIR,
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "identity.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_mail_goes_to_the_console_with_no_environment(tmp_path):
    mail = email_settings({"VAR_DIR": str(tmp_path)})
    assert mail["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert mail["EMAIL_TIMEOUT"] == 10


def test_email_url_configures_smtp(tmp_path):
    mail = email_settings(
        {
            "VAR_DIR": str(tmp_path),
            "EMAIL_URL": "smtp+tls://user%40example.com:p%40ss@smtp.example.com:2587",
            "EMAIL_TIMEOUT": "5",
            "DEFAULT_FROM_EMAIL": "ID <id@example.com>",
        }
    )
    assert mail == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.com",
        "EMAIL_PORT": 2587,
        "EMAIL_HOST_USER": "user@example.com",
        "EMAIL_HOST_PASSWORD": "p@ss",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 5,
        "DEFAULT_FROM_EMAIL": "ID <id@example.com>",
    }


def test_email_url_from_a_file(tmp_path):
    url_file = tmp_path / "email_url"
    url_file.write_text("smtp+ssl://user:secret@smtp.example.com\n")
    mail = email_settings({"VAR_DIR": str(tmp_path), "EMAIL_URL_FILE": str(url_file)})
    assert (mail["EMAIL_HOST"], mail["EMAIL_PORT"], mail["EMAIL_USE_SSL"]) == ("smtp.example.com", 465, True)
    assert mail["EMAIL_HOST_PASSWORD"] == "secret"


def test_email_host_and_a_password_file(tmp_path):
    password_file = tmp_path / "smtp_password"
    password_file.write_text("from-a-file\n")
    env = {
        "VAR_DIR": str(tmp_path),
        "EMAIL_HOST": "mail.example.com",
        "EMAIL_HOST_USER": "identity",
        "EMAIL_HOST_PASSWORD_FILE": str(password_file),
        "EMAIL_USE_TLS": "true",
    }
    mail = email_settings(env)
    assert mail["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (mail["EMAIL_HOST"], mail["EMAIL_PORT"], mail["EMAIL_HOST_USER"]) == ("mail.example.com", 587, "identity")
    assert (mail["EMAIL_HOST_PASSWORD"], mail["EMAIL_USE_TLS"], mail["EMAIL_USE_SSL"]) == ("from-a-file", True, False)
    mail = email_settings({**env, "EMAIL_HOST_PASSWORD": "from-the-env", "EMAIL_PORT": "25"})
    assert (mail["EMAIL_HOST_PASSWORD"], mail["EMAIL_PORT"]) == ("from-the-env", 25)


def test_production_without_mail_settings_warns(production_env):
    env = {k: v for k, v in production_env.items() if k != "EMAIL_URL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr + result.stdout


def test_tls_and_ssl_together_are_an_error(tmp_path):
    env = {"VAR_DIR": str(tmp_path), "EMAIL_HOST": "mail.example.com", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "accounts.E003" in result.stderr + result.stdout
