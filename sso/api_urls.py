from django.urls import path

from . import admin_api, api

urlpatterns = [
    path("sessions/", api.SessionListView.as_view(), name="api-sessions"),
    path("sessions/logout-all", api.LogoutAllView.as_view(), name="api-sessions-logout-all"),
    path("sessions/<uuid:public_id>", api.SessionView.as_view(), name="api-session"),
    path("audit/", admin_api.AuditEventListView.as_view(), name="api-audit"),
    path("admin/users/", admin_api.UserListView.as_view(), name="api-admin-users"),
    path("admin/users/<str:sub>", admin_api.UserView.as_view(), name="api-admin-user"),
    path(
        "admin/users/<str:sub>/disable", admin_api.UserActiveView.as_view(active=False), name="api-admin-user-disable"
    ),
    path("admin/users/<str:sub>/enable", admin_api.UserActiveView.as_view(active=True), name="api-admin-user-enable"),
    path("admin/users/<str:sub>/roles/<str:role>", admin_api.UserRoleView.as_view(), name="api-admin-user-role"),
    path(
        "admin/users/<str:sub>/logout-everywhere",
        admin_api.UserLogoutView.as_view(),
        name="api-admin-user-logout-everywhere",
    ),
]
