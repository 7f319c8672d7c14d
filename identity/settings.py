"""Settings for identity: every knob comes from the environment (see .env.example).

With no environment at all the server runs in development mode on SQLite under var/ with an
in-process cache; a development SECRET_KEY and key-encryption key are generated once into var/,
and an RSA signing key into the database. Set DATABASE_URL and REDIS_URL for PostgreSQL and
Redis, and DEBUG=false for production (which then refuses to start without an explicit
SECRET_KEY, ISSUER, KEY_ENCRYPTION_KEYS and signing key).
"""

import base64
import re
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=True)


def _secret(name, *, generate_into=None, generate=lambda: secrets.token_urlsafe(50)):
    """A secret from NAME, from the file named by NAME_FILE (Docker secrets), or, in
    development only, made by `generate` once into var/."""
    value = env(name, default=None)
    file_name = env(f"{name}_FILE", default=None)
    if value:
        return value
    if file_name:
        return Path(file_name).read_text().strip()
    if generate_into is None or not DEBUG:
        return None
    path = VAR_DIR / generate_into
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(generate())
    return path.read_text().strip()


SECRET_KEY = _secret("SECRET_KEY", generate_into="secret_key")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

# The issuer identifier (RFC 8414): the `iss` of every token and the base of every endpoint
# URL in discovery. It must be the public https URL of this server in production.
ISSUER = env("ISSUER", default="http://127.0.0.1:8000" if DEBUG else None)
if not ISSUER:
    raise ImproperlyConfigured("ISSUER must be set when DEBUG is off (e.g. https://id.example.com).")
ISSUER = ISSUER.rstrip("/")
# The `aud` of access tokens: the resource server they are meant for (RFC 9068).
ACCESS_TOKEN_AUDIENCE = env("ACCESS_TOKEN_AUDIENCE", default=f"{ISSUER}/api")

# --- Token signing keys (oauth.keys, oauth.flows.rotate_signing_keys) ----------------------
# Signing keys live in the database (oauth.SigningKey), their private halves encrypted with the
# key-encryption key: Fernet keys, comma-separated; the first encrypts, all decrypt (so the KEK
# itself can be rotated). Required when DEBUG is off; in development one is generated into var/.
_kek = _secret(
    "KEY_ENCRYPTION_KEYS",
    generate_into="key_encryption_key",
    generate=lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
)
KEY_ENCRYPTION_KEYS = [k for k in re.split(r"[,\s]+", _kek or "") if k]
# The RSA private key (PEM) imported as the active key when the table has none (first start).
SIGNING_KEY_PEM = env("SIGNING_KEY", default=None)
SIGNING_KEY_FILE = env("SIGNING_KEY_FILE", default=None)
# Development only: with neither of those, generate a key into the database instead.
SIGNING_KEY_DEV_GENERATE = DEBUG
# How long a process trusts its cached keys before re-reading the table (rotation pickup).
SIGNING_KEY_CACHE_SECONDS = env.int("SIGNING_KEY_CACHE_SECONDS", default=30)
# rotate_signing_keys promotes the next key once the active one is this old...
SIGNING_KEY_ROTATION_DAYS = env.int("SIGNING_KEY_ROTATION_DAYS", default=30)
# ...and the next key has been published this long (longer than the JWKS max-age).
SIGNING_KEY_PREPUBLISH_SECONDS = env.int("SIGNING_KEY_PREPUBLISH_SECONDS", default=900)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # django.contrib.admin with its site asking staff for a second factor (accounts/mfa/policy.py).
    "accounts.mfa.admin_config.TwoFactorAdminConfig",
    "django.forms",  # its form templates, under ours (FORM_RENDERER below)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets, served from our static files
    "corsheaders",
    "oauth2_provider",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "audit",
    "accounts",
    "accounts.mfa",
    "rbac",
    "sso",
    "oauth",
    "wellknown",
]

