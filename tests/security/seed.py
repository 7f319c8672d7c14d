"""Run in the environment of the server under attack (`python -m tests.security.seed`):
migrate the private database and make the attack suite's world; print it as JSON on the last
line of stdout. Add what a new attack needs here, under a name of its own."""

import json
import time

POST_LOGOUT_URI = "http://127.0.0.1:8765/logged-out"


def main():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    print(json.dumps(world()))


def totp_now(device, offset=0):
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits)
    totp.time = time.time() + offset
    return f"{totp.token():0{device.digits}d}"


def world():
    from accounts.mfa import flows as mfa
    from accounts.models import User
    from conftest import PASSWORD
    from oauth.flows import create_client
    from rbac import flows as rbac
    from tests.faults.flows import REDIRECT_URI

    rbac.seed_default_roles()
    users = []
    for n in range(120):
        user = User.objects.create_user(f"victim{n}", f"victim{n}@example.com", PASSWORD)
        users.append(user.username)
    clients = {}

    def client(name, **options):
        made, secret = create_client(name=f"Security {name}", **options)
        uris = list(options.get("redirect_uris", []))
        clients[name] = {"client_id": made.client_id, "secret": secret, "redirect_uris": uris}

    # A trusted web app (no consent page) and an untrusted one (consent), both confidential.
    client("web", grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT_URI], trusted=True)
    client("other", grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT_URI], trusted=True)
    client("consent", grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT_URI])
    # A service (client credentials) and a resource server allowed to introspect any token.
    client("service", grant_types=["client_credentials"])
    client("introspector", grant_types=["client_credentials"], can_introspect_any=True)
    # A public single-page app (PKCE, no secret) on a known origin.
    client(
        "spa",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=["http://127.0.0.1:8766/callback"],
        public=True,
        trusted=True,
        allowed_origins=["http://127.0.0.1:8766"],
    )

    # The protocol attacks (test_authorization.py ... test_oidc.py): a client with two redirect
    # URIs (a code is bound to the one it was asked for), one allowed to skip PKCE (a
    # confidential OpenID Connect client relying on nonce: the downgrade case), one whose tokens
    # are meant for another API (audience restriction), one that must use HTTP Basic, and a
    # service limited to one scope.
    client(
        "two-uris",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI, "http://127.0.0.1:8765/second"],
        trusted=True,
    )
    client(
        "no-pkce",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
        require_pkce=False,
    )
    client(
        "elsewhere",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
        audience=["https://elsewhere.example/api"],
    )
    client(
        "basic-only",
        grant_types=["authorization_code", "client_credentials"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
        token_endpoint_auth_method="client_secret_basic",
    )
    client("read-service", grant_types=["client_credentials"], scopes="read")
    client(
        "limited-scopes",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
        scopes="openid profile",
    )
    # The protocol attacks' own users (protocol.logged_in): one or more per test, several
    # hundred tests. One INSERT and one Argon2 hash for all of them (a new user needs none of
    # the post_save receivers, which follow password changes and disabled accounts).
    from django.contrib.auth.hashers import make_password

    hashed = make_password(PASSWORD)
    protocol_users = [f"proto{n}" for n in range(500)]
    User.objects.bulk_create(
        User(username=name, email=f"{name}@example.com", password=hashed) for name in protocol_users
    )
    # Targets of failed client authentications (each client_id has a failure budget per window).
    for n in range(3):
        client(f"auth-target-{n}", grant_types=["client_credentials"])

    # Two-factor: a user with a confirmed TOTP device; the secret travels to the tests so that
    # they can compute codes (an attacker does not have it: the tests that play one do not use it).
    enrolled = User.objects.create_user("mfa-user", "mfa-user@example.com", PASSWORD)
    device = mfa.start_totp(user=enrolled)
    codes = mfa.confirm_totp(user=enrolled, code=totp_now(device, -device.step))
    # A staff member with every permission but no second factor (MFA_REQUIRED=staff by default).
    User.objects.create_user("staff-no-mfa", "staff@example.com", PASSWORD, is_staff=True, is_superuser=True)

    surfaces = surfaces_world(users, client)

    return {
        **surfaces,
        "users": users,
        "protocol_users": protocol_users,
        "clients": clients,
        "redirect_uri": REDIRECT_URI,
        "mfa": {
            "username": enrolled.username,
            "recovery_codes": codes,
            "totp": {"key": device.key, "step": device.step, "t0": device.t0, "digits": device.digits},
        },
    }


def _totp_user(username, *, staff=False):
    from accounts.mfa import flows as mfa
    from accounts.models import User
    from conftest import PASSWORD

    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD, is_staff=staff, is_superuser=staff)
    device = mfa.start_totp(user=user)
    codes = mfa.confirm_totp(user=user, code=totp_now(device, -device.step))
    totp = {"key": device.key, "step": device.step, "t0": device.t0, "digits": device.digits}
    return {"username": username, "recovery_codes": codes, "totp": totp}


def surfaces_world(users, client):
    """What the account, session and operator attacks need (test_sessions, test_two_factor,
    test_rbac, test_registration, test_admin…): more users, TOTP users of their own (the
    per-device delay of one must not slow another test), role holders, a client allowed the
    RBAC scopes, initial access tokens for client registration."""
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import User
    from conftest import PASSWORD
    from oauth import flows as oauth_flows
    from oauth.models import InitialAccessToken
    from rbac import flows as rbac
    from tests.faults.flows import REDIRECT_URI

    for n in range(60):
        users.append(User.objects.create_user(f"surf{n}", f"surf{n}@example.com", PASSWORD).username)
    mfa_users = [_totp_user(f"mfa-surf{n}") for n in range(40)]
    mfa_staff = _totp_user("mfa-staff", staff=True)
    client(
        "rbac",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
        scopes="openid profile email roles permissions",
    )
    # A client with a registered post-logout redirect URI (RP-initiated logout).
    client(
        "logout",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[POST_LOGOUT_URI],
        trusted=True,
    )
    # A client with a back-channel logout receiver on a loopback port the test listens on.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        backchannel_port = sock.getsockname()[1]
    client(
        "backchannel",
        grant_types=["authorization_code", "refresh_token"],
        redirect_uris=[REDIRECT_URI],
        trusted=True,
        backchannel_logout_uri=f"http://127.0.0.1:{backchannel_port}/backchannel",
    )
    # An administrator (role admin: roles.manage) who hands out and takes back roles over the API.
    admin = User.objects.create_user("rbac-admin", "rbac-admin@example.com", PASSWORD)
    rbac.assign_role(user=admin, role="admin")
    auditor = User.objects.create_user("rbac-auditor", "rbac-auditor@example.com", PASSWORD)
    rbac.assign_role(user=auditor, role="auditor")
    tokens = {}
    for name, uses in (("many", 200), ("single", 1), ("race", 1), ("expired", 5)):
        row, token = oauth_flows.issue_initial_access_token(expires_in=timedelta(hours=2), uses=uses, label=name)
        tokens[name] = token
        if name == "expired":
            InitialAccessToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    return {
        "mfa_users": mfa_users,
        "mfa_staff": mfa_staff,
        "rbac": {"admin": admin.username, "auditor": auditor.username},
        "initial_tokens": tokens,
        "post_logout_uri": POST_LOGOUT_URI,
        "backchannel_port": backchannel_port,
    }


if __name__ == "__main__":
    main()
