from django.urls import path

from . import views

app_name = "oauth"
urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke/", views.RevokeTokenView.as_view(), name="revoke"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
]
