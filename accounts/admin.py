from collections.abc import Callable
from dataclasses import dataclass

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from . import claims, flows
from .models import User
from .signals import password_change_by

# Other apps' additions to the User admin (sso's sessions inline and "log out everywhere"; 2FA
# devices, roles…), registered from their admin modules: the User admin is registered once, here,
# and nobody unregisters it to subclass it.
_inlines = []
_actions = []
_buttons = {}


@dataclass(frozen=True)
class UserButton:
    """A button on a user's admin page (beside "History"): a POST to its own URL that calls
    `run(request=…, user=…)`, which does the change through its app's flow and returns the
    message shown to the operator. Offered when `shown(user)` and the operator has the
    `permission` ("change", "delete", …) on that user."""

    name: str
    label: str
    run: Callable
    shown: Callable = lambda user: True
    permission: str = "change"


def add_user_button(*, name, label, run, shown=None, permission="change"):
    """Offer a UserButton (see there) on every user's admin page; `name` is its URL part."""
    _buttons[name] = UserButton(name, label, run, shown or (lambda user: True), permission)


def add_user_inline(inline):
    """Show `inline` (an InlineModelAdmin class) on every user's admin page."""
    if inline not in _inlines:
        _inlines.append(inline)


def add_user_action(action):
    """Offer `action(modeladmin, request, queryset)` on the user list; its `@admin.action`
    description and permissions apply as for the admin's own actions."""
    if action not in _actions:
        _actions.append(action)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "email_verified", "subject", "is_active", "is_staff", "last_login")
    list_filter = ("email_verified", *DjangoUserAdmin.list_filter)
    search_fields = ("username", "email", "subject")
    readonly_fields = ("subject", "last_login", "date_joined", "profile_updated_at")
    fieldsets = (
        DjangoUserAdmin.fieldsets[0],
        (
            "Personal info",
            {"fields": ("first_name", "middle_name", "last_name", "nickname", "email", "email_verified")},
        ),
        *DjangoUserAdmin.fieldsets[2:],
        ("Identity", {"fields": ("subject", "profile_updated_at")}),
        (
            "Profile claims",
            {
                "classes": ("collapse",),
                "fields": ("picture", "website", "gender", "birthdate", "zoneinfo", "locale"),
            },
        ),
        ("Phone", {"classes": ("collapse",), "fields": ("phone_number", "phone_number_verified")}),
        (
            "Postal address",
            {
                "classes": ("collapse",),
                "fields": (
                    "address_street_address",
                    "address_locality",
                    "address_region",
                    "address_postal_code",
                    "address_country",
                ),
            },
        ),
    )
    # Plain multiple selects: Django's two-box filter widget puts aria-label on a bare <span>
    # (axe-core: aria-prohibited-attr, serious), and screen-reader users lose the choices.
    filter_horizontal = ()
    # A URL typed without a scheme is https (Django 6's default; say it now, silently).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        # A new address is not verified because the old one was, unless the operator says so.
        if change and "email" in form.changed_data and "email_verified" not in form.changed_data:
            obj.email_verified = False
        if change and "phone_number" in form.changed_data and "phone_number_verified" not in form.changed_data:
            obj.phone_number_verified = False
        if set(form.changed_data) & set(claims.EDITABLE_FIELDS):
            obj.profile_updated_at = timezone.now()
        if change and "is_active" in form.changed_data:
            # Disabling or enabling goes through the flow (its audit event; sso ends the
            # sessions of a disabled account), after the other fields are saved.
            active, obj.is_active = obj.is_active, not obj.is_active
            with transaction.atomic():
                super().save_model(request, obj, form, change)
                flows.set_active(user=obj, active=active)
            return
        super().save_model(request, obj, form, change)

    def get_urls(self):
        view = self.admin_site.admin_view(self.user_button_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_button"
        return [path("<path:object_id>/do/<slug:button>/", view, name=name), *super().get_urls()]

    @method_decorator(require_POST)
    def user_button_view(self, request, object_id, button):
        """POST of a UserButton: run it on the user, then back to their page with its message."""
        found = _buttons.get(button)
        user = self.get_object(request, unquote(object_id))
        if found is None or user is None:
            raise Http404("No such user or button.")
        if not (found.shown(user) and getattr(self, f"has_{found.permission}_permission")(request, user)):
            raise PermissionDenied
        self.message_user(request, found.run(request=request, user=user), messages.SUCCESS)
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[user.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, unquote(object_id))
        buttons = []
        if user is not None:
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_button"
            for button in _buttons.values():
                allowed = getattr(self, f"has_{button.permission}_permission")(request, user)
                if allowed and button.shown(user):
                    buttons.append((reverse(name, args=[user.pk, button.name]), button.label))
        extra_context = {**(extra_context or {}), "object_buttons": buttons}
        return super().change_view(request, object_id, form_url, extra_context)

    change_form_template = "admin/accounts/user/change_form.html"

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), *_inlines]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not actions and self.actions is None:
            return actions  # actions are off (a popup, or the admin's setting)
        for action in _actions:
            name = action.__name__
            permissions = getattr(action, "allowed_permissions", ())
            if all(getattr(self, f"has_{permission}_permission")(request) for permission in permissions):
                description = getattr(action, "short_description", capfirst(name.replace("_", " ")))
                actions[name] = (action, name, description)
        return actions

    def user_change_password(self, request, id, form_url=""):
        # The save announces the change (accounts.signals); the administrator's own browser
        # stays logged in when they changed their own password.
        with password_change_by(request):
            return super().user_change_password(request, id, form_url)


def _disable(*, request, user):
    flows.set_active(user=user, active=False)
    return f"{user.get_username()} is disabled: they cannot log in, their sessions ended and their tokens are refused."


def _enable(*, request, user):
    flows.set_active(user=user, active=True)
    return f"{user.get_username()} is enabled: they can log in again."


add_user_button(name="disable", label="Disable account", run=_disable, shown=lambda user: user.is_active)
add_user_button(name="enable", label="Enable account", run=_enable, shown=lambda user: not user.is_active)


# django-axes' admin (importing it registers it): the failed-login counts behind lockouts
# (accounts.lockout). Its access logs are not kept here (AXES_DISABLE_ACCESS_LOG; the failure
# log is off by default), so their always-empty pages are left out.
admin.site.unregister(AccessLog)
admin.site.unregister(AccessFailureLog)
admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    """Failed logins per (username, IP) within the cool-off; deleting rows lifts their lockout."""

    @admin.action(description="Clean up expired attempts")
    def cleanup_expired_attempts(self, request, queryset):
        # axes 8.3.1's action reads request.axes_attempt_time, which only its login handling
        # sets: without this it fails with an AttributeError (500).
        AxesProxyHandler.update_request(request)
        return super().cleanup_expired_attempts(request, queryset)
