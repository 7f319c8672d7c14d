"""What ending SSO sessions does to OAuth: revoke their tokens, tell their clients.

sso announces ended sessions with `sso.signals.sessions_ended` (after its commit); the
receiver in oauth.receivers calls `end_tokens`. The revocation store already refuses the
tokens by then (their sid is forgotten, the user's not-before moved); deleting the rows
makes introspection, the admin and the refresh grant agree, and frees the Redis allow-list
entries (oauth.receivers forgets deleted access tokens after the commit).
"""

import logging
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import backchannel
from .models import AccessToken, Client, Grant, RefreshToken

log = logging.getLogger(__name__)


def _bound(user, sids, everywhere):
    """The rows of `user` that ending these sessions ends: all of them when `everywhere`."""
    return Q(user=user) if everywhere else Q(user=user, sid__in=sids)


def clients_to_notify(*, user, sids, everywhere):
    """{client: ended sids it took part in} for clients with a back-channel logout URI that
    hold grants or tokens (in any state: a redeemed code still means the client logged the
    user in) of the ended sessions, or of the user at all when `everywhere`."""
    bound = _bound(user, sids, everywhere) & ~Q(application__backchannel_logout_uri="")
    ended = set(sids)
    found = {}
    for model in (Grant, AccessToken, RefreshToken):
        for client_id, sid in model.objects.filter(bound).values_list("application_id", "sid").distinct():
            found.setdefault(client_id, set())
            if sid in ended:
                found[client_id].add(sid)
    clients = Client.objects.in_bulk(list(found))
    return {clients[pk]: held for pk, held in found.items() if pk in clients and (held or everywhere)}


def _revoke_refresh_tokens(queryset, now):
    try:
        with transaction.atomic():
            return queryset.update(revoked=now, updated=now)
    except IntegrityError:
        # (token_checksum, revoked) is unique, and two live rows sharing a checksum cannot
        # share one timestamp: revoke them one by one (see DOT's revoke_family).
        rows = list(queryset)
        for row in rows:
            row.revoke()
        return len(rows)


def revoke_rows(bound):
    """Revoke the live refresh tokens, delete the access tokens and the unredeemed codes that
    match the filter `bound` (a Q on user, sid, application). Returns how many of each.
    Deleted access tokens leave the revocation store's fast path after the commit
    (oauth.receivers), so they are refused at once; a revoked refresh token never refreshes."""
    refresh = _revoke_refresh_tokens(RefreshToken.objects.filter(bound, revoked__isnull=True), timezone.now())
    access, _ = AccessToken.objects.filter(bound).delete()
    codes, _ = Grant.objects.filter(bound, redeemed_at__isnull=True).delete()
    return refresh, access, codes


def end_tokens(*, user, sids, everywhere):
    """Revoke the refresh tokens, access tokens and unredeemed codes bound to the ended
    `sids` (every one of the user's when `everywhere`), and queue the back-channel logouts,
    in one transaction; the logout tokens are sent after it commits."""
    if not sids and not everywhere:
        return
    bound = _bound(user, sids, everywhere)
    with transaction.atomic():
        targets = clients_to_notify(user=user, sids=sids, everywhere=everywhere)
        refresh, access, codes = revoke_rows(bound)
        outbox = backchannel.enqueue(subject=user.subject, targets=targets, everywhere=everywhere)
        if outbox:
            transaction.on_commit(partial(backchannel.deliver_soon, outbox), robust=True)
    log.info(
        "Sessions of user %s ended (%s): revoked %d refresh token(s), %d access token(s), %d code(s); "
        "%d back-channel logout(s) queued.",
        user.pk,
        "everywhere" if everywhere else f"{len(sids)} session(s)",
        refresh,
        access,
        codes,
        len(outbox),
    )
