"""Signal receivers, connected in OAuthConfig.ready()."""

from django.db import transaction
from django.utils import timezone

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
