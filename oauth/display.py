"""What the login and consent pages show of a client: its name, logo and links.

`login_context` is registered with accounts.login_context (oauth.apps): a login reached from an
authorization request says "Log in to continue to <client>", with the client's logo and links.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.urls import reverse

from .models import Client


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

    @property
    def logo_origin(self):
        """The origin the logo loads from, when it is not ours (the page's CSP must allow it)."""
        if not self.logo_uri:
            return None
        origin = _origin(self.logo_uri)
        return None if origin == _origin(settings.ISSUER) else origin


def for_client(client):
    return ClientDisplay(
        name=client.name or client.client_id,
        logo_uri=client.logo_uri,
        client_uri=client.client_uri,
        policy_uri=client.policy_uri,
        tos_uri=client.tos_uri,
    )


def allow_logo(response, display):
    """Let `response`'s Content-Security-Policy load `display`'s logo (django-csp), when that
    comes from another origin. Returns the response."""
    if display is not None and display.logo_origin:
        response._csp_update = {"img-src": [display.logo_origin]}
    return response


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
    display = for_client(client)
    return {"client": display, "img_origins": [display.logo_origin] if display.logo_origin else []}


FIELDS = ("name", "logo_uri", "client_uri", "policy_uri", "tos_uri")


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()
