"""Authlib + Flask baseline for `make bench`: an RS256 JWT client-credentials token endpoint.

A small, fair implementation, not a strawman: Authlib's own `AuthorizationServer` (Flask
integration) with its `ClientCredentialsGrant` and its RFC 9068 `JWTBearerTokenGenerator`
(joserfc, which signs with `cryptography`), real client authentication (`client_secret_basic`
only; the secret is kept as its SHA-256 and compared in constant time, as cheap as ours' HMAC
check), scopes checked against the client's, and every issued token kept in an in-memory
store (a dict per worker: the peer of ours' token row). One client, from the environment.
The RSA key is loaded once per worker, as any real server does.

Served by gunicorn like ours (`authlib_app:application`, run from this directory, so that
importing it does not import the harness). Environment: AUTHLIB_BENCH_ISSUER,
AUTHLIB_BENCH_KEY_FILE (PEM, RSA private key), AUTHLIB_BENCH_CLIENT_ID,
AUTHLIB_BENCH_CLIENT_SECRET, AUTHLIB_BENCH_SCOPE (the client's allowed scopes).
"""

import hashlib
import hmac
import os
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask, jsonify
from joserfc.jwk import RSAKey

ISSUER = os.environ["AUTHLIB_BENCH_ISSUER"]
AUDIENCE = "urn:identity-bench:api"
EXPIRES_IN = 900
with open(os.environ["AUTHLIB_BENCH_KEY_FILE"], "rb") as key_file:
    SIGNING_KEY = RSAKey.import_key(key_file.read(), {"kid": "bench", "use": "sig", "alg": "RS256"})


class Client(ClientMixin):
    """A confidential client-credentials client, secret kept as its SHA-256."""

    def __init__(self, client_id, secret, scopes):
        self.client_id = client_id
        self.secret_sha256 = hashlib.sha256(secret.encode()).digest()
        self.scopes = set(scopes.split())

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri):
        return False

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(hashlib.sha256(client_secret.encode()).digest(), self.secret_sha256)

    def check_endpoint_auth_method(self, method, endpoint):
        return endpoint == "token" and method == "client_secret_basic"

    def check_response_type(self, response_type):
        return False

    def check_grant_type(self, grant_type):
        return grant_type == "client_credentials"


CLIENTS = {
    os.environ["AUTHLIB_BENCH_CLIENT_ID"]: Client(
        os.environ["AUTHLIB_BENCH_CLIENT_ID"],
        os.environ["AUTHLIB_BENCH_CLIENT_SECRET"],
        os.environ.get("AUTHLIB_BENCH_SCOPE", "api"),
    )
}
TOKENS = {}  # access token -> (client_id, scope, expires_at): the in-memory token store


class TokenGenerator(JWTBearerTokenGenerator):
    def get_jwks(self):
        return SIGNING_KEY  # imported once; joserfc signs with cryptography

    def get_audiences(self, client, user, scope):
        return AUDIENCE


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic"]


def query_client(client_id):
    return CLIENTS.get(client_id)


def save_token(token, request):
    TOKENS[token["access_token"]] = (request.client.get_client_id(), token.get("scope"), time.time() + EXPIRES_IN)


application = Flask(__name__)
server = AuthorizationServer(application, query_client=query_client, save_token=save_token)
server.register_grant(ClientCredentialsGrant)
server.register_token_generator(
    "client_credentials", TokenGenerator(ISSUER, alg="RS256", expires_generator=lambda client, grant_type: EXPIRES_IN)
)


@application.post("/token")
def issue_token():
    return server.create_token_response()


@application.get("/jwks")
def jwks():
    return jsonify({"keys": [SIGNING_KEY.as_dict(private=False)]})


@application.get("/health/live")
def live():
    return "ok"
