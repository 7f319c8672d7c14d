"""Throttle for self-registration, shared by the JSON API and the HTML form."""

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
            log.warning("Registration throttle skipped: the cache is unreachable.")
            return True

    def get_cache_key(self, request, view):
        ident = client_ip.counting_key(request) or self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def registration_allowed(request):
    """Count one registration attempt from this client; False once over the rate."""
    return RegistrationThrottle().allow_request(request, view=None)
