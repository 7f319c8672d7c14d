"""Settings of the relying-party example, configured from identity's discovery document.

Environment (run.py sets it from its options): RP_ISSUER (identity's issuer), RP_PORT,
RP_CLIENT_ID, RP_CLIENT_SECRET (empty for the public demo client), RP_DATABASE (SQLite file).
"""

import os
import secrets
import sys
import time
from pathlib import Path

import requests

BASE_DIR = Path(__file__).resolve().parent
ISSUER = os.environ.get("RP_ISSUER", "http://127.0.0.1:8000").rstrip("/")
PORT = int(os.environ.get("RP_PORT", "8765"))
ORIGIN = f"http://127.0.0.1:{PORT}"


def discover(issuer, wait_seconds=30):
    """identity's OpenID Provider metadata; waits for a server that is still starting."""
    url = f"{issuer}/.well-known/openid-configuration"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            response = requests.get(url, timeout=5)
            response.raise_for_status()
            break
        except requests.RequestException as exc:
            if time.monotonic() > deadline:
                sys.exit(f"Cannot read {url} ({exc}). Is identity running (make run)?")
            time.sleep(0.5)
    metadata = response.json()
    # OpenID Connect Discovery 4.3: the issuer in the document is the one we asked.
    if metadata.get("issuer") != issuer:
        sys.exit(f"{url} names the issuer {metadata.get('issuer')!r}, not {issuer!r}.")
    return metadata


PROVIDER = discover(ISSUER)

# --- mozilla-django-oidc, every endpoint from discovery ----------------------------------
OIDC_OP_ISSUER = PROVIDER["issuer"]
OIDC_OP_AUTHORIZATION_ENDPOINT = PROVIDER["authorization_endpoint"]
OIDC_OP_TOKEN_ENDPOINT = PROVIDER["token_endpoint"]
OIDC_OP_USER_ENDPOINT = PROVIDER["userinfo_endpoint"]
OIDC_OP_JWKS_ENDPOINT = PROVIDER["jwks_uri"]
OIDC_OP_END_SESSION_ENDPOINT = PROVIDER["end_session_endpoint"]
OIDC_RP_SIGN_ALGO = "RS256"
if OIDC_RP_SIGN_ALGO not in PROVIDER["id_token_signing_alg_values_supported"]:
    sys.exit("identity does not sign ID tokens with RS256.")
OIDC_RP_CLIENT_ID = os.environ.get("RP_CLIENT_ID", "demo-public-client")
# Empty for a public client (the demo client is one): PKCE protects the code instead.
OIDC_RP_CLIENT_SECRET = os.environ.get("RP_CLIENT_SECRET", "")
OIDC_TOKEN_USE_BASIC_AUTH = bool(OIDC_RP_CLIENT_SECRET)
OIDC_RP_SCOPES = "openid profile email"
OIDC_USE_PKCE = True
OIDC_PKCE_CODE_CHALLENGE_METHOD = "S256"
OIDC_TIMEOUT = 10
# Kept in the session for RP-initiated logout (id_token_hint).
OIDC_STORE_ID_TOKEN = True
OIDC_OP_LOGOUT_URL_METHOD = "relying_party.auth.provider_logout_url"
POST_LOGOUT_REDIRECT_URI = f"{ORIGIN}/"
LOGIN_REDIRECT_URL = "/"
LOGIN_REDIRECT_URL_FAILURE = "/?failed=1"
LOGOUT_REDIRECT_URL = "/"

# --- Django --------------------------------------------------------------------------------
DEBUG = True
# A new key at every start: a restart signs everyone out of the example, nothing more.
SECRET_KEY = secrets.token_urlsafe(50)
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "mozilla_django_oidc",
    "relying_party",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
AUTHENTICATION_BACKENDS = ["relying_party.auth.IdentityBackend"]
ROOT_URLCONF = "relying_party.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
_database = os.environ.get("RP_DATABASE") or str(BASE_DIR.parent.parent.parent / "var" / "examples" / "rp.sqlite3")
Path(_database).parent.mkdir(parents=True, exist_ok=True)
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _database}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# identity's cookies live on 127.0.0.1 too (cookies ignore the port): other names here.
SESSION_COOKIE_NAME = "rp_session"
CSRF_COOKIE_NAME = "rp_csrftoken"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
USE_TZ = True
TIME_ZONE = "UTC"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"mozilla_django_oidc": {"handlers": ["console"], "level": "INFO"}},
}
