from django.urls import path

from core.middleware import protocol_endpoint

from . import admin_api, api

urlpatterns = [
    # An access token only: no browser middleware (core.middleware). The dashboard also accepts
    # the browser's session, and so keeps it.
    path("me", protocol_endpoint(api.MeView.as_view()), name="api-me"),
    path("admin/dashboard", admin_api.DashboardView.as_view(), name="api-admin-dashboard"),
]
