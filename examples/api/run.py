"""The API example: a small DRF API (notes) protected by identity's access tokens.

    make run          # in one terminal: identity on http://127.0.0.1:8000
    make example-api  # in another: this API on http://127.0.0.1:8767

It runs with identity's own settings (the same database and Redis), as an API deployed next
to the server does: a token is verified offline (signature, iss, aud, exp) and checked for
revocation on every call, so a logout or a revoked token is refused at once. See
docs/examples.md for the curl walkthrough. `run.py check` (or any manage.py command) runs
that command with these settings instead of serving.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    sys.path[:0] = [str(HERE), str(ROOT)]
    os.environ["DJANGO_SETTINGS_MODULE"] = "notes_api.settings"
    port = os.environ.get("API_PORT", "8767")
    from django.core.management import execute_from_command_line

    if argv:
        execute_from_command_line(["run.py", *argv])
        return
    print(f"Notes API: http://127.0.0.1:{port}/notes (tokens of {os.environ.get('ISSUER', 'the default issuer')})")
    execute_from_command_line(["run.py", "runserver", f"127.0.0.1:{port}", "--noreload"])


if __name__ == "__main__":
    main()
