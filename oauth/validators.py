"""Our OAuth2Validator (OAUTH2_VALIDATOR_CLASS): the grant rules django-oauth-toolkit leaves
to us. Authorization codes live in oauth.grants, refresh tokens and their rotation in
oauth.rotation (mixed in); this module holds the rest:

- client authentication by the client's token_endpoint_auth_method (HTTP Basic, the body, or
  either when it is empty);
- grant types and scopes per client (Client.grant_types, Client.allowed_scopes);
- exact redirect URI matching (Client.redirect_uri_allowed);
- the token rows: every token carries its family (all tokens descended from one
  authorization), the time the user authenticated (`auth_time`) and its SSO session (`sid`),
  through refreshes;
- an ID token or any other JWT is never accepted where an access token is expected;
- OpenID Connect: ID tokens signed with our key store (oauth.keys), `sub` the user's
  `subject`, `auth_time` from the session's login (carried on the Grant and RefreshToken),
  not `user.last_login`; UserInfo claims by scope.

What the hooks hand each other for one request travels on `request.identity` (oauth.context).
"""

import uuid
from datetime import UTC, datetime

from django.conf import settings
from django.db import router, transaction
from django.utils import timezone
from oauth2_provider.models import revoke_access_token
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

import audit
from accounts import lockout
from accounts.claims import user_claims
from accounts.mfa import flows as mfa_flows
from audit import events
from rbac.claims import CLAIM_SCOPES as RBAC_CLAIM_SCOPES
from sso import revocation

from . import client_cache, context
from .claims import (
    AMR_PASSWORD,
    AMR_PASSWORD_OTP,
    authentication_context,
    id_token_claims,
    numeric_date,
    requested_claims,
)
from .grants import AuthorizationCodes
from .jws import ID_TOKEN_TYPE, sign
from .models import AccessToken, Client, IDToken, RefreshToken, client_auth_method_allowed, token_checksum
from .protocol import SINGLE_WRITE_GRANTS
from .rotation import RefreshTokenRotation
from .tokens import rbac_claims_of


