"""What the login page shows about where the person goes once logged in.

An app above `accounts` (oauth: the client an authorization request comes from) registers a
provider in its `AppConfig.ready()`; `accounts` never imports it. A provider is called as
`provider(request, next_url)` with the login's `next` (already checked to be a URL of this
server, or "") and returns a dict merged into the login page's context, or None. It must not
trust `next_url` (anyone can craft it) and should cost at most one query.

The key `img_origins` (a list of origins) is special: the login page's Content-Security-Policy
lets images load from those origins too (a client's logo).
"""

_providers = []


def register(provider):
    """Add a provider (idempotent: registering the same function twice keeps one)."""
    if provider not in _providers:
        _providers.append(provider)


def context(request, next_url):
    """The merged context of every provider for this login page."""
    merged = {}
    for provider in _providers:
        merged.update(provider(request, next_url) or {})
    return merged
