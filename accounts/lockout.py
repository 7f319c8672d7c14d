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

The password grant (`password_grant_attempt`) is counted apart from the login page, in rows of
its own (their user agent is `grant_agent(client_id)`): per (username, client_id), whatever the
client's server IP, against the same LOGIN_FAILURE_LIMIT, and per client IP across usernames and
clients against the higher PASSWORD_GRANT_IP_FAILURE_LIMIT (every user of a confidential client
comes from its server's one address). A client's failures for a user lock that user out of that
client only, neither of the login page nor of other clients; the login page's counts leave the
grant's rows out. Serialized per (username, client_id) under the login page's lock; a wrong
second factor counts as a failure (`second_factor_failed`); a success clears its
(username, client_id) count (`password_grant_succeeded`). Other callers of authenticate() with a
request get the (username, IP) count only.
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
# Set by browser_login_attempt and password_grant_attempt: the limit of this attempt's IP across
# usernames (LOGIN_IP_FAILURE_LIMIT, PASSWORD_GRANT_IP_FAILURE_LIMIT); absent, none.
PER_IP_ATTRIBUTE = "identity_login_per_ip"
# Set by password_grant_attempt: the client_id whose password grant this attempt is.
GRANT_CLIENT_ATTRIBUTE = "identity_grant_client_id"
# Set when an attempt is refused or locks out: ACCOUNT (its username's count) or ADDRESS (its IP's).
LOCKED_BY_ATTRIBUTE = "identity_locked_by"
ACCOUNT, ADDRESS = "account", "address"
# The user agent of the password grant's rows. Header values reach Django as latin-1 strings
# (PEP 3333, and Django's ASGI handler alike), so no HTTP client can send a User-Agent starting
# with U+2192: no browser login can pass for a client's password grant (and one that tried would
# have its user agent replaced, see LoginAttemptHandler.identify).
GRANT_AGENT_PREFIX = "\u2192 password grant, client "
REPLACED_AGENT = "<replaced>"


def grant_agent(client_id):
    """The user agent the password grant's failures of `client_id` are stored under."""
    return f"{GRANT_AGENT_PREFIX}{client_id}"[:255]


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
    """axes' database handler (AXES_HANDLER), with a limit per client IP across usernames, and
    the password grant's counts kept apart.

    axes counts the (username, IP) pair (AXES_LOCKOUT_PARAMETERS) against AXES_FAILURE_LIMIT;
    a browser login is also refused once its IP has LOGIN_IP_FAILURE_LIMIT failures, whatever
    the usernames. A successful login still clears only its own pair, so logging in to one's
    own account does not clear the failures of other usernames from the same IP. The password
    grant's "pair" is (username, client_id) instead, and its IP limit
    PASSWORD_GRANT_IP_FAILURE_LIMIT (counting the grant's rows only).
    """

    @staticmethod
    def identify(request):
        """Give the password grant's attempt its client's user agent, and no other one a user
        agent that could pass for it."""
        client_id = getattr(request, GRANT_CLIENT_ATTRIBUTE, None)
        if client_id is not None:
            request.axes_user_agent = grant_agent(client_id)
        elif getattr(request, "axes_user_agent", "").startswith(GRANT_AGENT_PREFIX):
            request.axes_user_agent = REPLACED_AGENT

    def filter_user_attempts(self, request, credentials=None):
        # What axes counts against AXES_FAILURE_LIMIT at a failure, and clears at a success.
        self.identify(request)
        username = get_client_username(request, credentials)
        if getattr(request, GRANT_CLIENT_ATTRIBUTE, None) is not None:
            return [AccessAttempt.objects.filter(username=username, user_agent=request.axes_user_agent)]
        pair = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address)
        return [pair.exclude(user_agent__startswith=GRANT_AGENT_PREFIX)]

    def failure_counts(self, request, credentials=None):
        """(failures of this attempt's pair, failures from this IP), within the cool-off: the
        pair is (username, IP) at the login page, (username, client_id) for the password grant,
        and each counts only its own kind of rows."""
        self.identify(request)
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        ip = Q(ip_address=request.axes_ip_address)
        if getattr(request, GRANT_CLIENT_ATTRIBUTE, None) is not None:
            pair = Q(username=username, user_agent=request.axes_user_agent)
            ip &= Q(user_agent__startswith=GRANT_AGENT_PREFIX)
            recent = recent.filter(pair | ip)
        else:
            pair = Q(username=username)
            recent = recent.filter(ip).exclude(user_agent__startswith=GRANT_AGENT_PREFIX)
        totals = recent.aggregate(
            pair=Sum("failures_since_start", filter=pair), ip=Sum("failures_since_start", filter=ip)
        )
        return totals["pair"] or 0, totals["ip"] or 0

    def is_locked(self, request, credentials=None):
        pair, per_ip = self.failure_counts(request, credentials)
        setattr(request, PAIR_FAILURES_ATTRIBUTE, pair)
        ip_limit = getattr(request, PER_IP_ATTRIBUTE, None)
        if pair >= get_failure_limit(request, credentials):
            setattr(request, LOCKED_BY_ATTRIBUTE, ACCOUNT)
        elif ip_limit is not None and per_ip >= ip_limit:
            setattr(request, LOCKED_BY_ATTRIBUTE, ADDRESS)
        return hasattr(request, LOCKED_BY_ATTRIBUTE)

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        # axes records the failure and locks the pair out when it reaches its limit.
        if request is not None:
            self.identify(request)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None:
            return
        if request.axes_locked_out:
            if not hasattr(request, LOCKED_BY_ATTRIBUTE):
                setattr(request, LOCKED_BY_ATTRIBUTE, ACCOUNT)  # this failure reached the limit
            return
        ip_limit = getattr(request, PER_IP_ATTRIBUTE, None)
        if ip_limit is None or self.is_whitelisted(request, credentials):
            return
        _, per_ip = self.failure_counts(request, credentials)
        if per_ip >= ip_limit:
            username = get_client_username(request, credentials)
            client = get_client_str(
                username, request.axes_ip_address, request.axes_user_agent, request.axes_path_info, request
            )
            log.warning("Locking out %s: %d failed logins from this IP.", client, per_ip)
            request.axes_locked_out = True
            request.axes_credentials = credentials
            setattr(request, LOCKED_BY_ATTRIBUTE, ADDRESS)
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
    setattr(request, PER_IP_ATTRIBUTE, settings.LOGIN_IP_FAILURE_LIMIT)
    with _one_attempt_at_a_time(request, username, client_ip(request)):
        yield


