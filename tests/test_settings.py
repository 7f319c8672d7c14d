"""identity/settings.py in fresh processes: production configuration passes Django's and
django-oauth-toolkit's deploy checks; a missing secret fails fast; no environment still runs."""

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
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
        "ALLOWED_HOSTS": "id.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
        "VAR_DIR": str(tmp_path),
    }


def test_production_settings_pass_the_deploy_checks(production_env, tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)
    assert result.returncode == 0, result.stdout + result.stderr
    # Production generates nothing: no development secret or key appears in VAR_DIR.
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "signing_key.pem").exists()


def test_production_settings_have_debug_off(production_env):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SIGNING_KEY_DEV_FILE)"
    )
    base = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env = {**base, **production_env, "DJANGO_SETTINGS_MODULE": "identity.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["False", "True", "True", "None"], result.stderr


def test_http_issuer_fails_the_deploy_checks(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**production_env, "ISSUER": "http://id"})
    assert result.returncode != 0
    assert "oauth.W001" in result.stderr + result.stdout


def test_production_without_signing_key_fails(production_env):
    env = {k: v for k, v in production_env.items() if k != "SIGNING_KEY_FILE"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "oauth.E001" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ISSUER"])
def test_debug_off_without_required_setting_fails(production_env, missing):
    env = {k: v for k, v in production_env.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_runs_with_no_environment(tmp_path):
    result = manage("check", env={"VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    # Development secrets are generated into VAR_DIR, owner-only.
    for name in ("secret_key", "signing_key.pem"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
