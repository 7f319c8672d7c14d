"""`/api/me/totp/`: two-factor enrolment over HTTP, for apps that build their own pages.

Authentication: DRF's default authenticators (an access token carrying the `mfa` scope, which
a client gets only when an operator lists it in the client's allowed scopes) or the browser's
session cookie (SessionAuthentication enforces CSRF). The same flows as the pages
(accounts.mfa.flows), so the same rules: the device is used only once a current code confirms
it; removing it needs a current code, a recovery code or the password.

    POST   /api/me/totp/         201 {otpauth_uri, secret, qr_svg}: an unconfirmed device
    POST   /api/me/totp/verify   200 {enabled: true, recovery_codes: [...]} (shown once)
    DELETE /api/me/totp/         204; body {"code": "..."} or {"password": "..."}
"""

from django.contrib.auth import get_user_model
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from core import openapi
from core.permissions import HasScopeOrSession

from . import flows, ip_throttle

REQUIRED_SCOPE = "mfa"


def enrolment_data(enrolment):
    """The JSON form of an enrolment (also answered by registration with `"totp": true`)."""
    return {"otpauth_uri": enrolment.uri, "secret": enrolment.secret, "qr_svg": enrolment.qr_svg}


class IsPersonWithScope(HasScopeOrSession):
    def has_permission(self, request, view):
        return isinstance(request.user, get_user_model()) and super().has_permission(request, view)


class PasswordThrottle(SimpleRateThrottle):
    """Password guesses through DELETE, per user (codes have django-otp's own growing delay)."""

    scope = "mfa_password"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        if request.method != "DELETE" or "password" not in request.data:
            return None  # not throttled here
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, trim_whitespace=True)


class RemovalSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64, required=False)
    password = serializers.CharField(max_length=256, required=False, trim_whitespace=False)

    def validate(self, attrs):
        if not (attrs.get("code") or attrs.get("password")):
            raise serializers.ValidationError("Give a current code, a recovery code or your password.")
        return attrs


class EnrolmentSerializer(serializers.Serializer):
    """An unconfirmed authenticator (the answer of `POST /api/me/totp/`)."""

    otpauth_uri = serializers.CharField(help_text="The `otpauth://totp/…` URI the QR code encodes.")
    secret = serializers.CharField(help_text="The shared secret, base32, for typing in by hand.")
    qr_svg = serializers.CharField(help_text="The QR code, an inline SVG document.")


class EnabledSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
    recovery_codes = serializers.ListField(child=serializers.CharField(), help_text="Shown once; keep them safe.")


def _describe(summary, request=None, responses=None, examples=()):
    """The OpenAPI description of a TOTP operation: an `mfa` token or the session."""
    return extend_schema(
        tags=["two-factor"],
        summary=summary,
        request=request,
        responses={**(responses or {}), **openapi.errors(*openapi.AUTHENTICATED)},
        auth=openapi.token_or_session(REQUIRED_SCOPE),
        examples=list(examples),
    )


def _refusal(error, description, status_code=status.HTTP_400_BAD_REQUEST):
    return Response({"error": error, "error_description": description}, status=status_code)


def _throttled(exc):
    response = _refusal("too_many_attempts", str(exc), status.HTTP_429_TOO_MANY_REQUESTS)
    response["Retry-After"] = str(exc.retry_after)
    return response


class TOTPAPIView(APIView):
    permission_classes = [IsPersonWithScope]
    required_scopes = [REQUIRED_SCOPE]

    def get_authenticators(self):
        return [*(cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES), SessionAuthentication()]

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"  # secrets and recovery codes
        return response


class TOTPView(TOTPAPIView):
    throttle_classes = [PasswordThrottle]

    @_describe(
        "Start enrolling an authenticator app",
        responses={
            201: EnrolmentSerializer,
            409: OpenApiResponse(openapi.ErrorSerializer, description="`already_enabled`: two-factor is on."),
        },
        examples=[
            OpenApiExample(
                "Enrolment",
                value={
                    "otpauth_uri": "otpauth://totp/identity:ada?secret=JBSWY3DPEHPK3PXP&issuer=identity",
                    "secret": "JBSWY3DPEHPK3PXP",
                    "qr_svg": "<svg …>",
                },
                response_only=True,
                status_codes=["201"],
            )
        ],
    )
    def post(self, request):
        """Start enrolment (an earlier unconfirmed device is replaced)."""
        try:
            device = flows.start_totp(user=request.user)
        except flows.MFAError as exc:
            return _refusal("already_enabled", str(exc), status.HTTP_409_CONFLICT)
        return Response(enrolment_data(flows.enrolment(device)), status=status.HTTP_201_CREATED)

    @_describe(
        "Remove two-factor authentication",
        request=RemovalSerializer,
        responses={
            204: OpenApiResponse(description="Removed."),
            **openapi.errors(
                400,
                409,
                429,
                e400="Field errors, or `invalid_code` / `invalid_password` (an `error` body).",
                e409="`not_enabled`: two-factor is not set up.",
                e429="`too_many_attempts`: wait `Retry-After` seconds.",
            ),
        },
        examples=[OpenApiExample("By code", value={"code": "123456"}, request_only=True)],
    )
    @sensitive_variables("proof")
    def delete(self, request):
        """Remove the second factor; proven with a code (TOTP or recovery) or the password."""
        if not flows.has_totp(request.user):
            return _refusal("not_enabled", "Two-factor authentication is not set up.", status.HTTP_409_CONFLICT)
        serializer = RemovalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proof = serializer.validated_data
        if proof.get("code"):
            try:
                ip_throttle.guarded(request, lambda: flows.verify(user=request.user, code=proof["code"]))
            except flows.Throttled as exc:
                return _throttled(exc)
            except flows.MFAError as exc:
                return _refusal("invalid_code", str(exc))
        elif not request.user.check_password(proof["password"]):
            return _refusal("invalid_password", "That password is not right.")
        flows.disable(user=request.user, by=request.user, keep_passkeys=True)  # /api/me/totp/: the app only
        return Response(status=status.HTTP_204_NO_CONTENT)


class TOTPVerifyView(TOTPAPIView):
    @_describe(
        "Confirm the authenticator with a current code",
        request=CodeSerializer,
        responses={
            200: EnabledSerializer,
            **openapi.errors(
                400,
                429,
                e400="Field errors, or `invalid_code` (an `error` body).",
                e429="`too_many_attempts`: wait `Retry-After` seconds.",
            ),
        },
        examples=[
            OpenApiExample("Code", value={"code": "123456"}, request_only=True),
            OpenApiExample(
                "Enabled",
                value={"enabled": True, "recovery_codes": ["7KQ2-M9XD", "…"]},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request):
        """Confirm the pending device with a current code; answers the recovery codes once."""
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            code = serializer.validated_data["code"]
            codes = ip_throttle.guarded(request, lambda: flows.confirm_totp(user=request.user, code=code))
        except flows.Throttled as exc:
            return _throttled(exc)
        except flows.MFAError as exc:
            return _refusal("invalid_code", str(exc))
        return Response({"enabled": True, "recovery_codes": codes})
