from django.urls import path

from . import admin_api, api

urlpatterns = [
    path("me", api.MeView.as_view(), name="api-me"),
    path("admin/dashboard", admin_api.DashboardView.as_view(), name="api-admin-dashboard"),
]
