from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from oauth import flows


class Command(BaseCommand):
    help = (
        "Import an RSA private key (unencrypted PEM, >= 2048 bits), e.g. from the server this one replaces. "
        "It becomes the next key (published now, signing from the next rotation), or with --activate the "
        "active key at once (the current one is retired, still published until its tokens expire)."
    )
    # A key tool must work when the signing-key check fails: it is how operators fix it.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True, help="Path of the PEM file.")
        parser.add_argument("--activate", action="store_true", help="Sign with this key from now on.")

    def handle(self, *args, **options):
        try:
            pem = Path(options["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror}.") from exc
        try:
            row = flows.import_signing_key(pem=pem, activate=options["activate"])
        except (ImproperlyConfigured, flows.SigningKeyError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Imported signing key {row.kid} as the {row.state} key.")
