"""identity's settings (database, cache, keys, issuer, audience), with this API's URLs."""

from identity.settings import *  # noqa: F403 (the same environment as the server, on purpose)

ROOT_URLCONF = "notes_api.urls"
