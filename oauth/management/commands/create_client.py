import json

from django.core.management.base import BaseCommand, CommandError

from oauth import flows
from oauth.models import GRANT_TYPES, TOKEN_ENDPOINT_AUTH_METHODS

PASSWORD_GRANT_WARNING = (
    "Warning: the password grant is deprecated (RFC 9700 2.4: MUST NOT be used); it works only while "
    "OAUTH_PASSWORD_GRANT_ENABLED is on, and check warns while a client has it (oauth.W002)."
)


class Command(BaseCommand):
    help = "Register an OAuth client; prints its client_id and, once, its secret."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--grant-types", required=True, help=f"Comma-separated, from: {','.join(GRANT_TYPES)}")
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
            help="Where RP-initiated logout may send the browser back (repeatable).",
        )
        parser.add_argument("--public", action="store_true", help="A public client (no secret; PKCE).")
        parser.add_argument("--scopes", default="", help='Allowed scopes, e.g. "profile read" (default: all).')
        parser.add_argument("--trusted", action="store_true", help="Skip the consent page for this client.")
        parser.add_argument(
            "--introspect-any", action="store_true", help="A resource server that may introspect any token."
        )
        parser.add_argument(
            "--backchannel-logout-uri",
            default="",
            help="OpenID Connect Back-Channel Logout: where logout tokens are POSTed (https, or http on loopback).",
        )
        parser.add_argument(
            "--backchannel-logout-session-required",
            action="store_true",
            help="Every logout token sent to this client names the session (sid).",
        )
        parser.add_argument(
            "--allowed-origin",
            action="append",
            default=[],
            dest="allowed_origins",
            help="A public browser app's origin (scheme://host[:port]) allowed to call the token, revocation, "
            "userinfo and API endpoints with CORS (repeatable).",
        )
        parser.add_argument(
            "--pkce-optional",
            action="store_true",
            help="A confidential OpenID Connect client that may omit PKCE and rely on nonce (RFC 9700 2.1.1).",
        )
        for kind in ("access", "refresh", "id"):
            parser.add_argument(
                f"--{kind}-token-lifetime",
                type=int,
                default=None,
                help=f"Seconds; by default the server's {kind.upper()}_TOKEN_EXPIRE_SECONDS.",
            )
        parser.add_argument(
            "--audience",
            action="append",
            default=[],
            help="An API (URI) the access tokens are for, their aud (repeatable; default ACCESS_TOKEN_AUDIENCE).",
        )
        parser.add_argument(
            "--token-endpoint-auth-method",
            default="",
            choices=["", *TOKEN_ENDPOINT_AUTH_METHODS],
            help="How the client authenticates: client_secret_basic (HTTP Basic only), client_secret_post "
            "(in the body only), none (a public client); default: either way.",
        )
        parser.add_argument("--json", action="store_true", help="Print the result as JSON.")

    def handle(self, *args, **options):
        try:
            client, secret = flows.create_client(
                name=options["name"],
                grant_types=[g.strip() for g in options["grant_types"].split(",") if g.strip()],
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_redirect_uris"],
                public=options["public"],
                scopes=options["scopes"],
                trusted=options["trusted"],
                can_introspect_any=options["introspect_any"],
                backchannel_logout_uri=options["backchannel_logout_uri"],
                backchannel_logout_session_required=options["backchannel_logout_session_required"],
                allowed_origins=options["allowed_origins"],
                require_pkce=not options["pkce_optional"],
                access_token_lifetime=options["access_token_lifetime"],
                refresh_token_lifetime=options["refresh_token_lifetime"],
                id_token_lifetime=options["id_token_lifetime"],
                audience=options["audience"],
                token_endpoint_auth_method=options["token_endpoint_auth_method"],
            )
        except flows.ClientError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
            raise CommandError(problems) from exc
        if client.allows_grant("password"):
            # On stderr: --json's stdout stays one JSON document.
            self.stderr.write(PASSWORD_GRANT_WARNING)
        result = {
            "client_id": client.client_id,
            "client_secret": secret,
            "client_type": client.client_type,
            "grant_types": client.grant_type_list,
            "redirect_uris": client.redirect_uris.split(),
            "post_logout_redirect_uris": client.post_logout_redirect_uris.split(),
            "scopes": client.scope_list,
            "backchannel_logout_uri": client.backchannel_logout_uri or None,
            "pkce_required": client.pkce_required,
            "allowed_origins": client.allowed_origins.split(),
            "token_endpoint_auth_method": client.token_endpoint_auth_method or None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"client_id:     {client.client_id}")
        if secret:
            self.stdout.write(f"client_secret: {secret}")
            self.stdout.write(self.style.WARNING("The secret is shown only now; only its hash is stored."))
