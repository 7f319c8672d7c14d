"""How pages show a client: its name, its logo (from the client's own origin) and its links.

Our Content-Security-Policy allows images from our own origin only (`default-src 'self'`).
A page that shows a client's logo lets that one origin load images on that one response
(django-csp's `csp_update`), and the `<img>` sends no referrer (`referrerpolicy="no-referrer"`
in the templates), so the client learns nothing of our URLs from the request.

`login_context` is registered with accounts.login_context (oauth.apps): a login reached from an
authorization request says "Log in to continue to <client>", with the client's logo and links.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from csp.decorators import csp_update
from django.urls import reverse

from .models import Client

FIELDS = ("name", "logo_uri", "client_uri", "policy_uri", "tos_uri")


@dataclass(frozen=True)
class ClientDisplay:
    name: str
    logo_uri: str = ""
    client_uri: str = ""
    policy_uri: str = ""
    tos_uri: str = ""

    @property
    def initial(self):
        """The first letter of the name, shown in place of a missing logo."""
        return (self.name.strip()[:1] or "?").upper()


def for_client(client):
    return ClientDisplay(
        name=client.name or client.client_id,
        logo_uri=client.logo_uri,
        client_uri=client.client_uri,
        policy_uri=client.policy_uri,
        tos_uri=client.tos_uri,
    )


def logo_origin(uri):
    """The origin (scheme://host[:port]) an image at `uri` is loaded from, or None. Pure."""
    parts = urlsplit(uri or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def allow_logos(response, clients):
    """Let `response` load the logos of `clients` (CSP `img-src`: our origin and theirs)."""
    origins = sorted({origin for client in clients if client and (origin := logo_origin(client.logo_uri))})
    if not origins:
        return response
    # csp_update is django-csp's per-view decorator; applied here to one response, since the
    # origins depend on which clients the page shows.
    return csp_update({"img-src": ["'self'", *origins]})(lambda: response)()


def login_context(request, next_url):
    """The client of the authorization request the login will continue to, if `next_url` is a
    valid one (known client, registered redirect URI); None otherwise. One query."""
    parts = urlsplit(next_url or "")
    if parts.path != reverse("oauth:authorize"):
        return None
    query = parse_qs(parts.query)
    client_ids, redirect_uris = query.get("client_id", []), query.get("redirect_uri", [])
    if len(client_ids) != 1 or len(redirect_uris) != 1:
        return None
    client = Client.objects.filter(client_id=client_ids[0]).only("client_id", "redirect_uris", *FIELDS).first()
    if client is None or not client.redirect_uri_allowed(redirect_uris[0]):
        return None
    origin = logo_origin(client.logo_uri)
    return {"client": for_client(client), "img_origins": [origin] if origin else []}
