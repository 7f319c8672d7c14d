"""A vanilla django-oauth-toolkit 3.4.1 project: the baseline that `make bench` runs beside ours.

Deliberately what a new DOT user gets from `startproject` plus DOT's tutorial: DOT's own
models (Application, AccessToken, ...), opaque tokens, client secrets hashed with Django's
default hasher (PBKDF2, 1,000,000 iterations), user passwords likewise, ROTATE_REFRESH_TOKEN
at its default, no JWT, no OIDC, the database session backend, and CONN_MAX_AGE at Django's
default of 0 (a new PostgreSQL connection per request). The only addition to DOT's defaults
is the `introspection` scope, which DOT's IntrospectTokenView requires of a Bearer caller
(DOT's documentation says to add it).

VANILLA_PROFILE=tuned (the harness's second vanilla system, "DOT tuned") is the same project
in DOT's and Django's best documented configuration, so that a ratio against it says something
about design rather than defaults: client secrets hashed with one salted SHA-256 through DOT's
CLIENT_SECRET_HASHER setting (hashers.py: DOT's secrets are 128 random characters, nothing to
stretch), user passwords with Argon2id at the parameters ours uses, persistent connections
(CONN_MAX_AGE=600 with CONN_HEALTH_CHECKS, as ours), and opaque tokens and database sessions
as before (ours keeps database sessions too).
"""

import os

import environ

env = environ.Env()
PROFILE = env("VANILLA_PROFILE", default="shipped")
if PROFILE not in ("shipped", "tuned"):
    raise ValueError(f"VANILLA_PROFILE must be shipped or tuned, not {PROFILE!r}")

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vanilla_site.urls"
WSGI_APPLICATION = "vanilla_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# env.db leaves CONN_MAX_AGE at Django's default (0): vanilla as startproject has it.
DATABASES = {"default": env.db("DATABASE_URL")}
if PROFILE == "tuned":
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    PASSWORD_HASHERS = [
        "vanilla_site.hashers.Argon2idOWASPHasher",
        "vanilla_site.hashers.SecretSHA256Hasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"

LOGIN_URL = "/accounts/login/"

OAUTH2_PROVIDER = {
    "SCOPES": {"read": "Reading scope", "write": "Writing scope", "introspection": "Introspect tokens"},
}
if PROFILE == "tuned":
    OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"] = "secret_sha256"
