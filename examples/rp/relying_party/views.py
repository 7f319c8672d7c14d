from django.conf import settings
from django.shortcuts import render


def home(request):
    user = request.user
    context = {
        "issuer": settings.OIDC_OP_ISSUER,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "failed": "failed" in request.GET and not user.is_authenticated,
        "name": (user.first_name or user.username) if user.is_authenticated else None,
    }
    return render(request, "relying_party/home.html", context)
