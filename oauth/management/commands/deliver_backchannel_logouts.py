from django.core.management.base import BaseCommand, CommandError

from oauth import backchannel


class Command(BaseCommand):
    help = (
        "Deliver due OpenID Connect back-channel logout tokens (first attempts the server could not make, and "
        "retries with backoff). Idempotent; safe to run from cron in several processes at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=1000, help="at most this many logout tokens per run")

    def handle(self, *args, limit, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        total = backchannel.Report()
        while limit > 0:
            report = backchannel.deliver_due(limit=min(limit, backchannel.BATCH_SIZE))
            handled = len(report.delivered) + len(report.retrying) + len(report.given_up)
            if not handled:
                break
            limit -= handled
            total.delivered += report.delivered
            total.retrying.update(report.retrying)
            total.given_up += report.given_up
        self.stdout.write(f"back-channel logouts: {total}")
