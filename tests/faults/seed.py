"""Run in the environment of the server under test (`python -m tests.faults.seed` with its
DATABASE_URL...): migrate the private database and create the fault scenarios' world; print
it as JSON on the last line of stdout.

Argument: a JSON object {"backchannel": {"name": uri, ...}} of back-channel receivers.
"""

import json
import sys
import time


def main():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(json.dumps(world(options)))


def world(options):
    from django_otp.oath import TOTP

    from accounts.mfa import flows as mfa
    from accounts.models import User
    from conftest import PASSWORD
    from oauth.flows import create_client
    from tests.faults.flows import REDIRECT_URI

    users = []
    for n in range(int(options.get("users", 40))):
        user = User.objects.create_user(f"fault{n}", f"fault{n}@example.com", PASSWORD)
        users.append(user.username)
    web, secret = create_client(
        name="Fault web app",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
    )
    api, api_secret = create_client(name="Fault API", grant_types=["client_credentials"], can_introspect_any=True)
    receivers = {}
    for name, uri in options.get("backchannel", {}).items():
        client, client_secret = create_client(
            name=f"Fault RP {name}",
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=[REDIRECT_URI],
            trusted=True,
            backchannel_logout_uri=uri,
        )
        receivers[name] = {"client_id": client.client_id, "secret": client_secret}
    # One user with two-factor authentication: its recovery codes, for the "one winner" case.
    enrolled = User.objects.create_user("fault-mfa", "fault-mfa@example.com", PASSWORD)
    device = mfa.start_totp(user=enrolled)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() - device.step
    codes = mfa.confirm_totp(user=enrolled, code=f"{totp.token():0{device.digits}d}")
    return {
        "users": users,
        "web": {"client_id": web.client_id, "secret": secret},
        "api": {"client_id": api.client_id, "secret": api_secret},
        "backchannel": receivers,
        "mfa": {"username": enrolled.username, "recovery_codes": codes},
    }


if __name__ == "__main__":
    main()
