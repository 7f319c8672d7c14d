from django.urls import path

from . import api

urlpatterns = [
    path("sessions/", api.SessionListView.as_view(), name="api-sessions"),
    path("sessions/logout-all", api.LogoutAllView.as_view(), name="api-sessions-logout-all"),
    path("sessions/<uuid:public_id>", api.SessionView.as_view(), name="api-session"),
]
