from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import View
from oauth2_provider.views import ProtectedResourceView


class MeView(ProtectedResourceView):
    """Stands in for our /api/me: DOT's own Bearer-token protection (token row lookup)."""

    def get(self, request, *args, **kwargs):
        user = request.resource_owner
        return JsonResponse({"username": user.get_username() if user else None})


class LiveView(View):
    def get(self, request):
        return JsonResponse({"status": "ok"})


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me", MeView.as_view()),
    path("health/live", LiveView.as_view()),
]
