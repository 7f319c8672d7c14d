"""Which apps a person is connected to, and which apps each of their sessions used. Reads only.

A client is connected to a user while the user's consent for it is stored (oauth.consents)
or the user holds a live token of it: an unexpired access token, or a refresh token that is
not revoked and still within REFRESH_TOKEN_EXPIRE_SECONDS, or the longest lifetime a client
has of its own (a trusted client, or the password
grant, has tokens without a consent). "Last used" is the latest token issued or refreshed for
it (any state: a rotated refresh token still says when the app last refreshed).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Max, Min, Q
from django.utils import timezone

from . import rotation
from .models import AccessToken, Client, Consent, Grant, RefreshToken


@dataclass(frozen=True)
class ConnectedApp:
    """One client as the connected apps page shows it."""

    client: Client
    scopes: tuple  # ((scope, description), ...) in the order of settings.OAUTH_SCOPES
    consented: bool
    first_authorized: datetime | None
    last_used: datetime | None

    @property
    def trusted(self):
        return self.client.skip_authorization


def _refresh_lifetime():
    # The longest of any client's (Client.refresh_token_lifetime): an app whose refresh token
    # may still be usable is listed, so that the person can revoke it.
    return rotation.longest_lifetime()


def _live_access(now):
    return Q(expires__gt=now)


def _live_refresh(now):
    return Q(revoked__isnull=True, access_token__expires__gt=now - _refresh_lifetime())


def _ordered(scopes):
    known = settings.OAUTH_SCOPES
    ordered = [s for s in known if s in scopes] + sorted(set(scopes) - set(known))
    return tuple((s, known.get(s, s)) for s in ordered)


def _token_activity(user, now):
    """{client pk: (first created, last created, live?)} over the user's access and refresh tokens."""
    activity = {}
    for model, live in ((AccessToken, _live_access(now)), (RefreshToken, _live_refresh(now))):
        rows = model.objects.filter(user=user).values("application_id")
        for row in rows.annotate(first=Min("created"), last=Max("created"), live=Max("pk", filter=live)):
            first, last, was_live = activity.get(row["application_id"], (None, None, False))
            activity[row["application_id"]] = (
                min(d for d in (first, row["first"]) if d is not None),
                max(d for d in (last, row["last"]) if d is not None),
                was_live or row["live"] is not None,
            )
    return activity


def _live_token_scopes(user, now):
    """{client pk: set of scopes} of the user's live access tokens and of the access tokens
    that live refresh tokens were issued with."""
    live = _live_access(now) | Q(refresh_token__isnull=False, refresh_token__revoked__isnull=True)
    scopes = {}
    rows = AccessToken.objects.filter(live, user=user).values_list("application_id", "scope").distinct()
    for client_pk, scope in rows:
        scopes.setdefault(client_pk, set()).update(scope.split())
    return scopes


def list_apps(*, user, now=None):
    """The user's connected apps, the most recently used first."""
    now = now or timezone.now()
    consents = {c.client_id: c for c in Consent.objects.filter(user=user).select_related("client")}
    activity = _token_activity(user, now)
    connected = set(consents) | {pk for pk, (_, _, live) in activity.items() if live}
    token_scopes = _live_token_scopes(user, now) if connected else {}
    missing = connected - set(consents)
    clients = {pk: c.client for pk, c in consents.items()} | Client.objects.in_bulk(list(missing))
    apps = []
    for pk in connected & set(clients):
        consent = consents.get(pk)
        first, last, _ = activity.get(pk, (None, None, False))
        authorized = [d for d in (consent and consent.created_at, first) if d is not None]
        scopes = (consent.scope_set if consent else set()) | token_scopes.get(pk, set())
        apps.append(
            ConnectedApp(
                client=clients[pk],
                scopes=_ordered(scopes),
                consented=consent is not None,
                first_authorized=min(authorized) if authorized else None,
                last_used=last,
            )
        )
    epoch = datetime.min.replace(tzinfo=now.tzinfo)
    return sorted(apps, key=lambda app: (app.last_used or app.first_authorized or epoch, app.client.name), reverse=True)


def is_connected(*, user, client, now=None):
    """Whether `client` is one of the user's connected apps (see the module docstring)."""
    now = now or timezone.now()
    return (
        Consent.objects.filter(user=user, client=client).exists()
        or AccessToken.objects.filter(_live_access(now), user=user, application=client).exists()
        or RefreshToken.objects.filter(_live_refresh(now), user=user, application=client).exists()
    )


def clients_by_session(*, user, sids):
    """{sid: [client name, ...]}: the apps each of `user`'s sessions (`sids`) logged in to or
    got tokens in. Authorization codes record the session they were approved in (and are kept
    after redemption); refresh and access tokens carry it too, and outlive purged codes.
    The provider oauth registers with sso.session_apps for the sessions page."""
    if not sids:
        return {}
    names = {}
    for model in (Grant, RefreshToken, AccessToken):
        rows = model.objects.filter(user=user, sid__in=list(sids)).values_list("sid", "application__name").distinct()
        for sid, name in rows:
            names.setdefault(sid, set()).add(name)
    return {sid: sorted(found, key=str.casefold) for sid, found in names.items()}