@contextmanager
def password_grant_attempt(request, username, *, client_id):
    """Wrap the password grant's authenticate() and second-factor check (the Django request
    django-oauth-toolkit builds for authenticate()) by the client `client_id`: counted per
    (username, client_id) against LOGIN_FAILURE_LIMIT and per client IP against
    PASSWORD_GRANT_IP_FAILURE_LIMIT (see the module docstring), one step per
    (username, client_id) under the login page's lock, so that parallel token requests, from one
    or several of the client's servers, cannot all pass the lockout check before the first
    failure is counted. As at the login page, the per-IP limit may be passed by the attempts on
    other usernames running at that instant."""
    setattr(request, GRANT_CLIENT_ATTRIBUTE, client_id)
    setattr(request, PER_IP_ATTRIBUTE, settings.PASSWORD_GRANT_IP_FAILURE_LIMIT)
    with _one_attempt_at_a_time(request, username, f"client {client_id}"):
        yield


def password_grant_succeeded(request, username):
    """Clear the (username, client_id) count of a password grant that got its token (inside
    password_grant_attempt). Nothing to do, and no statement, when its check counted none."""
    if getattr(request, PAIR_FAILURES_ATTRIBUTE, 0):
        AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": username})


def locked_by(request):
    """Why this attempt was refused or locked out: ACCOUNT, ADDRESS, or None (it was not)."""
    if not getattr(request, "axes_locked_out", False):
        return None
    return getattr(request, LOCKED_BY_ATTRIBUTE, ACCOUNT)


def cool_off_minutes(request):
    """The lockout's length, in whole minutes (at least one)."""
    return max(1, math.ceil(get_cool_off(request).total_seconds() / 60))


@contextmanager
def _one_attempt_at_a_time(request, username, where):
    using = router.db_for_write(AccessAttempt)
    with transaction.atomic(using=using):
        connection = connections[using]
        if connection.vendor == "postgresql":
            named = attempted_username(request, {"username": username} if username is not None else None)
            locks.xact_lock(connection, locks.LOGIN_ATTEMPT, locks.key_of(f"{named}\n{where}"))
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
