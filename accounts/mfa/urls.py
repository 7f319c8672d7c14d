from django.urls import path

from . import views

app_name = "mfa"
urlpatterns = [
    path("login/code/", views.authenticate, name="authenticate"),
    path("login/code/cancel/", views.cancel, name="cancel"),
    path("login/2fa/", views.enrol, name="enrol"),
    path("2fa/", views.overview, name="overview"),
    path("2fa/totp/", views.setup, name="setup"),
    path("2fa/recovery-codes/", views.regenerate, name="regenerate"),
    path("2fa/disable/", views.disable, name="disable"),
]
