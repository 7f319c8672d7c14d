from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import home

# The admin console's branding (templates/admin/base_site.html shows SITE_NAME too).
admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Operations console"
# No navigation sidebar: on a 1280 px screen it takes a quarter of the width that the lists'
# columns need (the index and the breadcrumbs lead everywhere it does).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", home, name="home"),
    # Browsers ask for it on every page that names no icon (the admin's, plain responses).
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("", include("wellknown.urls")),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("accounts.mfa.urls")),
    path("accounts/", include("sso.urls")),
    path("accounts/", include("oauth.account_urls")),
    path("oauth/", include("oauth.urls")),
    path("api/", include("accounts.api_urls")),
    path("api/", include("oauth.api_urls")),
    path("api/", include("sso.api_urls")),
    # OpenAPI 3 (drf-spectacular): the description, and Swagger UI on our own static files. The
    # docs page alone may show `data:` images (the icons inside Swagger UI's stylesheet): an
    # image can run nothing, and every other directive stays as strict as on every page.
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path(
        "api/docs/",
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="openapi-schema", template_name="openapi/docs.html")
        ),
        name="openapi-docs",
    ),
    # One password form for everyone, staff included: the login page, whose attempts are
    # throttled per IP and serialized (accounts.lockout), and which starts an SSO session.
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
]

# Django's error views without @requires_csrf_token (core/errors.py says why).
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"