# Two lists (core/middleware.py says why, docs/middleware.md shows both). MIDDLEWARE runs on
# every request: what every answer needs, protocol endpoints and JSON APIs included.
MIDDLEWARE = [
    # First, as django-cors-headers asks: it answers preflights before anything else runs, and
    # adds its headers to every answer of the CORS endpoints, errors included (oauth/cors.py).
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise (static files keep their own caching): no-store unless a view says more.
    "core.middleware.no_store_by_default",
    "django.middleware.common.CommonMiddleware",
    # Gives audit events recorded during a request its client IP, user agent and user.
    "audit.middleware.RequestContextMiddleware",
    # Last: BROWSER_MIDDLEWARE around every view but those marked core.middleware.protocol_endpoint.
    "core.middleware.BrowserMiddleware",
]
# The browser's middleware, in this order, for every page and every view that may read a cookie.
BROWSER_MIDDLEWARE = [
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "sso.middleware.SSOSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page, which then
    # gets every header the middleware above adds (X-Frame-Options, CSP, nosniff...).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "identity.urls"
WSGI_APPLICATION = "identity.wsgi.application"
ASGI_APPLICATION = "identity.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.site",
            ],
        },
    },
]

# Forms render with our templates first (templates/django/forms/: errors announced with
# role="alert", fields wrapped for identity.css), Django's after.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
# The name people see in page titles, the header and emails.
SITE_NAME = env("SITE_NAME", default="identity")

# --- Database -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'identity.sqlite3'}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN: concurrent writers queue instead of failing
    # with "database is locked" when a read lock would have to be upgraded.
    _db.setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
else:
    _db["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    # A runaway statement is cut before the worker times out (gunicorn --timeout 30).
    _timeout_ms = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=10_000)
    _db.setdefault("OPTIONS", {})["options"] = f"-c statement_timeout={_timeout_ms}"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default=None)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "identity",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # Never IGNORE_EXCEPTIONS: a failed read must not look like a cache miss
                # that some caller takes for "not revoked".
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Users, passwords, sessions -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
# A login whose password was right waits this long for its other stages (accounts.stages: a
# second factor…) before it must start again.
LOGIN_STAGE_TIMEOUT_SECONDS = env.int("LOGIN_STAGE_TIMEOUT_SECONDS", default=300)
# Two-factor authentication (accounts/mfa): what an authenticator app shows for this account,
# "<issuer>: <account>" (the account is the user's username, or "email").
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default=SITE_NAME)
MFA_TOTP_ACCOUNT_FIELD = env("MFA_TOTP_ACCOUNT_FIELD", default="username")
# Passkeys (accounts/mfa/webauthn): how long a registration or login ceremony may take (its
# one-time challenge expires then). The relying-party id is ISSUER's host, the origin ISSUER's.
MFA_WEBAUTHN_TIMEOUT_SECONDS = env.int("MFA_WEBAUTHN_TIMEOUT_SECONDS", default=180)
# Who must use a second factor (accounts/mfa/policy.py): "none", "staff" (staff and superusers:
# enrolment at their next login, and a second factor in the session for the admin console) or
# "all" (everyone enrols at their next login).
MFA_REQUIRED = env("MFA_REQUIRED", default="staff")
# "Trust this browser for N days" on the code step (a signed cookie; such a login is then
# recorded as the password alone, amr ["pwd"]). 0: not offered.
MFA_TRUST_BROWSER_DAYS = env.int("MFA_TRUST_BROWSER_DAYS", default=0)
# Wrong codes per client IP (across users), beside django-otp's per-device delay: after this
# many in an hour, each further one makes that IP wait 1 s, 2 s, 4 s... up to the maximum.
MFA_IP_FAILURE_ALLOWANCE = env.int("MFA_IP_FAILURE_ALLOWANCE", default=10)
MFA_IP_MAX_DELAY_SECONDS = env.int("MFA_IP_MAX_DELAY_SECONDS", default=300)
# django-otp: a code is accepted one 30-second step early or late, around the server's clock. Its
# drift sync is off: it would let one early or late code shift the window for good.
OTP_TOTP_SYNC = False
LOGOUT_REDIRECT_URL = "accounts:logged-out"
PASSWORD_HASHERS = [
    # Argon2id at OWASP's minimum (19 MiB, t=2, p=1): see accounts/hashers.py.
    "accounts.hashers.Argon2idHasher",
    # Client secrets only (selected by OAUTH2_PROVIDER["CLIENT_SECRET_HASHER"]); never first.
    "oauth.hashers.ClientSecretHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # OWASP ASVS 2.1.1: at least 12 characters (Django's default is 8).
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.MaximumLengthValidator"},
]
REGISTRATION_OPEN = env.bool("REGISTRATION_OPEN", default=True)
# Password reset links (Django's token: dies once the password or the email changes or the user
# logs in) and email verification links (accounts.verification) are valid this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)
EMAIL_VERIFICATION_TIMEOUT = env.int("EMAIL_VERIFICATION_TIMEOUT_SECONDS", default=3 * 24 * 3600)

