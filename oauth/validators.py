"""Our OAuth2Validator: the grant rules django-oauth-toolkit leaves to us.

- grant types and scopes per client (Client.grant_types, Client.allowed_scopes);
- exact redirect URI matching (Client.redirect_uri_allowed);
- authorization codes are claimed atomically at redemption and kept, so a replay is detected
  and revokes every token issued from the first redemption (RFC 6749 4.1.2, 10.5);
- every token carries its family (all tokens descended from one authorization) and the time
  the user authenticated (`auth_time`), through refreshes;
- a refresh token is rotated by exactly one request (row lock), never forked;
- an ID token or any other JWT is never accepted where an access token is expected;
- OpenID Connect: ID tokens signed with our key store (oauth.keys), `sub` the user's
  `subject`, `auth_time` from the session's login (carried on the Grant and RefreshToken),
  not `user.last_login`; UserInfo claims by scope.
"""

import hashlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, pre_delete
from django.utils import timezone
from oauth2_provider.exceptions import FatalClientError
from oauth2_provider.models import refresh_token_expire_timedelta
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

from sso import revocation

from . import flows, tokens
from .models import AccessToken, Grant, IDToken, RefreshToken

log = logging.getLogger(__name__)

# Grants whose token request writes one row, the access token's INSERT (atomic by itself): it
# runs without a transaction (views.protocol_endpoint, save_bearer_token), sparing a BEGIN and
# a COMMIT. Every other grant writes several rows that commit together or not at all.
SINGLE_WRITE_GRANTS = frozenset({"client_credentials"})


