"""Idempotently create the demo user and the demo public client used by `make run`."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from oauth.models import Client

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password-change-me"
DEMO_CLIENT_ID = "demo-public-client"
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"


class Command(BaseCommand):
    help = "Create (once) a demo user and a demo public client, and print their credentials."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo is a development convenience: it refuses to run unless DEBUG is on.")
        User = get_user_model()
        user = User.objects.filter(username__iexact=DEMO_USERNAME).first()
        if user is None:
            User.objects.create_user(DEMO_USERNAME, email="demo@example.com", password=DEMO_PASSWORD)
        Client.objects.get_or_create(
            client_id=DEMO_CLIENT_ID,
            defaults={
                "name": "Demo app",
                "client_type": Client.CLIENT_PUBLIC,
                "grant_types": "authorization_code refresh_token",
                "redirect_uris": DEMO_REDIRECT_URI,
                "client_secret": "",
            },
        )
        self.stdout.write(
            f"Demo user:   {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
            f"Demo client: {DEMO_CLIENT_ID} (public, PKCE), redirect URI {DEMO_REDIRECT_URI}"
        )