# --- Email (accounts/mail.py: password reset, email verification) ---------------------------
# With no environment, mail is printed to the console (development). EMAIL_URL (or the file
# in EMAIL_URL_FILE: it holds the password), e.g. smtp+tls://user:password@smtp.example.com:587,
# says everything about the SMTP server; without it, EMAIL_HOST and friends do. The check
# accounts.W001 warns when DEBUG is off and mail would never leave this process.
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
_email_url = _secret("EMAIL_URL")
if _email_url:
    _email = environ.Env.email_url_config(_email_url)
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
    EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
    EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
    EMAIL_PORT = _email["EMAIL_PORT"]
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"] or None  # filemail:///path/to/dir
elif env("EMAIL_HOST", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = _secret("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
    EMAIL_PORT = env.int("EMAIL_PORT", default=None)
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend" and not EMAIL_PORT:
    EMAIL_PORT = 465 if EMAIL_USE_SSL else 587 if EMAIL_USE_TLS else 25
# Seconds an SMTP connection may block (Django's default is forever); mail is sent off the
# request thread (accounts.mail), so a slow server delays the mail, not the page.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="identity <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Login throttling (django-axes, extended by accounts/lockout.py) -------------------------
# Failed logins are counted per (username, client IP): after LOGIN_FAILURE_LIMIT of them, that
# username is refused from that IP (429) until LOGIN_LOCKOUT_SECONDS have passed without a new
# failure. Keyed on the pair, an attacker locks a username out of the attacker's own IP only:
# the real user still logs in from theirs. At the login page, failures of any username from one
# IP count too, against the higher LOGIN_IP_FAILURE_LIMIT (credential stuffing from one address).
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)
# The password grant counts per (username, client_id) against LOGIN_FAILURE_LIMIT, and per
# client IP across usernames against this limit, higher than the login page's: every user of a
# confidential client comes from its server's address (docs/password-grant.md).
PASSWORD_GRANT_IP_FAILURE_LIMIT = env.int("PASSWORD_GRANT_IP_FAILURE_LIMIT", default=100)
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out attempt before any password is checked, so a right password is
    # refused too during the lockout (and no hash is computed for it).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# The database handler: PostgreSQL is the truth, the admin lists the counts and axes_reset
# clears them (the cache handler supports neither, and would tie logins to Redis). Like every
# axes handler it checks before the password and counts after, so parallel attempts would all
# pass the check: the login view serializes them (accounts.lockout.browser_login_attempt).
# Subclassed for the per-IP limit and a cheaper successful login.
AXES_HANDLER = "accounts.lockout.LoginAttemptHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
# Only the pair here: axes applies AXES_FAILURE_LIMIT to every entry of this list, and its reset
# on success deletes the rows matching any entry, so a lone "ip_address" entry would let anyone
# with an account wipe every failure from their IP by logging in (the handler counts per IP).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
# A successful login clears that (username, IP) count: a user's own typos do not add up.
AXES_RESET_ON_SUCCESS = True
# A refused attempt checks no password, so it is not counted: it neither extends the lockout
# nor writes to the database (a flood of refused attempts costs reads only).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client IP by the rule registration and SSO sessions use (X-Forwarded-For believed only as
# far as NUM_PROXIES says); IPv6 clients per /64.
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
# ALICE and alice log in as the same user (iexact): count them as one username.
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_username"
# Our page (templates/accounts/login_locked.html), also for XMLHttpRequest (no CORS answer).
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
# sso.SSOSession already records every login (IP, user agent, time); axes' access log would
# be a second, unbounded copy costing an INSERT per login.
AXES_DISABLE_ACCESS_LOG = True
# Log lines name what is counted (username and IP) and the path, not the user agent; no banner.
AXES_VERBOSE = False
# Masked in the request data axes stores with each failure (a password always is). Usernames
# and IPs stay visible: they are what an operator looks for, in the admin and in the logs.
AXES_SENSITIVE_PARAMETERS = ["csrfmiddlewaretoken", "client_secret", "client_assertion", "code", "token", "otp"]

SESSION_COOKIE_NAME = env("SESSION_COOKIE_NAME", default="identity_session")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_HTTPONLY = True

# --- Failed client authentications (oauth/client_throttle.py) -------------------------------
# At the token, revocation and introspection endpoints, failed client authentications are
# counted in fixed windows: over the limit per client_id, further failures answer 429 (the right
# secret still works, so a public client_id cannot be used to lock its client out); over the
# limit per client IP, that IP is refused (429) until the window ends.
CLIENT_AUTH_FAILURE_LIMIT = env.int("CLIENT_AUTH_FAILURE_LIMIT", default=10)
CLIENT_AUTH_IP_FAILURE_LIMIT = env.int("CLIENT_AUTH_IP_FAILURE_LIMIT", default=30)
CLIENT_AUTH_FAILURE_WINDOW_SECONDS = env.int("CLIENT_AUTH_FAILURE_WINDOW_SECONDS", default=300)

# --- SSO sessions and the revocation store (sso/) -----------------------------------------
# A browser's SSO session ends after this long without a request (idle) or since login (absolute).
SSO_SESSION_IDLE_SECONDS = env.int("SSO_SESSION_IDLE_SECONDS", default=8 * 3600)
SSO_SESSION_ABSOLUTE_SECONDS = env.int("SSO_SESSION_ABSOLUTE_SECONDS", default=14 * 24 * 3600)
# TTL cap of every Redis fast-path key: the longest a revocation whose Redis write failed can
# go unnoticed by processes still reading Redis (see sso/revocation.py).
SSO_REVOCATION_CACHE_SECONDS = env.int("SSO_REVOCATION_CACHE_SECONDS", default=60)
# purge_expired deletes sessions that ended longer ago than this.
SSO_SESSION_RETENTION_SECONDS = env.int("SSO_SESSION_RETENTION_SECONDS", default=30 * 24 * 3600)

# --- OpenID Connect Back-Channel Logout (oauth/backchannel.py) ------------------------------
# Each POST to a client's backchannel_logout_uri waits at most this long for an answer.
BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS = env.float("BACKCHANNEL_LOGOUT_TIMEOUT_SECONDS", default=5)
# Failed deliveries are retried with exponential backoff (15 s, 30 s, ... capped at 1 h) by the
# server and by `manage.py deliver_backchannel_logouts`, until this many attempts were made.
BACKCHANNEL_LOGOUT_MAX_ATTEMPTS = env.int("BACKCHANNEL_LOGOUT_MAX_ATTEMPTS", default=10)
# Threads per process that deliver logout tokens after the logout has committed.
BACKCHANNEL_LOGOUT_WORKERS = env.int("BACKCHANNEL_LOGOUT_WORKERS", default=4)
# purge_expired deletes delivered (or given-up) outbox rows older than this.
BACKCHANNEL_LOGOUT_RETENTION_SECONDS = env.int("BACKCHANNEL_LOGOUT_RETENTION_SECONDS", default=7 * 24 * 3600)

# --- HTTPS and headers --------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Behind a TLS-terminating proxy: SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https
_proxy_header = env.list("SECURE_PROXY_SSL_HEADER", default=[])
SECURE_PROXY_SSL_HEADER = tuple(_proxy_header) if _proxy_header else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
        # Named so that a page can add one origin (a client's logo: accounts.login_context).
        "img-src": ["'self'"],
        # No form-action: Chromium applies it to the redirect that follows a form post, and the
        # consent and logout forms end in a redirect to the client (another origin).
    }
}

