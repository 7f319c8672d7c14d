"""Wrong second-factor codes counted per client IP, across users, with a growing delay.

django-otp already slows guesses per device (1 s, 2 s, 4 s… after each wrong code of that
user). This limits one client guessing at many users' codes: an IP's wrong codes are counted
in the shared cache (Redis in production) for an hour after the first; past
MFA_IP_FAILURE_ALLOWANCE of them, each further one makes that IP wait 1 s, then 2 s, 4 s…, up to
MFA_IP_MAX_DELAY_SECONDS, during which its codes (right or wrong) are answered 429 with
Retry-After. A right code does not reset the count (an attacker would reset it with their own
account). The IP is the project's counting key (core.client_ip: IPv6 per /64). If the cache
is unreachable the limit is skipped (logged): the per-device delay, in the database, remains.
"""

import hashlib
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from core import client_ip

from .flows import MFAError, Throttled

WINDOW_SECONDS = 3600
_CACHE_ERRORS = (ConnectionInterrupted, RedisError, OSError)

log = logging.getLogger(__name__)


def delay_for(failures):
    """Seconds an IP waits after its `failures`-th wrong code (pure)."""
    over = failures - settings.MFA_IP_FAILURE_ALLOWANCE
    if over <= 0:
        return 0
    return min(settings.MFA_IP_MAX_DELAY_SECONDS, 2 ** min(over - 1, 30))


def _keys(request):
    ip = client_ip.counting_key(request) or "none"
    digest = hashlib.sha256(ip.encode()).hexdigest()[:32]
    return f"mfa:ip-failures:{digest}", f"mfa:ip-last-failure:{digest}"


def retry_after(request, *, now=None):
    """Seconds this client must wait before its next code is checked (0: none)."""
    count_key, last_key = _keys(request)
    try:
        values = cache.get_many([count_key, last_key])
    except _CACHE_ERRORS:
        log.warning("The per-IP limit of two-factor codes is skipped: the cache is unreachable.")
        return 0
    wait = delay_for(int(values.get(count_key) or 0))
    remaining = float(values.get(last_key) or 0) + wait - (now if now is not None else time.time())
    return max(0, remaining) if wait else 0


def failed(request):
    """Count a wrong code from this client."""
    count_key, last_key = _keys(request)
    try:
        if not cache.add(count_key, 1, WINDOW_SECONDS):
            try:
                cache.incr(count_key)
            except ValueError:  # expired between the two calls
                cache.set(count_key, 1, WINDOW_SECONDS)
        cache.set(last_key, time.time(), WINDOW_SECONDS)
    except _CACHE_ERRORS:
        log.warning("A wrong two-factor code was not counted per IP: the cache is unreachable.")


def guarded(request, check):
    """`check()` (a flows call checking a code) under this client's limit: raises Throttled
    while the IP waits; a wrong code (MFAError, not Throttled) is counted."""
    wait = retry_after(request)
    if wait:
        raise Throttled(math.ceil(wait))
    try:
        return check()
    except Throttled:
        raise
    except MFAError:
        failed(request)
        raise