class Validator(AuthorizationCodes, RefreshTokenRotation, OAuth2Validator):
    # Which scope releases each claim (DOT drops any claim not listed here). `sid` is an ID
    # token claim (the SSO session): listed so that it survives DOT's filter wherever it passes.
    # `roles` and `permissions` (rbac.claims) are released by the scopes of the same names.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "sid": "openid", **RBAC_CLAIM_SCOPES}

    # --- clients, grants and scopes -------------------------------------------------------
    def _check_secret(self, provided_secret, stored_secret):
        # DOT compares unhashed secrets as plain strings, so a public client (empty stored
        # secret) would "authenticate" with an empty one. A client without a secret never does.
        if not stored_secret or not provided_secret:
            return False
        return super()._check_secret(provided_secret, stored_secret)

    def authenticate_client(self, request, *args, **kwargs):
        # DOT accepts HTTP Basic or the body from any client; a client whose
        # token_endpoint_auth_method is set (RFC 7591 2) must use that one. Empty: either.
        # The one place the token, revocation and introspection endpoints authenticate a client
        # (the protocol views already refuse both methods in one request). No query: the
        # client row was loaded to check the secret.
        if self._authenticate_basic_auth(request):
            used = "client_secret_basic"
        elif self._authenticate_request_body(request):
            used = "client_secret_post"
        else:
            return False
        return client_auth_method_allowed(request.client, used)

    def _authenticate_basic_auth(self, request):
        # DOT catches binascii.Error from b64decode, but a str with a non-ASCII character
        # raises a plain ValueError (UnicodeEncodeError inside): a failed authentication, not
        # a 500, whoever calls (the protocol views refuse such a header before DOT sees it).
        try:
            return super()._authenticate_basic_auth(request)
        except ValueError:
            return False

    def _load_application(self, client_id, request):
        # Client ids from HTTP Basic are not covered by the views' NUL check, and PostgreSQL
        # refuses a NUL in a string parameter (a DatabaseError, so a 503). No client id
        # contains one: such a request names no client (invalid_client).
        if isinstance(client_id, str) and "\x00" in client_id:
            return None
        if oauth2_settings.CIMD_ENABLED:  # off here; DOT may fetch and store a client then
            return super()._load_application(client_id, request)
        # The client of this request, once loaded (DOT's own reuse; is_usable is always True
        # for our clients), else the per-process cache (oauth.client_cache: no SELECT on a
        # hit; a changed or deleted client is forgotten within its documented bound).
        current = request.client
        if isinstance(current, Client) and current.client_id == client_id and current.is_usable(request):
            return current
        client = client_cache.get(client_id)
        if client is None or not client.is_usable(request):
            request.client = None
            return None
        request.client = client
        return client

    def is_pkce_required(self, client_id, request):
        # Per client (DOT's setting would hold for all): oauthlib asks after it loaded the
        # client, at the authorization endpoint and at the token endpoint alike.
        client = request.client or self._load_application(client_id, request)
        return client is None or client.pkce_required

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        return request.client.allows_grant(grant_type)

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        # oauthlib lets any response_type containing "code" (and "none") reach this hook, and
        # a False here reads as unauthorized_client. Only "code" exists on this server: any
        # other value is unsupported_response_type (RFC 6749 4.1.2.1), whoever the client.
        if response_type != "code":
            raise errors.UnsupportedResponseTypeError(request=request)
        return client.allows_grant("authorization_code")

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return request.client.redirect_uri_allowed(redirect_uri)

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        return bool(scopes) and set(scopes) <= set(client.scope_list)

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        allowed = request.client.scope_list
        return [s for s in oauth2_settings.DEFAULT_SCOPES if s in allowed] or allowed[:1]

    def build_http_request(self, request):
        # One Django request per token request: the lockout reads what axes set on it.
        ctx = context.of(request)
        if ctx.http_request is None:
            ctx.http_request = super().build_http_request(request)
        return ctx.http_request

    def validate_user(self, username, password, client, request, *args, **kwargs):
        """The password, then the second factor of a user who has one (`otp`: a TOTP code or a
        recovery code), as one step per (username, client_id) of the login lockout. A locked-out
        attempt (or the failure that locks out) is told so: the client sees the answer, not
        the user, and knows to stop retrying."""
        http_request = self.build_http_request(request)
        refusal = None
        with lockout.password_grant_attempt(http_request, username, client_id=client.client_id):
            valid = super().validate_user(username, password, client, request, *args, **kwargs)
            if valid:
                try:
                    method = mfa_flows.verify_second_factor(user=request.user, code=request._params.get("otp"))
                except mfa_flows.MFAError as exc:
                    refusal = exc
                    if not isinstance(exc, mfa_flows.SecondFactorNeeded):
                        lockout.second_factor_failed(http_request, username)
                else:
                    lockout.password_grant_succeeded(http_request, username)
        # Raised outside the block, whose failure counts must commit.
        locked_by = lockout.locked_by(http_request)
        if locked_by is not None:
            raise errors.InvalidGrantError(description=_locked_out(locked_by, http_request), request=request)
        if refusal is not None:
            raise errors.InvalidGrantError(description=f"A second factor is needed. {refusal}", request=request)
        if not valid:
            return False
        ctx = context.of(request)
        ctx.auth_time = timezone.now()
        ctx.token_family = uuid.uuid4()
        ctx.amr = AMR_PASSWORD_OTP if method else AMR_PASSWORD
        return True

    # --- token rows -----------------------------------------------------------------------
    def save_bearer_token(self, token, request, *args, **kwargs):
        if "refresh_token" in token and not request.client.allows_grant("refresh_token"):
            # oauthlib issues one from every code and password exchange; a client without the
            # refresh_token grant would be refused it at once (unauthorized_client). The token
            # dict is the response's, so the answer carries none either (RFC 6749 5.1: optional).
            del token["refresh_token"]
        saved = self._save_bearer_token_rows(token, request, *args, **kwargs)
        if settings.AUDIT_TOKEN_EVENTS:  # off by default: the token endpoint's statement budget
            _record_token(request)
        return saved

    def _save_bearer_token_rows(self, token, request, *args, **kwargs):
        if request.grant_type in SINGLE_WRITE_GRANTS:
            # One INSERT, atomic by itself: no transaction here nor in the view (autocommit).
            return self._save_bearer_token(token, request, *args, **kwargs)
        # Every other grant's request runs in one transaction (protocol.protocol_endpoint): DOT's
        # own atomic would only add a SAVEPOINT and a RELEASE. Without a savepoint an
        # exception still rolls the whole request back (Django marks the transaction for
        # rollback, and the outer block rolls back when it ends).
        with transaction.atomic(using=router.db_for_write(AccessToken), savepoint=False):
            rt = getattr(request, "refresh_token_instance", None)
            rotating = request.grant_type == "refresh_token" and rt is not None and self.rotate_refresh_token(request)
            if rotating and token.get("refresh_token"):
                return self._rotate(rt, token, request)
            return self._save_bearer_token(token, request, *args, **kwargs)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        # DOT re-parses and re-verifies the ID token it has just signed to find its row
        # (with the client's key, not ours); finalize_id_token kept the row instead.
        ctx = context.of(request)
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=ctx.id_token if token.get("id_token") else None,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
            jti=ctx.access_token_jti,
            token_family=ctx.token_family,
            sid=ctx.sid or "",
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        if access_token.jti:
            # Only once the row is committed may the fast path call the token live.
            jti, expires_at = access_token.jti, access_token.expires
            transaction.on_commit(lambda: revocation.mark_token_live(jti, expires_at), robust=True)
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        ctx = context.of(request)
        family = ctx.token_family or uuid.uuid4()
        if previous_refresh_token and previous_refresh_token.token_family:
            family = previous_refresh_token.token_family
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=family,
            resource=getattr(request, "resource", []),
            auth_time=ctx.auth_time,
            sid=ctx.sid or "",
            amr=list(ctx.amr or []),
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token

    # --- bearer tokens at DOT's protected views -------------------------------------------
    # --- revocation (RFC 7009) -------------------------------------------------------------
    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """DOT 3.4.1's revocation (only the calling client's tokens, RFC 7009 2.1; the hinted
        type first, then the other; an access token's refresh token too), reading each token
        with its user in the same query, so that the audit event names whose token it was."""
        client = getattr(request, "client", None)
        if getattr(client, "pk", None) is None:
            return
        lookup = {"token_checksum": token_checksum(token), "application_id": client.pk}
        order = (RefreshToken, AccessToken) if token_type_hint == "refresh_token" else (AccessToken, RefreshToken)
        for model in order:
            found = list(model.objects.filter(**lookup).select_related("user"))
            if found:
                break
        for row in found:
            if isinstance(row, AccessToken):
                revoke_access_token(row)
                kind = "access"
            else:
                row.revoke()
                kind = "refresh"
            detail = {"type": kind, "jti": getattr(row, "jti", None) or None}
            audit.record(
                event=events.TOKEN_REVOKED, actor=None, subject=row.user, client_id=client.client_id, detail=detail
            )

    def validate_bearer_token(self, token, scopes, request):
        from .resource import BearerError, authenticate_bearer

        try:
            verified = authenticate_bearer(token)
            if not set(scopes or []) <= verified.scopes:
                return False
            request.user = verified.user  # loaded here (DOT's views use it), or BearerError
        except BearerError:
            return False
        request.client = verified.client
        request.scopes = sorted(verified.scopes)
        request.access_token = verified.row
        return True

    def validate_jwt_bearer_token(self, token, scopes, request):
        """oauthlib's OIDC server routes JWT-looking Bearer tokens here, and DOT maps that to
        ID-token validation: an ID token would then pass as an access token. Only our access
        tokens (typ at+jwt, our audience, live row) are accepted."""
        return self.validate_bearer_token(token, scopes, request)

    # --- OpenID Connect -------------------------------------------------------------------
    def validate_silent_login(self, request):
        """prompt=none: the AuthorizationView decides, since only it sees the browser session
        (no session, or one too old for max_age or prompt=login: login_required)."""
        return True

    def validate_silent_authorization(self, request):
        """prompt=none: the AuthorizationView answers consent_required where it would ask."""
        return True

    def get_claim_dict(self, request):
        return {"sub": request.user.subject, **self.get_additional_claims(request)}

    def get_additional_claims(self, request):
        """UserInfo claims (OpenID Connect Core 5.1); `oidc_claim_scope` releases each by scope
        (`profile`, `email`, `phone`, `address`, `roles`, `permissions`). Claims without a value
        are left out."""
        claims = user_claims(request.user)
        claims.update(rbac_claims_of(request, request.user))  # read only when their scope is granted
        return claims

    def authentication_context(self, request):
        """(amr, acr) of the login behind this token (oauth.claims.authentication_context):
        the methods on the request's context (the SSO session's, carried by the Grant and the
        refresh token, or set by a grant that checks credentials itself); the password only
        when none are known."""
        return authentication_context(context.of(request).amr)

    def finalize_id_token(self, id_token, token, token_handler, request):
        """Sign the ID token with our active key (RS256, `kid`, `typ: JWT`) and save its row.

        oauthlib has put `aud`, `iat`, `nonce` (from the grant) and `at_hash` in `id_token`;
        everything else comes from our claims. The client's own key (DOT's `jwk_key`,
        OIDC_RSA_PRIVATE_KEY) is never used.
        """
        ctx = context.of(request)
        amr, acr = self.authentication_context(request)
        claims = id_token_claims(
            issuer=settings.ISSUER,
            client_id=request.client.client_id,
            subject=request.user.subject,
            lifetime=request.client.id_token_lifetime or oauth2_settings.ID_TOKEN_EXPIRE_SECONDS,
            auth_time=numeric_date(ctx.auth_time),
            amr=amr,
            acr=acr,
            nonce=id_token.get("nonce"),
            at_hash=id_token.get("at_hash"),
            sid=ctx.sid,  # the SSO session, from the Grant or the refresh token
        )
        claims.update(rbac_claims_of(request, request.user))  # the access token's read, reused
        # The `claims` request parameter (Core 5.5): user claims asked for in the ID token,
        # released within the granted scopes as in UserInfo; never over a registered claim.
        asked = requested_claims(request.claims, "id_token")
        released = self.get_oidc_claims(None, None, request) if asked else {}
        claims.update({name: released[name] for name in asked if name in released and name not in claims})
        signed = sign(claims, typ=ID_TOKEN_TYPE)
        ctx.id_token = IDToken.objects.create(
            user=request.user,
            application=request.client,
            scope=" ".join(request.scopes),
            jti=claims["jti"],
            expires=datetime.fromtimestamp(claims["exp"], tz=UTC),
        )
        return signed


def _record_token(request):
    """AUDIT_TOKEN_EVENTS: one event per token response (the client acted; the user, if any, is
    the subject). Costs its INSERT and nothing else: no lookup, the request's user is loaded."""
    refreshed = request.grant_type == "refresh_token"
    audit.record(
        event=events.TOKEN_REFRESHED if refreshed else events.TOKEN_ISSUED,
        actor=None,
        subject=request.user,
        client_id=request.client.client_id,
        detail={"grant_type": request.grant_type, "scope": " ".join(request.scopes or ())},
    )


def _locked_out(locked_by, http_request):
    """The password grant's error_description for a lockout (the same for an unknown username)."""
    minutes = lockout.cool_off_minutes(http_request)
    if locked_by == lockout.ADDRESS:
        what = "Password grants from this client address are temporarily locked"
    else:
        what = "This account is temporarily locked for this client"
    return f"{what} after too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}."
