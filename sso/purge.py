"""What `manage.py purge_expired` removes, as a registry other apps add to.

A purger is a callable `purger(*, now, batch_size) -> int` that deletes rows that are no longer
needed at `now`, at most `batch_size` per short transaction (so no table is locked for long),
and returns how many it deleted. Apps above sso register theirs in AppConfig.ready():

    from sso import purge
    purge.register("oauth.tokens", purge_expired_tokens)
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from .models import SSOSession

_purgers = {}


def register(name, purger):
    """Add (or replace) the purger called `name`."""
    _purgers[name] = purger


def registered():
    """The registered purgers, by name, in registration order."""
    return dict(_purgers)


def delete_in_batches(queryset, *, batch_size):
    """Delete the rows of `queryset` by primary key, `batch_size` per transaction."""
    deleted = 0
    while True:
        with transaction.atomic():
            pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not pks:
                return deleted
            deleted += queryset.model.objects.filter(pk__in=pks).delete()[0]


def purge_sessions(*, now, batch_size):
    """SSO sessions that ended (revoked or expired) more than SSO_SESSION_RETENTION_SECONDS ago."""
    cutoff = now - timedelta(seconds=settings.SSO_SESSION_RETENTION_SECONDS)
    ended = Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff) | Q(idle_expires_at__lt=cutoff)
    return delete_in_batches(SSOSession.objects.filter(ended), batch_size=batch_size)
