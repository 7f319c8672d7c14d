from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from oauth import flows


class Command(BaseCommand):
    help = (
        "Rotate the token signing keys; run it from cron (e.g. hourly). Publishes a next key ahead of use, "
        "promotes it once the active key is SIGNING_KEY_ROTATION_DAYS old, and deletes retired keys once every "
        "token they signed has expired. Idempotent, and safe to run from several machines at once."
    )
    # A key tool must work when the signing-key check fails: it is how operators fix it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help=(
                "Emergency (e.g. a leaked key): promote the next key now, even if it was just made. Clients that "
                "cached the JWKS may refuse new tokens until their cache expires (up to its max-age)."
            ),
        )

    def handle(self, *args, **options):
        try:
            result = flows.rotate_signing_keys(force=options["force"])
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Signing keys: {result}.")
