"""Signal receivers, connected in OAuthConfig.ready()."""

from django.db import transaction
from django.utils import timezone

import audit
from audit import events
from sso import revocation

from . import ended_sessions


def end_tokens_of_ended_sessions(sender, user, sids, everywhere, **kwargs):
    """`sso.signals.sessions_ended`: their tokens end too, and their clients are told."""
    ended_sessions.end_tokens(user=user, sids=sids, everywhere=everywhere)


def forget_deleted_access_token(sender, instance, using, **kwargs):
    """`post_delete` of an AccessToken: a deleted row is a revoked token, whatever deleted it
    (RFC 7009 revocation, AccessToken.revoke, a family revoked on refresh-token reuse or code
    replay, a logout, the admin, a deleted user or client). Once the deletion has committed,
    the revocation store's fast path stops calling the token live.

    Expired rows (the purge) are skipped: their fast-path entry never outlives the token.
    """
    if instance.jti and instance.expires > timezone.now():
        jti = instance.jti
        transaction.on_commit(lambda: revocation.forget_token(jti), using=using, robust=True)


def record_client_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    """`post_save` of a Client (create_client, seed_clients, the admin): the audit log's
    client.created / client.changed (never the secret: only fields)."""
    if raw or (update_fields and "client_secret" in update_fields):
        return  # a new secret: flows.rotate_client_secret records it, with the operator
    event = events.CLIENT_CREATED if created else events.CLIENT_CHANGED
    detail = {"name": instance.name, "client_type": instance.client_type, "grant_types": instance.grant_types}
    if update_fields:
        detail["fields"] = sorted(update_fields)
    audit.record(event=event, client_id=instance.client_id, detail=detail)


def record_client_deleted(sender, instance, **kwargs):
    audit.record(event=events.CLIENT_DELETED, client_id=instance.client_id, detail={"name": instance.name})