# --- CORS for browser-based clients (django-cors-headers; oauth/cors.py, docs/cors.md) ------
# Only these endpoints answer cross-origin requests, and only from an origin that some client
# registered in its allowed origins (oauth.cors.allow_registered_origin decides). Discovery and
# the JWKS answer `*` themselves; every other path gets no CORS headers.
CORS_URLS_REGEX = r"^/(?:oauth/(?:token|revoke|userinfo)/|api/)"
CORS_ALLOWED_ORIGINS = []  # none by configuration: origins are registered per client
CORS_ALLOW_CREDENTIALS = False  # these endpoints take no cookies: never let a page send them
CORS_ALLOW_HEADERS = ["authorization", "content-type"]
CORS_ALLOW_METHODS = ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT"]
# A script may read the Bearer challenge of a 401 or 403 (error="invalid_token", scope=...).
CORS_EXPOSE_HEADERS = ["www-authenticate"]
# Browsers cache a preflight answer this long (Chromium at most 2 hours): an origin removed
# from a client keeps its cached preflights that long, but no actual response is readable.
CORS_PREFLIGHT_MAX_AGE = 600

# Request size limits: OAuth requests are small. Larger bodies get 400 (413 on /oauth/).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=64 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = env.int("DATA_UPLOAD_MAX_NUMBER_FIELDS", default=100)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- OAuth 2.0 (django-oauth-toolkit) -----------------------------------------------------
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Client"
OAUTH2_PROVIDER_GRANT_MODEL = "oauth.Grant"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "oauth.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "oauth.IDToken"

