"""The relying-party example: a Django website that signs people in with identity.

    make run          # in one terminal: identity on http://127.0.0.1:8000
    make example-rp   # in another: this website on http://127.0.0.1:8765

It learns every endpoint from identity's discovery document at start-up, and uses the demo
client that `make run` seeds (demo-public-client, redirect URI http://127.0.0.1:8765/callback).
Options (or the RP_* environment variables of relying_party/settings.py): --issuer, --port,
--client-id, --client-secret (for a confidential client), --database.
"""

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", default=os.environ.get("RP_ISSUER", "http://127.0.0.1:8000"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RP_PORT", "8765")))
    parser.add_argument("--client-id", default=os.environ.get("RP_CLIENT_ID", "demo-public-client"))
    parser.add_argument("--client-secret", default=os.environ.get("RP_CLIENT_SECRET", ""))
    parser.add_argument("--database", default=os.environ.get("RP_DATABASE", ""))
    args = parser.parse_args(argv)
    os.environ.update(
        RP_ISSUER=args.issuer,
        RP_PORT=str(args.port),
        RP_CLIENT_ID=args.client_id,
        RP_CLIENT_SECRET=args.client_secret,
        RP_DATABASE=args.database,
        DJANGO_SETTINGS_MODULE="relying_party.settings",
    )
    sys.path.insert(0, str(HERE))

    import django
    from django.core.management import call_command

    django.setup()  # reads the discovery document (relying_party/settings.py)
    call_command("migrate", verbosity=0, interactive=False)
    print(f"Relying party for {args.issuer}: open http://127.0.0.1:{args.port}/", flush=True)
    call_command("runserver", f"127.0.0.1:{args.port}", use_reloader=False)


if __name__ == "__main__":
    main()
