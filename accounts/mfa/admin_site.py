"""The admin site: Django's, asking staff for a second factor under MFA_REQUIRED (policy.py).

Every admin page (each is wrapped by `admin_view`) first checks the browser's SSO session: a
staff user whose session was logged in with the password alone (a trusted browser, a session
from before the policy, staff rights given since) goes through the code step, or enrolment
for a user without an authenticator app, and comes back to the page (accounts.stages.step_up:
the same SSO session, which then records the second factor). `has_permission` says the same,
for whatever else asks it.
"""

from functools import wraps

from django.contrib import admin
from django.urls import reverse
from django.views.decorators.cache import never_cache

from accounts import stages

from . import policy


class TwoFactorAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and not self.needs_second_factor(request)

    def needs_second_factor(self, request):
        # Logging out needs no second factor (Django's own check sends a refused logout home).
        if request.path == reverse("admin:logout", current_app=self.name):
            return False
        return policy.admin_needs_second_factor(request)

    def admin_view(self, view, cacheable=False):
        protected = super().admin_view(view, cacheable)

        @wraps(view)
        def inner(request, *args, **kwargs):
            if request.user.is_active and request.user.is_staff and self.needs_second_factor(request):
                return self.ask_second_factor(request)
            return protected(request, *args, **kwargs)

        return inner

    @staticmethod
    @never_cache
    def ask_second_factor(request):
        """The code step (or enrolment), then back to this page."""
        return stages.step_up(
            request,
            redirect_to=request.get_full_path(),
            amr=policy.session_methods(request) or ["pwd"],
            require={stages.SECOND_FACTOR},
        )
