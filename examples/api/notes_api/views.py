"""GET /notes (scope `read`) lists the caller's notes; POST /notes (scope `write`) adds one.

Protected by identity's DRF authentication class and scope permission:
- no token: 401, `WWW-Authenticate: Bearer realm="identity"`;
- a bad, expired or revoked token: 401, `error="invalid_token"`;
- a token without the scope: 403, `error="insufficient_scope", scope="read"` (or "write").
Notes belong to the token's subject (`sub`: a user, or the client itself for a
client-credentials token) and live in this process's memory: an example, not a database.
"""

import threading
from collections import defaultdict

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from oauth.authentication import JWTAccessTokenAuthentication
from oauth.permissions import HasScope

MAX_NOTES = 100  # per subject: memory stays bounded
_notes = defaultdict(list)
_lock = threading.Lock()


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)


class NotesView(APIView):
    authentication_classes = [JWTAccessTokenAuthentication]
    permission_classes = [HasScope]

    @property
    def required_scopes(self):
        return ["read"] if self.request.method in ("GET", "HEAD", "OPTIONS") else ["write"]

    def get(self, request):
        with _lock:
            notes = list(_notes[request.auth.claims["sub"]])
        return Response({"subject": request.auth.claims["sub"], "notes": notes})

    def post(self, request):
        note = NoteSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        subject = request.auth.claims["sub"]
        with _lock:
            if len(_notes[subject]) >= MAX_NOTES:
                return Response({"error": f"At most {MAX_NOTES} notes each."}, status=409)
            _notes[subject].append(note.validated_data["text"])
        return Response({"text": note.validated_data["text"]}, status=201)
