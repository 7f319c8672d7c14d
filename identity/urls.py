from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("wellknown.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("sso.urls")),
    path("oauth/", include("oauth.urls")),
    path("api/", include("accounts.api_urls")),
    path("api/", include("oauth.api_urls")),
    path("api/", include("sso.api_urls")),
    path("admin/", admin.site.urls),
]
