"""Login lockout: django-axes, configured in settings (AXES_*) and extended here.

axes counts failed logins per (username, client IP) in its AccessAttempt table and refuses a
pair that has failed too often, until the cool-off has passed. This module gives it:

- the client IP as the rest of the project sees it (`client_ip`), so that a spoofed
  X-Forwarded-For is not a new client;
- one spelling per username (`attempted_username`), so that ALICE and alice, which log in as the
  same user, are counted together;
- for browser logins (`browser_login_attempt`), a second count, per client IP across usernames,
  with its own higher limit (`LoginAttemptHandler`; axes applies one limit to every lockout
  parameter), and one step per (username, client IP) from the lockout check to the counting of
  the failure (axes checks before the password and counts after, so parallel attempts would all
  pass the check);
- the lockout page (`lockout_response`).

Other callers of authenticate() with a request, such as django-oauth-toolkit's password grant,
get the (username, IP) count only: their requests come from a client's server, whose IP all the
users of that client share. The password grant is serialized per (username, IP) too
(`password_grant_attempt`), and counts a wrong second factor as a failure
(`second_factor_failed`).
"""

import logging
import math
from contextlib import contextmanager

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_str, get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import connections, router, transaction
from django.db.models import Q, Sum
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from core import client_ip as client_ip_rule
from core import locks

log = logging.getLogger(__name__)

USERNAME_MAX_LENGTH = 150  # accounts.User.username's; a longer one cannot log in anyway
# The check before the password leaves its (username, IP) failure count on the request.
PAIR_FAILURES_ATTRIBUTE = "identity_login_failures"
# Set by browser_login_attempt: this attempt also counts against LOGIN_IP_FAILURE_LIMIT.
PER_IP_ATTRIBUTE = "identity_login_per_ip"


def client_ip(request):
    """The client IP that attempts are counted under (AXES_CLIENT_IP_CALLABLE), or None: the
    project's one rule (core.client_ip.counting_key; IPv6 clients per /64)."""
    return client_ip_rule.counting_key(request)


def attempted_username(request, credentials):
    """The username an attempt is counted under (AXES_USERNAME_CALLABLE), or None.

    Users are looked up case-insensitively (`iexact`, which PostgreSQL compares upper-cased), so
    the name is folded the same way; control characters are replaced (the name is logged).
    """
    username = credentials.get("username") if credentials else request.POST.get("username")
    if username is None:
        return None
    folded = str(username).strip().upper().lower()
    return "".join(c if c.isprintable() else "\ufffd" for c in folded)[:USERNAME_MAX_LENGTH]


class LoginAttemptHandler(AxesDatabaseHandler):
    """axes' database handler (AXES_HANDLER), with a limit per client IP across usernames.

    axes counts the (username, IP) pair (AXES_LOCKOUT_PARAMETERS) against AXES_FAILURE_LIMIT;
    a browser login is also refused once its IP has LOGIN_IP_FAILURE_LIMIT failures, whatever
    the usernames. A successful login still clears only its own pair, so logging in to one's
    own account does not clear the failures of other usernames from the same IP.
    """

    def failure_counts(self, request, credentials=None):
        """(failures of this username from this IP, failures from this IP), within the cool-off."""
        recent = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        username = get_client_username(request, credentials)
        totals = recent.aggregate(
            pair=Sum("failures_since_start", filter=Q(username=username)), ip=Sum("failures_since_start")
        )
        return totals["pair"] or 0, totals["ip"] or 0

    def is_locked(self, request, credentials=None):
        pair, per_ip = self.failure_counts(request, credentials)
        setattr(request, PAIR_FAILURES_ATTRIBUTE, pair)
        if pair >= get_failure_limit(request, credentials):
            return True
        return getattr(request, PER_IP_ATTRIBUTE, False) and per_ip >= settings.LOGIN_IP_FAILURE_LIMIT

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        # axes records the failure and locks the pair out when it reaches its limit.
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out or not getattr(request, PER_IP_ATTRIBUTE, False):
            return
        if self.is_whitelisted(request, credentials):
            return
        _, per_ip = self.failure_counts(request, credentials)
        if per_ip >= settings.LOGIN_IP_FAILURE_LIMIT:
            username = get_client_username(request, credentials)
            client = get_client_str(
                username, request.axes_ip_address, request.axes_user_agent, request.axes_path_info, request
            )
            log.warning("Locking out %s: %d failed logins from this IP.", client, per_ip)
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def user_logged_in(self, sender, request, user, **kwargs):
        # axes deletes the expired rows and this pair's failures at every login: two DELETEs.
        # When the check before the password found no failure of this pair, there is nothing to
        # clear (expired rows are also deleted at every failure).
        if getattr(request, PAIR_FAILURES_ATTRIBUTE, None) == 0:
            return
        super().user_logged_in(sender, request, user, **kwargs)


@contextmanager
def browser_login_attempt(request, username=None):
    """Wrap the authenticate() of a browser login: its IP's failures across usernames count
    (LOGIN_IP_FAILURE_LIMIT), and a lock per (username, client IP) makes the lockout check, the
    password check and the counting of a failure one step, so that parallel attempts on one
    account cannot all pass the check before the first failure is counted: the per-account
    limit (LOGIN_FAILURE_LIMIT) is exact. The lock is not per IP alone, because it is held
    through the password hash: people behind one address (a NAT, an office) would then log in
    one at a time. So the per-IP limit across usernames may be passed by at most the number of
    attempts running at that instant (one per worker), which it tolerates: it bounds credential
    stuffing, it does not guard one account.

    PostgreSQL: a transaction-scoped advisory lock (the next holder's statements see the count
    committed by the previous one, under Django's READ COMMITTED). SQLite: its transactions
    start with BEGIN IMMEDIATE (see settings), which already makes writers queue.
    """
    setattr(request, PER_IP_ATTRIBUTE, True)
    with _one_attempt_at_a_time(request, username):
        yield


@contextmanager
def password_grant_attempt(request, username):
    """Wrap the password grant's authenticate() and second-factor check (the Django request
    django-oauth-toolkit builds for authenticate()): one step per (username, client IP), under
    the same lock as the login page's, so that parallel token requests cannot all pass the
    lockout check before the first failure is counted. Counted per (username, client IP) only
    (see the module docstring)."""
    with _one_attempt_at_a_time(request, username):
        yield


@contextmanager
def _one_attempt_at_a_time(request, username):
    using = router.db_for_write(AccessAttempt)
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            named = attempted_username(request, {"username": username} if username is not None else None)
            locks.xact_lock(connection, locks.LOGIN_ATTEMPT, locks.key_of(f"{named}\n{client_ip(request)}"))
        yield


def second_factor_failed(request, username):
    """Count a wrong second factor after the right password as a failed login of `username`
    (the password grant, whose codes are otherwise throttled only by django-otp's growing delay).
    A missing one is not counted: it is no guess, and a client that does not know of `otp`
    would otherwise lock its user out."""
    AxesProxyHandler.update_request(request)
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


def lockout_response(request, original_response=None, credentials=None):
    """The answer to a refused login (AXES_LOCKOUT_CALLABLE): 429 and a page that says when to
    try again, the same whatever the username (it does not tell whether the account exists)."""
    seconds = int(get_cool_off(request).total_seconds())
    context = {"minutes": max(1, math.ceil(seconds / 60))}
    response = render(request, "accounts/login_locked.html", context, status=429)
    response["Retry-After"] = str(seconds)
    add_never_cache_headers(response)
    return response
