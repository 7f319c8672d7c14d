"""Which apps each session was used with, for the sessions page: a registry that the apps
above sso fill (sso knows sessions, not OAuth clients, and never imports oauth).

A provider is a callable `provider(*, user, sids) -> {sid: [app name, ...]}` that names, for
each of `user`'s sessions in `sids`, the apps that signed in or got tokens in it. oauth
registers one in OAuthConfig.ready():

    from sso import session_apps
    session_apps.register("oauth.clients", connected_apps.clients_by_session)

The sessions page shows the union of every provider's answer. A provider that raises breaks
the page (a 500): providers only read.
"""

_providers = {}


def register(name, provider):
    """Add (or replace) the provider called `name`."""
    _providers[name] = provider


def registered():
    """The registered providers, by name, in registration order."""
    return dict(_providers)


def apps_by_session(*, user, sids):
    """{sid: [app name, ...]} from every registered provider, each list sorted and unique."""
    found = {}
    for provider in _providers.values():
        for sid, names in provider(user=user, sids=list(sids)).items():
            found.setdefault(sid, set()).update(names)
    return {sid: sorted(names, key=str.casefold) for sid, names in found.items()}
