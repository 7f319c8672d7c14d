from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from sso import purge


class Command(BaseCommand):
    help = "Delete expired and revoked rows (SSO sessions, and whatever other apps registered), in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="rows deleted per transaction")
        parser.add_argument("--only", action="append", default=[], help="run only this purger (repeatable)")

    def handle(self, *args, batch_size, only, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        purgers = purge.registered()
        unknown = set(only) - set(purgers)
        if unknown:
            raise CommandError(f"Unknown purger(s): {', '.join(sorted(unknown))}. Known: {', '.join(purgers)}.")
        now = timezone.now()
        for name, purger in purgers.items():
            if only and name not in only:
                continue
            deleted = purger(now=now, batch_size=batch_size)
            self.stdout.write(f"{name}: {deleted} deleted")
