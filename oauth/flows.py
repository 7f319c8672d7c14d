"""OAuth use cases: registering clients, revoking token families."""

from django.db import transaction
from oauth2_provider.generators import generate_client_secret

from .models import AccessToken, Client, RefreshToken


class ClientError(Exception):
    """The client could not be registered; `errors` maps fields to messages."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


def create_client(
    *, name, grant_types, redirect_uris=(), public=False, scopes="", trusted=False, can_introspect_any=False
):
    """Register a client. Returns (client, secret): the plaintext secret, shown once (None
    for a public client). Only the secret's keyed hash is stored."""
    from django.core.exceptions import ValidationError

    secret = None if public else generate_client_secret()
    client = Client(
        name=name,
        client_type=Client.CLIENT_PUBLIC if public else Client.CLIENT_CONFIDENTIAL,
        grant_types=" ".join(grant_types),
        redirect_uris=" ".join(redirect_uris),
        allowed_scopes=scopes,
        skip_authorization=trusted,
        can_introspect_any=can_introspect_any,
        client_secret=secret or "",
    )
    try:
        client.full_clean(exclude=["client_id", "client_secret", "user", "authorization_grant_type"])
    except ValidationError as exc:
        raise ClientError(exc.message_dict) from exc
    client.save()
    return client, secret


@transaction.atomic
def revoke_token_family(*, family):
    """Revoke every token descended from one authorization: refresh tokens are marked
    revoked, access tokens deleted (so they are refused at once)."""
    if family is None:
        return
    RefreshToken.revoke_family(family)
    AccessToken.objects.filter(token_family=family).delete()
