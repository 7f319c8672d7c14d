"""RP-Initiated Logout 1.0: which logout request is this, and where may it end?

`id_token_hint` is verified with our own key store (an expired hint is accepted, a forged,
foreign or unsigned one is not); `post_logout_redirect_uri` must be one the client registered,
character for character, and needs the client to be known (`client_id` or the hint's
audience). Anything else is a LogoutError: an error page, never a redirect.
"""

from dataclasses import dataclass

from core import querystring

from . import protocol
from .claims import InvalidToken, id_token_audiences
from .jws import verify_id_token_hint
from .models import Client

# Longest logout parameter accepted (the id_token_hint aside): a cap on reflected input.
MAX_PARAMETER_LENGTH = 2048


class LogoutError(Exception):
    """The logout request is invalid; `description` is safe to show."""

    def __init__(self, description):
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class LogoutRequest:
    subject: str | None
    client: Client | None
    redirect_uri: str | None
    state: str | None

    def hint_names(self, user):
        """Whether a valid id_token_hint names `user` (then no confirmation is needed)."""
        return self.subject is not None and self.subject == user.subject

    def redirect_location(self):
        """post_logout_redirect_uri with `state` added to its query (section 3)."""
        return querystring.add_parameters(self.redirect_uri, state=self.state or None)


def parse_request(params, *, confirmed=False):
    """The LogoutRequest in `params` (GET or POST parameters), or raise LogoutError.

    `confirmed`: the parameters come back from our confirmation form, without the hint.
    """
    _check_parameters(params)
    claims = None if confirmed else _hint_claims(params.get("id_token_hint"))
    client = _client(params.get("client_id") or None, claims)
    redirect_uri = params.get("post_logout_redirect_uri") or None
    if redirect_uri is not None:
        if client is None:
            raise LogoutError("A post_logout_redirect_uri needs a client_id or an id_token_hint.")
        if redirect_uri not in client.post_logout_redirect_uris.split():
            raise LogoutError("The post_logout_redirect_uri is not registered for this client.")
    return LogoutRequest(
        subject=claims["sub"] if claims else None,
        client=client,
        redirect_uri=redirect_uri,
        state=params.get("state") or None,
    )


def _check_parameters(params):
    problem = protocol.parameter_problem(params, repeatable=())
    if problem is not None:
        raise LogoutError(problem)
    for name, values in params.lists():
        if name != "id_token_hint" and any(len(value) > MAX_PARAMETER_LENGTH for value in values):
            raise LogoutError(f"The {name} parameter is too long.")


def _hint_claims(hint):
    if not hint:
        return None
    try:
        return verify_id_token_hint(hint)
    except InvalidToken as exc:
        raise LogoutError(f"The id_token_hint is not valid: {exc}") from exc


def _client(client_id, claims):
    """The client named by client_id (which must be an audience of the hint) or, without
    one, by the hint alone (its `azp`, or its only audience)."""
    if client_id is not None:
        if claims is not None and client_id not in id_token_audiences(claims):
            raise LogoutError("The id_token_hint was not issued to this client_id.")
        client = Client.objects.filter(client_id=client_id).first()
        if client is None:
            raise LogoutError("Unknown client_id.")
        return client
    if claims is None:
        return None
    audiences = id_token_audiences(claims)
    named = claims.get("azp") if isinstance(claims.get("azp"), str) else None
    named = named or (audiences[0] if len(audiences) == 1 else None)
    return Client.objects.filter(client_id=named).first() if named else None
