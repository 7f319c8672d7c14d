"""Authorization codes: the validator hooks of `AuthorizationCodes` (mixed into
oauth.validators.Validator).

- a code is issued with the time the user authenticated (`auth_time`) and the SSO session
  (`sid`) it was approved from, both carried into every token issued from it;
- it is claimed atomically at redemption and kept, so that a replay is detected and revokes
  every token issued from the first redemption (RFC 6749 4.1.2, 10.5);
- it is redeemable only by the client it was issued to, with the same redirect URI, while
  its user is active and its session has not ended;
- the Grant row is read once per token request, and lent to DOT's RFC 8707 resource check.
"""

import json
import logging
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors

import audit
from audit import events
from sso import revocation

from . import context, flows
from .models import Grant

log = logging.getLogger(__name__)


class AuthorizationCodes:
    """The authorization-code hooks of our OAuth2Validator (mixed in before DOT's)."""

    def _create_authorization_code(self, request, code, expires=None):
        expires = expires or timezone.now() + timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        ctx = context.of(request)
        auth_time = ctx.auth_time
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
            sid=ctx.sid or "",
            amr=list(ctx.amr or []),
        )

    def _load_grant(self, code, request):
        """The grant with this code, whoever it was issued to; loaded once per request."""
        ctx = context.of(request)
        grant = ctx.grant
        if grant is None or grant.code != code:
            grant = Grant.objects.select_related("user").filter(code=code).first()
            ctx.grant = grant
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
            audit.record(
                event=events.CODE_REPLAYED,
                actor=None,
                subject=grant.user,
                client_id=client.client_id,
                outcome=events.FAILURE,
                detail={"family": str(grant.token_family) if grant.token_family else None},
            )
            return False
        if grant.is_expired() or not grant.user.is_active:
            return False
        if grant.sid and not revocation.is_session_active(sid=grant.sid, user_id=grant.user_id):
            return False  # the session the user approved from has ended since
        ctx = context.of(request)
        ctx.sid = grant.sid or None
        ctx.auth_time = grant.auth_time
        ctx.amr = grant.amr or None
        ctx.token_family = grant.token_family
        request.scopes = grant.scope.split()
        request.user = grant.user
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

    def _check_and_set_request_resource(self, request):
        """RFC 8707 resources. For a code exchange DOT re-reads the Grant to narrow them; the
        grant validate_code checked is lent to it instead (same code, same client)."""
        if request.grant_type != "authorization_code":
            return super()._check_and_set_request_resource(request)
        grant = self._grant(request.code, request)
        grant_resource = (grant.resource or []) if grant else []
        request.resource = requested_resources(request)
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


def requested_resources(request):
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
