"""mozilla-django-oidc, with the checks a careful relying party adds."""

from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class IdentityBackend(OIDCAuthenticationBackend):
    """Signs people in with identity's ID token and userinfo.

    Local users are keyed by the stable `sub`, never by email (an email address can change
    hands); their display name is identity's `preferred_username`."""

    def get_token(self, payload):
        if not payload.get("client_secret"):
            payload.pop("client_secret", None)  # a public client authenticates with no secret
        return super().get_token(payload)

    def verify_token(self, token, **kwargs):
        # The library checks the signature (with the JWKS), `exp` and the nonce; the ID token
        # must also come from our issuer and be meant for us (OpenID Connect Core 3.1.3.7).
        claims = super().verify_token(token, **kwargs)
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if claims.get("iss") != settings.OIDC_OP_ISSUER or settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is not from our issuer or not meant for this client.")
        return claims

    def get_userinfo(self, access_token, id_token, payload):
        info = super().get_userinfo(access_token, id_token, payload)
        if info.get("sub") != payload.get("sub"):  # OpenID Connect Core 5.3.2
            raise SuspiciousOperation("userinfo speaks of another subject than the ID token.")
        return info

    def verify_claims(self, claims):
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(username=claims["sub"])

    def create_user(self, claims):
        return self.update_user(self.UserModel.objects.create_user(claims["sub"]), claims)

    def update_user(self, user, claims):
        user.first_name = (claims.get("preferred_username") or "")[:150]
        user.email = claims.get("email") or ""
        user.save(update_fields=["first_name", "email"])
        return user


def provider_logout_url(request):
    """RP-initiated logout: identity's end_session_endpoint with the ID token as a hint (no
    question asked) and where to come back to (registered for the client)."""
    params = {"post_logout_redirect_uri": settings.POST_LOGOUT_REDIRECT_URI, "client_id": settings.OIDC_RP_CLIENT_ID}
    id_token = request.session.get("oidc_id_token")
    if id_token:
        params["id_token_hint"] = id_token
    return f"{settings.OIDC_OP_END_SESSION_ENDPOINT}?{urlencode(params)}"
