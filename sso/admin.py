from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts import admin as accounts_admin
from core.admin import ReadOnlyAdminMixin, labelled

from . import flows
from .models import SSOSession, UserNotBefore

# Shown in the admin instead of the sid, which is a bearer-ish secret carried in tokens.
_FIELDS = (
    "public_id",
    "user",
    "state",
    "created_at",
    "last_seen_at",
    "ip",
    "user_agent",
    "amr",
    "authenticated_at",
    "idle_expires_at",
    "expires_at",
    "revoked_at",
)


@admin.display(description="IP address", ordering="ip")
def ip_address(session):
    return session.ip


@admin.display(description="authentication methods")
def authentication_methods(session):
    return ", ".join(session.amr or ()) or "pwd"


@admin.display(description="user agent")
def user_agent(session):
    return session.user_agent


SESSION_ID = labelled("public_id", "session ID")
_LABELLED = {"state": None, "ip": ip_address, "amr": authentication_methods, "public_id": SESSION_ID}


@admin.display(description="state")
def state(session):
    if session.revoked_at is not None:
        return "revoked"
    return "active" if session.is_active(timezone.now()) else "expired"


@admin.register(SSOSession)
class SSOSessionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (SESSION_ID, "user", state, ip_address, "created_at", "last_seen_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at", "last_seen_at")
    search_fields = ("user__username", "user__email", "user__subject", "ip", "=public_id")
    list_select_related = ("user",)
    fields = readonly_fields = tuple(_LABELLED.get(f, f) or state for f in _FIELDS)
    date_hierarchy = "created_at"
    actions = ["revoke_sessions", "log_out_users_everywhere"]
    # Ending a session is "revoke"; rows go with purge_expired.

    def has_revoke_permission(self, request):
        return request.user.has_perm("sso.change_ssosession")

    @admin.action(description="Revoke selected sessions", permissions=["revoke"])
    def revoke_sessions(self, request, queryset):
        count = 0
        for session in queryset.select_related("user"):
            flows.end_session(user=session.user, session_id=session.public_id)
            count += 1
        self.message_user(request, f"{count} session(s) revoked.", messages.SUCCESS)

    @admin.action(description="Log the users of selected sessions out everywhere", permissions=["revoke"])
    def log_out_users_everywhere(self, request, queryset):
        users = get_user_model().objects.filter(pk__in=queryset.values("user_id"))
        _log_out_everywhere(self, request, users)


class SSOSessionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SSOSession
    fields = readonly_fields = (SESSION_ID, state, ip_address, user_agent, "created_at", "last_seen_at", "revoked_at")
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-last_seen_at",)


def _log_out_everywhere(model_admin, request, users):
    count = 0
    for user in users:
        flows.logout_everywhere(user=user, why=f"admin action by user {request.user.pk}")
        count += 1
    model_admin.message_user(request, f"{count} user(s) logged out everywhere.", messages.SUCCESS)


@admin.action(description="Log selected users out everywhere", permissions=["change"])
def log_out_everywhere(model_admin, request, queryset):
    _log_out_everywhere(model_admin, request, queryset)


def _log_out_one_everywhere(*, request, user):
    ended = flows.logout_everywhere(user=user, why=f"admin action by user {request.user.pk}")
    return f"{user.get_username()} is logged out everywhere: {len(ended)} session(s) ended, every token refused."


# The user's admin page lists their SSO sessions and has a "Log out everywhere" button; the
# user list offers it for several users at once.
accounts_admin.add_user_inline(SSOSessionInline)
accounts_admin.add_user_action(log_out_everywhere)
accounts_admin.add_user_button(name="log-out-everywhere", label="Log out everywhere", run=_log_out_one_everywhere)


@admin.register(UserNotBefore)
class UserNotBeforeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "not_before")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    readonly_fields = ("user", "not_before")
