from django.urls import path

from . import views
from .webauthn import views as passkeys

app_name = "mfa"
urlpatterns = [
    path("login/code/", views.authenticate, name="authenticate"),
    path("login/code/cancel/", views.cancel, name="cancel"),
    path("login/2fa/", views.enrol, name="enrol"),
    path("2fa/", views.overview, name="overview"),
    path("2fa/totp/", views.setup, name="setup"),
    path("2fa/recovery-codes/", views.regenerate, name="regenerate"),
    path("2fa/disable/", views.disable, name="disable"),
    # Passkeys (accounts.mfa.webauthn): passwordless login, the code step's passkey, the page.
    path("login/passkey/", passkeys.login, name="passkey-login"),
    path("login/passkey/options/", passkeys.login_options, name="passkey-login-options"),
    path("login/code/passkey/", passkeys.second_factor, name="passkey-second-factor"),
    path("login/code/passkey/options/", passkeys.second_factor_options, name="passkey-second-factor-options"),
    path("passkeys/", passkeys.passkeys, name="passkeys"),
    path("passkeys/options/", passkeys.registration_options, name="passkey-options"),
    path("passkeys/add/", passkeys.add, name="passkey-add"),
    path("passkeys/<int:pk>/rename/", passkeys.rename, name="passkey-rename"),
    path("passkeys/<int:pk>/remove/", passkeys.remove, name="passkey-remove"),
]