class Validator(OAuth2Validator):
    # Which scope releases each claim (DOT drops any claim not listed here). `sid` is an ID
    # token claim (the SSO session): listed so that it survives DOT's filter wherever it passes.
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "sid": "openid"}

    # --- clients, grants and scopes -------------------------------------------------------
    def _check_secret(self, provided_secret, stored_secret):
        # DOT compares unhashed secrets as plain strings, so a public client (empty stored
        # secret) would "authenticate" with an empty one. A client without a secret never does.
        if not stored_secret or not provided_secret:
            return False
        return super()._check_secret(provided_secret, stored_secret)

    def _load_application(self, client_id, request):
        # Client ids from HTTP Basic are not covered by the views' NUL check, and PostgreSQL
        # refuses a NUL in a string parameter (a DatabaseError, so a 503). No client id
        # contains one: such a request names no client (invalid_client).
        if isinstance(client_id, str) and "\x00" in client_id:
            return None
        return super()._load_application(client_id, request)

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

    def validate_user(self, username, password, client, request, *args, **kwargs):
        if not super().validate_user(username, password, client, request, *args, **kwargs):
            return False
        request.auth_time = timezone.now()
        request.token_family = uuid.uuid4()
        return True

    # --- authorization codes --------------------------------------------------------------
    def _create_authorization_code(self, request, code, expires=None):
        expires = expires or timezone.now() + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        auth_time = getattr(request, "auth_time", None)
        return Grant.objects.create(
            application=request.client,
            user=request.user,
            code=code["code"],
            expires=expires,
            redirect_uri=request.redirect_uri,
            scope=" ".join(request.scopes),
            code_challenge=request.code_challenge or "",
            code_challenge_method=request.code_challenge_method or "",
            nonce=request.nonce or "",
            claims=json.dumps(request.claims or {}),
            resource=getattr(request, "resource", []),
            auth_time=datetime.fromtimestamp(auth_time, tz=UTC) if auth_time else None,
            sid=getattr(request, "sid", None) or "",
        )

    def _load_grant(self, code, request):
        """The grant with this code, whoever it was issued to; loaded once per request."""
        grant = getattr(request, "grant_instance", None)
        if grant is None or grant.code != code:
            grant = Grant.objects.select_related("user").filter(code=code).first()
            request.grant_instance = grant
        return grant

    def _grant(self, code, request):
        """The grant being redeemed: only when it was issued to the authenticated client."""
        grant = self._load_grant(code, request)
        client = getattr(request, "client", None)
        if grant is None or client is None or grant.application_id != client.pk:
            return None
        return grant

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        # oauthlib asks before the client is authenticated, only to choose between the OAuth
        # and the OpenID Connect grant; validate_code then checks the grant's client.
        grant = self._load_grant(code, request)
        return grant.scope.split() if grant else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant else None

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = self._grant(code, request)
        if grant is None:
            return False
        # Claim the code with a conditional UPDATE: of concurrent redemptions exactly one
        # wins (the others wait for its row lock, then find it redeemed). A code is spent by
        # its first redemption attempt, successful or not.
        claimed = Grant.objects.filter(pk=grant.pk, redeemed_at__isnull=True).update(redeemed_at=timezone.now())
        if not claimed:
            log.warning("Authorization code replayed for client %s; revoking its tokens", client.client_id)
            flows.revoke_token_family(family=grant.token_family)
            return False
        if grant.is_expired() or not grant.user.is_active:
            return False
        if grant.sid and not revocation.is_session_active(sid=grant.sid, user_id=grant.user_id):
            return False  # the session the user approved from has ended since
        request.sid = grant.sid or None
        request.scopes = grant.scope.split()
        request.user = grant.user
        request.auth_time = grant.auth_time
        request.token_family = grant.token_family
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request)
        return grant.code_challenge or None if grant else None

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request)
        return grant.code_challenge_method or None if grant else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        request = kwargs.get("request") or (args[0] if args else None)
        grant = self._grant(code, request)
        if grant is None or not grant.redirect_uri_allowed(redirect_uri):
            # oauthlib would answer invalid_request; RFC 6749 5.2 names invalid_grant for a
            # redirect_uri that differs from the one the code was issued for.
            raise errors.InvalidGrantError(description="Mismatching redirect URI.", request=request)
        return True

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """Nothing to do: validate_code already claimed the code, and the row stays so that
        a replay can be recognised (expired codes are removed by `cleartokens`)."""

    # --- refresh tokens -------------------------------------------------------------------
    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        # DOT 3.4.1's validation, reading the token with its access token and its user in one
        # query, and comparing the client by id (DOT reads the user and the client again
        # through the foreign keys).
        rt = _refresh_token_with_checksum(refresh_token)
        if rt is None or not self._refresh_token_usable(rt):
            return False
        request.user = rt.user
        # The token as presented: under hashed storage the row holds none (DOT does the same).
        request.refresh_token = refresh_token
        request.refresh_token_instance = rt
        if client is None or rt.application_id != client.pk or not rt.user.is_active:
            return False
        # Bound to its SSO session, and refused once the user's not-before passed it (global
        # logout, password change). Both are revoked on those events too (oauth.receivers):
        # these checks hold should that have failed.
        if rt.sid and not revocation.is_session_active(sid=rt.sid, user_id=rt.user_id):
            return False
        if not revocation.is_issued_after_not_before(user_id=rt.user_id, issued_at=rt.created):
            return False
        request.sid = rt.sid or None
        request.auth_time = rt.auth_time
        request.token_family = rt.token_family
        return True

    def _refresh_token_usable(self, rt):
        """DOT's rules: a revoked token only within the grace period and only if it was
        superseded (else its reuse revokes the family); a live one only with its access token
        and within REFRESH_TOKEN_EXPIRE_SECONDS of that token's expiry."""
        if rt.revoked is not None:
            grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS)
            grace_expired = rt.revoked <= timezone.now() - grace
            if grace_expired or not AccessToken.objects.filter(source_refresh_token=rt).exists():
                if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION and rt.token_family:
                    RefreshToken.revoke_family(rt.token_family)
                return False
            return True
        if rt.access_token is None:
            return False  # an orphan: its access token was deleted out of band
        lifetime = refresh_token_expire_timedelta()
        return not (lifetime and rt.access_token.expires + lifetime <= timezone.now())

    def save_bearer_token(self, token, request, *args, **kwargs):
        if request.grant_type in SINGLE_WRITE_GRANTS:
            # One INSERT, atomic by itself: no transaction here nor in the view (autocommit).
            return self._save_bearer_token(token, request, *args, **kwargs)
        # Every other grant's request runs in one transaction (views.protocol_endpoint): DOT's
        # own atomic would only add a SAVEPOINT and a RELEASE. Without a savepoint an
        # exception still rolls the whole request back (Django marks the transaction for
        # rollback, and the outer block rolls back when it ends).
        with transaction.atomic(using=router.db_for_write(AccessToken), savepoint=False):
            rt = getattr(request, "refresh_token_instance", None)
            rotating = request.grant_type == "refresh_token" and rt is not None and self.rotate_refresh_token(request)
            if rotating and token.get("refresh_token"):
                return self._rotate(rt, token, request)
            return self._save_bearer_token(token, request, *args, **kwargs)

    def _rotate(self, rt, token, request):
        """Issue a new pair for the refresh token `rt`, revoking it and its access token.

        Replaces DOT's path (which locks and re-reads the token three times) with statements
        that act on the rows validate_refresh_token loaded; same semantics: the new pair
        inherits the family, the new access token records its source refresh token.
        Four writes: claim the token, delete its access token, insert the new pair.
        """
        if "scope" not in token:
            raise FatalClientError("Failed to renew access token: missing scope")
        self._check_and_set_request_resource(request)
        # Claim the token with a conditional UPDATE: of concurrent refreshes exactly one
        # matches the live row (the others wait for its row lock, then find it revoked) and
        # rotates it; the others get invalid_grant. No forked chains. The same UPDATE clears
        # the pointer to its access token (what SET_NULL would do when that token is deleted).
        now = timezone.now()
        old_access_token = rt.access_token
        claimed = RefreshToken.objects.filter(
            pk=rt.pk, revoked__isnull=True, access_token_id=rt.access_token_id
        ).update(revoked=now, updated=now, access_token=None)
        if not claimed:
            raise errors.InvalidGrantError(description="The refresh token was already used.", request=request)
        if old_access_token is not None:
            _delete_access_token(old_access_token)
        rt.access_token = None
        rt.revoked = now
        request.refresh_token_instance = None  # as DOT: the presented token is spent
        expires = now + timedelta(seconds=token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS))
        access_token = self._create_access_token(expires, request, token, source_refresh_token=rt)
        self._create_refresh_token(request, token["refresh_token"], access_token, rt)

    def _check_and_set_request_resource(self, request):
        """RFC 8707 resources. For a code exchange DOT re-reads the Grant to narrow them; the
        grant validate_code checked is lent to it instead (same code, same client)."""
        if request.grant_type != "authorization_code":
            return super()._check_and_set_request_resource(request)
        grant = self._grant(request.code, request)
        grant_resource = (grant.resource or []) if grant else []
        request.resource = _requested_resources(request)
        self._validate_resource_uris(request, request.resource)
        if request.resource and grant_resource:
            beyond = [res for res in request.resource if res not in grant_resource]
            if beyond:
                raise errors.CustomOAuth2Error(
                    error="invalid_target",
                    description=(
                        f"The requested resource '{beyond[0]}' is not allowed. Token request cannot "
                        "escalate resource permissions beyond the original authorization grant"
                    ),
                    request=request,
                )
        elif grant_resource:
            self._validate_resource_uris(request, grant_resource)  # rows may predate validation
            request.resource = grant_resource

    # --- token rows -----------------------------------------------------------------------
    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        # DOT re-parses and re-verifies the ID token it has just signed to find its row
        # (with the client's key, not ours); finalize_id_token kept the row instead.
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=getattr(request, "id_token", None) if token.get("id_token") else None,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
            jti=getattr(request, "access_token_jti", ""),
            token_family=getattr(request, "token_family", None),
            sid=getattr(request, "sid", None) or "",
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        if access_token.jti:
            # Only once the row is committed may the fast path call the token live.
            jti, expires_at = access_token.jti, access_token.expires
            transaction.on_commit(lambda: revocation.mark_token_live(jti, expires_at), robust=True)
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        family = getattr(request, "token_family", None) or uuid.uuid4()
        if previous_refresh_token and previous_refresh_token.token_family:
            family = previous_refresh_token.token_family
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=family,
            resource=getattr(request, "resource", []),
            auth_time=getattr(request, "auth_time", None),
            sid=getattr(request, "sid", None) or "",
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token

    # --- bearer tokens at DOT's protected views -------------------------------------------
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
        """UserInfo claims; `oidc_claim_scope` releases each by scope. Claims without a value
        are left out rather than sent empty (OpenID Connect Core 5.3.2)."""
        user = request.user
        claims = {
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "email": user.email,
        }
        claims = {name: value for name, value in claims.items() if value}
        if user.email:
            # True once the user followed the link mailed to this address (accounts.verification);
            # a change of address clears it.
            claims["email_verified"] = user.email_verified
        return claims

    def authentication_context(self, request):
        """(amr, acr) of the login behind this token: password only, until a second factor
        exists (the hook the TOTP and SSO work extends)."""
        return tokens.AMR_PASSWORD, tokens.ACR_PASSWORD

    def finalize_id_token(self, id_token, token, token_handler, request):
        """Sign the ID token with our active key (RS256, `kid`, `typ: JWT`) and save its row.

        oauthlib has put `aud`, `iat`, `nonce` (from the grant) and `at_hash` in `id_token`;
        everything else comes from our claims. The client's own key (DOT's `jwk_key`,
        OIDC_RSA_PRIVATE_KEY) is never used.
        """
        amr, acr = self.authentication_context(request)
        claims = tokens.id_token_claims(
            issuer=settings.ISSUER,
            client_id=request.client.client_id,
            subject=request.user.subject,
            lifetime=oauth2_settings.ID_TOKEN_EXPIRE_SECONDS,
            auth_time=tokens.numeric_date(getattr(request, "auth_time", None)),
            amr=amr,
            acr=acr,
            nonce=id_token.get("nonce"),
            at_hash=id_token.get("at_hash"),
            # The SSO session, once the sso work sets request.sid (from the Grant or refresh token).
            sid=getattr(request, "sid", None),
        )
        signed = tokens.sign(claims, typ=tokens.ID_TOKEN_TYPE)
        request.id_token = IDToken.objects.create(
            user=request.user,
            application=request.client,
            scope=" ".join(request.scopes),
            jti=claims["jti"],
            expires=datetime.fromtimestamp(claims["exp"], tz=UTC),
        )
        return signed


