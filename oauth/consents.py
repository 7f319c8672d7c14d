"""Remembered consent: what a person allowed each client, and whether a request must ask.

An approval on the consent page is stored per (user, client) with the scopes approved
(models.Consent). A later authorization request of that client for the same scopes or fewer
is answered without the page; one that asks for a scope not yet approved shows the page
again (telling which scopes were already allowed), and approving it stores the union.
`prompt=consent` always asks; `prompt=none` answers from a covering consent or with
`consent_required`. Only the stored consent counts: a token the user holds for the client
(from the password grant, say, or issued to a trusted client) is not an approval.

One exception, RFC 8252 8.6: a public client redirecting to a loopback address is a native
app, and any program on the user's machine can listen on a loopback port and send the same
client_id. Nothing proves that such a request comes from the app the user approved, so it is
asked every time (the consent is still stored: the connected apps page lists it).
"""

from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from audit import events

from .models import Consent, is_loopback_host


def covers(granted, requested):
    """Whether an approval of `granted` scopes answers a request for `requested`. Pure."""
    requested = set(requested)
    return bool(requested) and requested <= set(granted)


def may_answer_silently(*, client, redirect_uri):
    """Whether a stored consent may answer a request of `client` for `redirect_uri` without
    asking: not for a public client redirecting to loopback (RFC 8252 8.6, see above)."""
    if client.client_type != client.CLIENT_PUBLIC:
        return True
    return not is_loopback_host(urlsplit(redirect_uri or "").hostname or "")


def granted_scopes(*, user, client):
    """The scopes `user` has approved for `client` (an empty set when none)."""
    scopes = Consent.objects.filter(user=user, client=client).values_list("scopes", flat=True).first()
    return frozenset((scopes or "").split())


def _join(scopes):
    return " ".join(sorted(scopes))


def remember(*, user, client, scopes, now=None):
    """Store that `user` approved `scopes` for `client`, widening an earlier approval to the
    union. Concurrent approvals of one client by one user end in one row holding both."""
    now = now or timezone.now()
    scopes = frozenset(scopes)
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(user=user, client=client).first()
        if consent is None:
            try:
                with transaction.atomic():  # a savepoint: a concurrent approval may insert first
                    consent = Consent.objects.create(
                        user=user, client=client, scopes=_join(scopes), created_at=now, updated_at=now
                    )
                    _record_granted(user, client, scopes)
                    return consent
            except IntegrityError:
                consent = Consent.objects.select_for_update().get(user=user, client=client)
        if not scopes <= consent.scope_set:
            _record_granted(user, client, scopes - consent.scope_set)
            consent.scopes = _join(consent.scope_set | scopes)
            consent.updated_at = now
            consent.save(update_fields=["scopes", "updated_at"])
        return consent


def _record_granted(user, client, scopes):
    detail = {"scope": _join(scopes)}
    audit.record(event=events.CONSENT_GRANTED, actor=user, client_id=client.client_id, detail=detail)


def forget(*, user, client):
    """Delete `user`'s consent for `client`; the next authorization request asks again."""
    deleted, _ = Consent.objects.filter(user=user, client=client).delete()
    return bool(deleted)
