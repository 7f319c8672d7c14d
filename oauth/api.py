"""JSON API views protected by our access tokens."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core import openapi

from .permissions import HasScope


class MeSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "client"], help_text="Whom the token speaks for.")
    sub = serializers.CharField(required=False, help_text="A user token: the user's subject.")
    username = serializers.CharField(required=False)
    email = serializers.EmailField(required=False, help_text="A user token with the `email` scope.")
    client_id = serializers.CharField(help_text="The client the token was issued to.")
    name = serializers.CharField(required=False, help_text="A client-credentials token: the client's name.")


class MeView(APIView):
    """`GET /api/me`: who the access token speaks for. Needs the `profile` scope.

    A user token answers the user's profile (`email` with the `email` scope); a
    client-credentials token answers the client itself.
    """

    permission_classes = [HasScope]
    required_scopes = ["profile"]

    @extend_schema(
        tags=["accounts"],
        summary="Who the access token speaks for",
        responses={200: MeSerializer, **openapi.errors(*openapi.AUTHENTICATED)},
        examples=[
            OpenApiExample(
                "A user token",
                value={
                    "type": "user",
                    "sub": "3f0c9a7e-…",
                    "username": "ada",
                    "client_id": "abc",
                    "email": "ada@example.com",
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "A client token",
                value={"type": "client", "client_id": "abc", "name": "Billing service"},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def get(self, request):
        token = request.auth
        if token.is_client_token:
            return Response({"type": "client", "client_id": token.client.client_id, "name": token.client.name})
        user = request.user
        body = {"type": "user", "sub": user.subject, "username": user.username, "client_id": token.claims["client_id"]}
        if "email" in token.scopes:
            body["email"] = user.email
        return Response(body)