# `roles` and `permissions` release the RBAC claims (rbac.claims). A scope in
# OAUTH_EXPLICIT_SCOPES is granted only to a client that lists it in its allowed scopes (a
# client with none listed may ask for every other scope).
OAUTH_SCOPES = {
    "openid": "Sign you in with your account (OpenID Connect)",
    "profile": "See your name, username and profile details",
    "email": "See your email address",
    "phone": "See your phone number",
    "address": "See your postal address",
    "read": "Read your data in connected APIs",
    "write": "Change your data in connected APIs",
    "roles": "See the roles you hold here",
    "permissions": "See the permissions your roles grant",
    "mfa": "Set up or remove two-factor authentication on your account",
}
OAUTH_EXPLICIT_SCOPES = {"permissions", "mfa"}
# The resource owner password credentials grant, which RFC 9700 2.4 says MUST NOT be used: off
# unless the operator turns it on (then only for clients whose grant_types list `password`;
# oauth.W002 warns while any does). Off, it is unsupported_grant_type and out of discovery.
OAUTH_PASSWORD_GRANT_ENABLED = env.bool("OAUTH_PASSWORD_GRANT_ENABLED", default=False)
# Clients cached per process (oauth/client_cache.py): an entry lives this long (0: no cache), and
# each process asks Redis whether a client changed at most this often. A changed or deleted
# client is refused in every process within the check interval (Redis up), at worst within the
# TTL (a failed Redis write, or several processes without Redis).
OAUTH_CLIENT_CACHE_SECONDS = env.int("OAUTH_CLIENT_CACHE_SECONDS", default=10)
OAUTH_CLIENT_CACHE_CHECK_SECONDS = env.float("OAUTH_CLIENT_CACHE_CHECK_SECONDS", default=1.0)
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "oauth.validators.Validator",
    "ACCESS_TOKEN_GENERATOR": "oauth.tokens.signed_access_token",
    # Opaque, random refresh tokens (otherwise DOT falls back to the access-token generator).
    "REFRESH_TOKEN_GENERATOR": "oauth.tokens.opaque_refresh_token",
    "APPLICATION_ADMIN_CLASS": "oauth.admin.ClientAdmin",
    "ACCESS_TOKEN_ADMIN_CLASS": "oauth.admin.AccessTokenAdmin",
    "REFRESH_TOKEN_ADMIN_CLASS": "oauth.admin.RefreshTokenAdmin",
    "GRANT_ADMIN_CLASS": "oauth.admin.GrantAdmin",
    "ID_TOKEN_ADMIN_CLASS": "oauth.admin.IDTokenAdmin",
    # OpenID Connect through DOT. With OIDC_ENABLED and no OAUTH2_SERVER_CLASS, DOT runs
    # OIDC_SERVER_CLASS. ID tokens are signed by oauth.keys (Validator.finalize_id_token), so
    # OIDC_RSA_PRIVATE_KEY stays unset.
    "OIDC_ENABLED": True,
    "OIDC_SERVER_CLASS": "oauth.server.OIDCServer",
    "SCOPES": OAUTH_SCOPES,
    "DEFAULT_SCOPES": ["profile"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=900),
    # Also bounds how long a retired signing key stays published (oauth.flows.rotate_signing_keys).
    "ID_TOKEN_EXPIRE_SECONDS": env.int("ID_TOKEN_EXPIRE_SECONDS", default=3600),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": env.int("AUTHORIZATION_CODE_EXPIRE_SECONDS", default=60),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("REFRESH_TOKEN_EXPIRE_SECONDS", default=30 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "CLIENT_SECRET_HASHER": "client_secret_hmac",
    # DOT never approves by itself ("auto" would take any live token of the user for the client
    # as consent, whatever grant issued it): oauth.views.AuthorizationView answers from the
    # consent the user gave on the consent page, stored by oauth.consents.
    "REQUEST_APPROVAL_PROMPT": "force",
    # http only on loopback (RFC 8252 native apps), which Client.clean enforces per URI. DOT's
    # check can only see the scheme list, so its gate stays off and its warning is silenced.
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "OIDC_ISS_ENDPOINT": ISSUER,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    # Tokens are stored as SHA-256 checksums only: a database dump yields no usable token.
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": False,  # see ALLOWED_REDIRECT_URI_SCHEMES
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    # The password grant is refused unless the client lists it (oauth.validators).
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": False,
}
# Dynamic client registration (RFC 7591 / 7592, oauth.registration): who may register a client
# over HTTP. "closed": nobody (operators use the admin or create_client); "token": whoever holds
# an initial access token (`manage.py issue_registration_token`); "open": anyone, public clients
# only (no secret, PKCE), and confidential ones with an initial access token.
CLIENT_REGISTRATION = env("CLIENT_REGISTRATION", default="closed")
# The scopes a client registered over HTTP may be allowed (never OAUTH_EXPLICIT_SCOPES:
# oauth.checks refuses them); a registration that names no `scope` gets all of these.
CLIENT_REGISTRATION_SCOPES = env("CLIENT_REGISTRATION_SCOPES", default="openid profile email").split()
# DOT's deploy checks judge settings alone; these two are decided per client instead:
# W002 the password grant (opt-in per client, oauth.validators.Validator.validate_grant_type),
# W008 http redirect URIs (loopback only, oauth.models.redirect_uri_problem).
# admin.E408-E410, axes.W002 and security.W002/W003 (X-Frame-Options, CSRF) look for their
# middleware in MIDDLEWARE, not BROWSER_MIDDLEWARE where it is: accounts.E004 checks there.
SILENCED_SYSTEM_CHECKS = [
    "oauth2_provider.W002",
    "oauth2_provider.W008",
    "admin.E408",
    "admin.E409",
    "admin.E410",
    "axes.W002",
    "security.W002",
    "security.W003",
]

