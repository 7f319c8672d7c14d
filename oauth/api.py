"""JSON API views protected by our access tokens."""

from rest_framework.response import Response
from rest_framework.views import APIView

from .permissions import HasScope


class MeView(APIView):
    """`GET /api/me`: who the access token speaks for. Needs the `profile` scope.

    A user token answers the user's profile (`email` with the `email` scope); a
    client-credentials token answers the client itself.
    """

    permission_classes = [HasScope]
    required_scopes = ["profile"]

    def get(self, request):
        token = request.auth
        if token.is_client_token:
            return Response({"type": "client", "client_id": token.client.client_id, "name": token.client.name})
        user = request.user
        body = {"type": "user", "sub": user.subject, "username": user.username, "client_id": token.claims["client_id"]}
        if "email" in token.scopes:
            body["email"] = user.email
        return Response(body)
