from django.contrib.admin.apps import AdminConfig


class TwoFactorAdminConfig(AdminConfig):
    """django.contrib.admin, whose site (`admin.site`) asks staff for a second factor
    (accounts.mfa.policy). In INSTALLED_APPS instead of "django.contrib.admin"; the app label
    stays "admin". Its own module: apps.py may hold one default AppConfig only."""

    default_site = "accounts.mfa.admin_site.TwoFactorAdminSite"
