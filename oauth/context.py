"""What our validator hooks carry from one oauthlib hook to the next, for one request.

oauthlib hands every hook the same `oauthlib.common.Request`. Our values travel on it as ONE
typed object, `request.identity` (a `RequestContext`), never as loose attributes: oauthlib's
Request answers any unknown attribute from the request's own parameters (`__getattr__` reads
its `_params`, which hold every query and body parameter), so a loose `getattr(request,
"sid", None)` would read a `sid` the client sent when our code had set none. `of(request)`
reads the attribute from the instance itself, never through that fallback, and attaches a
fresh context on first use.

The attributes oauthlib and django-oauth-toolkit define themselves (`user`, `scopes`,
`claims`, `nonce`, `resource`, `refresh_token_instance`, which DOT's own hooks read) stay
where those libraries look for them.

At the authorization endpoint the view passes the context in oauthlib's `credentials`, which
oauthlib sets on the request as attributes (`identity`).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Grant, IDToken

ATTRIBUTE = "identity"


@dataclass(slots=True)
class RequestContext:
    # When the user authenticated: a Unix time from the browser session at the authorization
    # endpoint, a datetime from the Grant, the refresh token, or the password grant.
    auth_time: datetime | int | None = None
    # The SSO session (sso.SSOSession.sid) the user approved from; None without one.
    sid: str | None = None
    # How the user authenticated (RFC 8176 methods, e.g. ["otp", "pwd"]): the SSO session's at
    # the authorization endpoint, then the Grant's or the refresh token's; a grant that checks
    # credentials itself (password) sets its own. None: the password only.
    amr: list | None = None
    # The token family (every token descended from one authorization).
    token_family: uuid.UUID | None = None
    # The Grant row this token request redeems, once read (oauth.grants reads it once).
    grant: "Grant | None" = None
    # The `jti` of the access token the generator signed (its row records it).
    access_token_jti: str = ""
    # The IDToken row finalize_id_token wrote (the access token's row points to it).
    id_token: "IDToken | None" = None
    # (role names, permission codenames) the user holds, read once for the request's tokens
    # when the `roles` or `permissions` scope is granted (oauth.tokens.rbac_claims_of).
    holdings: tuple[frozenset, frozenset] | None = None
    # How the user authenticated, when this request did it (the password grant: ("pwd",) or
    # ("pwd", "otp"), RFC 8176); None where the login happened elsewhere.
    amr: tuple[str, ...] | None = None
    # The Django request django-oauth-toolkit builds for authenticate() (the password grant).
    http_request: object = None


def of(request):
    """The request's context, attached on first use."""
    context = vars(request).get(ATTRIBUTE)
    if context is None:
        context = RequestContext()
        setattr(request, ATTRIBUTE, context)
    return context
