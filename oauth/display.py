"""How pages show a client: its logo (from the client's own origin) and its links.

Our Content-Security-Policy allows images from our own origin only (`default-src 'self'`).
A page that shows a client's logo lets that one origin load images on that one response
(django-csp's `csp_update`), and the `<img>` sends no referrer (`referrerpolicy="no-referrer"`
in the templates), so the client learns nothing of our URLs from the request.
"""

from urllib.parse import urlsplit

from csp.decorators import csp_update


def logo_origin(uri):
    """The origin (scheme://host[:port]) an image at `uri` is loaded from, or None. Pure."""
    parts = urlsplit(uri or "")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def allow_logos(response, clients):
    """Let `response` load the logos of `clients` (CSP `img-src`: our origin and theirs)."""
    origins = sorted({origin for client in clients if (origin := logo_origin(client.logo_uri))})
    if not origins:
        return response
    # csp_update is django-csp's per-view decorator; applied here to one response, since the
    # origins depend on which clients the page shows.
    return csp_update({"img-src": ["'self'", *origins]})(lambda: response)()
