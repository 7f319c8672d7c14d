import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from core import purge


class Command(BaseCommand):
    help = "Delete expired and revoked rows (SSO sessions, and whatever other apps registered), in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000, help="rows deleted per transaction")
        parser.add_argument("--only", action="append", default=[], help="run only this purger (repeatable)")
        parser.add_argument(
            "--pause",
            type=float,
            default=0.0,
            help="seconds to sleep between batches (leaves CPU and disk to a busy server; default 0)",
        )

    def handle(self, *args, batch_size, only, pause, verbosity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if not 0 <= pause <= 60:
            raise CommandError("--pause must be between 0 and 60 seconds.")
        purgers = purge.registered()
        unknown = set(only) - set(purgers)
        if unknown:
            raise CommandError(f"Unknown purger(s): {', '.join(sorted(unknown))}. Known: {', '.join(purgers)}.")
        now = timezone.now()
        for name, purger in purgers.items():
            if only and name not in only:
                continue
            started = time.monotonic()
            with purge.recording() as batches, purge.pacing(pause):
                deleted = purger(now=now, batch_size=batch_size)
            line = f"{name}: {deleted} deleted"
            if verbosity >= 2:
                longest = max((seconds for _, seconds in batches), default=0.0)
                line += (
                    f" in {time.monotonic() - started:.2f} s, {len(batches)} transactions,"
                    f" longest {longest * 1000:.0f} ms"
                )
            self.stdout.write(line)
