import json
import re
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from oauth import flows

_DURATION = re.compile(r"([1-9][0-9]*)([smhd]?)")
_UNITS = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text):
    """'30m', '12h', '7d', '3600s' or '3600' (seconds) as a timedelta; ValueError otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r} (write e.g. 30m, 12h, 7d)")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Issue an initial access token for client registration over HTTP (RFC 7591); prints it once. "
        "The registration endpoint takes it when CLIENT_REGISTRATION is token or open."
    )

    def add_arguments(self, parser):
        parser.add_argument("--expires", default="1d", help="How long it works: 30m, 12h, 7d… (default 1d).")
        parser.add_argument("--uses", type=int, default=1, help="How many clients it may register (default 1).")
        parser.add_argument("--label", default="", help="Who it is for, for your records.")
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        try:
            expires_in = parse_duration(options["expires"])
        except ValueError as exc:
            raise CommandError(f"--expires: {exc}") from exc
        if options["uses"] < 1:
            raise CommandError("--uses must be at least 1.")
        row, token = flows.issue_initial_access_token(
            expires_in=expires_in, uses=options["uses"], label=options["label"]
        )
        if options["json"]:
            result = {"initial_access_token": token, "expires_at": row.expires_at.isoformat(), "uses": row.uses_left}
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"initial access token: {token}")
        self.stdout.write(f"expires:              {row.expires_at:%Y-%m-%d %H:%M:%S %Z}, {row.uses_left} use(s)")
        self.stdout.write(self.style.WARNING("The token is shown only now; only its hash is stored."))
        if settings.CLIENT_REGISTRATION == "closed":
            self.stderr.write(self.style.WARNING("CLIENT_REGISTRATION is closed: set it to token for this to be used."))
