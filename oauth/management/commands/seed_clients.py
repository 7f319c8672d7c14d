"""Create or update OAuth clients from a JSON file, by name, all or nothing (oauth.seeding)."""

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from oauth import seeding


class Command(BaseCommand):
    help = (
        'Create or update OAuth clients by name from a JSON file ({"clients": [...]}); prints the '
        "secrets of new clients once. An invalid file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", required=True, help="The JSON file.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
        parser.add_argument("--dry-run", action="store_true", help="Show what would change; change nothing.")

    def handle(self, *args, **options):
        data = self._read(options["file"])
        with transaction.atomic():
            try:
                plan = seeding.plan(data)
            except seeding.SeedError as exc:
                raise CommandError(f"{options['file']} is refused, nothing was changed:\n" + str(exc)) from exc
            created = [] if options["dry_run"] else seeding.apply(plan)
        self._report(plan, created, options)

    def _read(self, path):
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}.") from exc

    def _report(self, plan, created, options):
        dry = options["dry_run"]
        result = {
            "created": (
                [{"name": values["name"]} for values in plan.created]
                if dry
                else [{"name": c.name, "client_id": c.client_id, "client_secret": secret} for c, secret in created]
            ),
            "updated": [
                {"name": c.name, "client_id": c.client_id, "changed": sorted(seeding.KEY_OF[a] for a in changed)}
                for c, changed in plan.updated
            ],
            "unchanged": [{"name": c.name, "client_id": c.client_id} for c in plan.unchanged],
        }
        if dry:
            result["dry_run"] = True
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        verb = "would create" if dry else "created"
        for entry in result["created"]:
            line = f"{verb} {entry['name']!r}"
            if not dry:
                line += f": client_id {entry['client_id']}"
                if entry["client_secret"]:
                    line += f", client_secret {entry['client_secret']}"
            self.stdout.write(line)
        for entry in result["updated"]:
            self.stdout.write(
                f"{'would update' if dry else 'updated'} {entry['name']!r}: {', '.join(entry['changed'])}"
            )
        for entry in result["unchanged"]:
            self.stdout.write(f"unchanged {entry['name']!r}")
        if any(entry.get("client_secret") for entry in result["created"]):
            self.stdout.write(self.style.WARNING("The secrets are shown only now; only their hashes are stored."))