# --- Audit log ----------------------------------------------------------------------------
# Security events are kept this many days, then `manage.py purge_expired` deletes them (0: kept).
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)
# Also record every token issued and refreshed (one INSERT per token request when on).
AUDIT_TOKEN_EVENTS = env.bool("AUDIT_TOKEN_EVENTS", default=False)

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oauth.authentication.JWTAccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.DepthLimitedJSONParser"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "registration": env("REGISTRATION_RATE", default="20/hour"),
        # Client registrations over HTTP (RFC 7591) per client IP, answered or refused.
        "client_registration": env("CLIENT_REGISTRATION_RATE", default="10/hour"),
        # Password reset requests per client IP, and per address asked for (whether or not an
        # account has it: the limit tells nothing about accounts, and no inbox gets flooded).
        "password_reset": env("PASSWORD_RESET_RATE", default="10/hour"),
        "password_reset_address": env("PASSWORD_RESET_ADDRESS_RATE", default="3/hour"),
        # "Send the verification email again", per user.
        "verification_email": env("VERIFICATION_EMAIL_RATE", default="5/hour"),
        # Passwords sent to DELETE /api/me/totp/, per user (codes have django-otp's own delay).
        "mfa_password": env("MFA_PASSWORD_RATE", default="10/hour"),
    },
    # How many proxies in front of us append to X-Forwarded-For. DRF's default (None) takes
    # the whole header from the client, so anyone could dodge a throttle by varying it.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

# --- OpenAPI (drf-spectacular): /api/schema/ and its browsable page /api/docs/ ------------
# The DRF views describe themselves (extend_schema next to each view); the OAuth and OpenID
# Connect endpoints, which are Django views of django-oauth-toolkit, are described by hand in
# oauth/openapi.py and wellknown/openapi.py and merged in by the hooks below.
SPECTACULAR_SETTINGS = {
    "TITLE": "identity",
    "DESCRIPTION": (
        "The JSON surface of this OAuth 2.0 authorization server and OpenID Connect provider: "
        "the API under /api/ and the protocol endpoints under /oauth/ and /.well-known/."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    # The whole description, to anyone, whatever credentials the request carries.
    "SERVE_PUBLIC": True,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No online validator badge (it would load an image from validator.swagger.io).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oauth.openapi.add_protocol_endpoints",
        "wellknown.openapi.add_discovery_endpoints",
    ],
}

# --- Logging: never log tokens or secrets -------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # DOT logs client ids and request details at DEBUG; keep it at INFO.
        "oauth2_provider": {"level": "INFO"},
        "oauthlib": {"level": "WARNING"},
    },
}
