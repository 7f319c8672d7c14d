"""Throttles of the account pages: self-registration (shared by the JSON API and the HTML
form), password reset requests, and "send the verification email again"."""

import hashlib
import logging

from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from core import client_ip

log = logging.getLogger(__name__)


class RegistrationThrottle(SimpleRateThrottle):
    """Per client IP, at REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["registration"].

    The IP is the project's counting key (core.client_ip: X-Forwarded-For believed only as
    far as REST_FRAMEWORK["NUM_PROXIES"] says, IPv6 clients per /64).
    """

    scope = "registration"

    def get_rate(self):
        # DRF copies the rates into a class attribute at import; read them at use instead,
        # so that a changed setting (override_settings in tests) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        # The counts live in the shared cache. If it is down, registration stays open (this is
        # abuse control, not a security boundary) rather than failing with a 500.
        try:
            return super().allow_request(request, view)
        except (ConnectionInterrupted, RedisError):
            log.warning("The %s throttle is skipped: the cache is unreachable.", self.scope)
            return True

    def get_cache_key(self, request, view):
        ident = client_ip.counting_key(request) or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def registration_allowed(request):
    """Count one registration attempt from this client; False once over the rate."""
    return RegistrationThrottle().allow_request(request, view=None)


class KeyedThrottle(RegistrationThrottle):
    """The same, at REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope], counted per `key` (an
    address, a user) instead of per client IP."""

    def __init__(self, scope, key):
        self.scope = scope
        self.key = key
        super().__init__()

    def get_cache_key(self, request, view):
        # Hashed: an address in a cache key would be a copy of personal data in Redis.
        digest = hashlib.sha256(str(self.key).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}


class ClientThrottle(RegistrationThrottle):
    """Per client IP, at REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]."""

    def __init__(self, scope):
        self.scope = scope
        super().__init__()


def password_reset_allowed(request, *, email):
    """Count one reset request from this client and for this address (folded as the lookup is,
    case-insensitively); False once either is over its rate. Both are counted either way."""
    by_client = ClientThrottle("password_reset").allow_request(request, view=None)
    by_address = KeyedThrottle("password_reset_address", email.strip().lower()).allow_request(request, view=None)
    return by_client and by_address


def verification_email_allowed(request, *, user):
    """Count one "send the verification email again" of this user; False once over the rate."""
    return KeyedThrottle("verification_email", user.pk).allow_request(request, view=None)