def _delete_access_token(access_token):
    """Delete one access token whose refresh token no longer points to it, in one DELETE.

    A model delete would go through Django's collector: a SELECT of the rows to delete (there
    are receivers) and the UPDATE that SET_NULL asks for, which the caller's claiming UPDATE
    has already done (the refresh token's `access_token` is the only relation to an access
    token: test_query_budget checks that). The signals the collector sends are sent here, so
    that every receiver sees the deletion: oauth.receivers tells the revocation store's fast
    path after the commit that the token is dead."""
    using = router.db_for_write(AccessToken, instance=access_token)
    pre_delete.send(sender=AccessToken, instance=access_token, using=using, origin=access_token)
    AccessToken.objects.using(using).filter(pk=access_token.pk)._raw_delete(using)
    post_delete.send(sender=AccessToken, instance=access_token, using=using, origin=access_token)


def _refresh_token_with_checksum(refresh_token):
    """The refresh token row for `refresh_token`, its access token and user joined. Several
    rows may share a checksum (unique with `revoked`): the live one first, then the most
    recently revoked (as DOT)."""
    checksum = hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()
    return (
        RefreshToken.objects.filter(token_checksum=checksum)
        .select_related("access_token", "user")
        .order_by(F("revoked").desc(nulls_first=True))
        .first()
    )


def _requested_resources(request):
    """The `resource` parameters of a token request as a list (DOT's normalization: oauthlib
    keeps only the last of repeated body parameters, the decoded body has them all)."""
    resource = getattr(request, "resource", None)
    if isinstance(resource, str):
        body_values = [value for key, value in (getattr(request, "decoded_body", None) or []) if key == "resource"]
        if len(body_values) > 1:
            resource = body_values
    if isinstance(resource, list):
        return resource
    if isinstance(resource, str) and resource.strip():
        return [resource]
    return []
