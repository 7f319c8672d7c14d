"""The account pages oauth serves (mounted under /accounts/ in identity/urls.py): they read
oauth's tables, which sso and accounts below it may not import."""

from django.urls import path

from . import views

app_name = "connected_apps"
urlpatterns = [
    path("apps/", views.connected_apps_page, name="list"),
    path("apps/<str:client_id>/revoke/", views.revoke_app_access, name="revoke"),
]
