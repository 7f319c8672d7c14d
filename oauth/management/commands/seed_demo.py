"""Idempotently create the demo user and the demo clients used by `make run` and the examples
(examples/rp: the demo client; examples/spa: the demo single-page app)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import flows as accounts_flows
from oauth.models import Client

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-change-me"
# The relying-party example (make example-rp) on http://127.0.0.1:8765.
DEMO_CLIENT_ID = "demo-public-client"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"
DEMO_POST_LOGOUT_REDIRECT_URI = "http://127.0.0.1:8765/"
# The single-page app example (make example-spa) on its own origin, http://127.0.0.1:8766.
DEMO_SPA_CLIENT_ID = "demo-spa"
DEMO_SPA_ORIGIN = "http://127.0.0.1:8766"
DEMO_SPA_REDIRECT_URI = f"{DEMO_SPA_ORIGIN}/callback"
DEMO_SPA_POST_LOGOUT_REDIRECT_URI = f"{DEMO_SPA_ORIGIN}/"

DEMO_CLIENTS = {
    DEMO_CLIENT_ID: {
        "name": "Demo app",
        "redirect_uris": [DEMO_REDIRECT_URI],
        "post_logout_redirect_uris": [DEMO_POST_LOGOUT_REDIRECT_URI],
        "allowed_origins": [],
    },
    DEMO_SPA_CLIENT_ID: {
        "name": "Demo single-page app",
        "redirect_uris": [DEMO_SPA_REDIRECT_URI],
        "post_logout_redirect_uris": [DEMO_SPA_POST_LOGOUT_REDIRECT_URI],
        "allowed_origins": [DEMO_SPA_ORIGIN],
    },
}
# Space-separated fields that a later run completes with what the examples need (keeping
# whatever an operator added).
LIST_FIELDS = ("redirect_uris", "post_logout_redirect_uris", "allowed_origins")


def _ensure_client(client_id, spec):
    client, created = Client.objects.get_or_create(
        client_id=client_id,
        defaults={
            "name": spec["name"],
            "client_type": Client.CLIENT_PUBLIC,
            "grant_types": "authorization_code refresh_token",
            "client_secret": "",
            **{field: " ".join(spec[field]) for field in LIST_FIELDS},
        },
    )
    if created:
        return
    changed = []
    for field in LIST_FIELDS:
        present = getattr(client, field).split()
        missing = [value for value in spec[field] if value not in present]
        if missing:
            setattr(client, field, " ".join(present + missing))
            changed.append(field)
    if changed:
        client.full_clean(exclude=["client_secret", "user", "authorization_grant_type"])
        client.save(update_fields=[*changed, "updated"])


class Command(BaseCommand):
    help = "Create (once) a demo user and the demo public clients, and print their credentials."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo is a development convenience: it refuses to run unless DEBUG is on.")
        accounts_flows.ensure_user(username=DEMO_USERNAME, email="demo@example.com", password=DEMO_PASSWORD)
        for client_id, spec in DEMO_CLIENTS.items():
            _ensure_client(client_id, spec)
        self.stdout.write(
            f"Demo user:   {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
            f"Demo client: {DEMO_CLIENT_ID} (public, PKCE), redirect URI {DEMO_REDIRECT_URI}"
            " (make example-rp)\n"
            f"Demo SPA:    {DEMO_SPA_CLIENT_ID} (public, PKCE), origin {DEMO_SPA_ORIGIN} (make example-spa)"
        )
