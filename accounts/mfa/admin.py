"""Two-factor devices in the admin: seen on the user's page, removed with an action that goes
through the flow (and its signal). django-otp's own device admins are not offered: they show the
TOTP secret and its QR code to every operator, and deleting rows there would skip the flow."""

from django.contrib import admin, messages
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import admin as accounts_admin
from core.admin import ReadOnlyAdminMixin

from . import flows
from .models import WebAuthnCredential

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class TOTPDeviceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TOTPDevice
    verbose_name = "authenticator app"
    fields = readonly_fields = ("name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    extra = 0
    can_delete = False


class RecoveryCodesInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The user's recovery codes: how many are left, never the codes."""

    model = StaticDevice
    verbose_name = "recovery code set"
    fields = readonly_fields = ("name", "confirmed", "remaining", "created_at", "last_used_at")
    extra = 0
    can_delete = False

    @admin.display(description="codes left")
    def remaining(self, device):
        return device.token_set.count()


class PasskeyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The user's passkeys (no key material shown); removed with the action below."""

    model = WebAuthnCredential
    verbose_name = "passkey"
    fields = readonly_fields = ("name", "amr", "backup_eligible", "created_at", "last_used_at", "sign_count")
    extra = 0
    can_delete = False


@admin.action(
    description="Remove two-factor authentication (they log in with the password alone)", permissions=["change"]
)
def remove_two_factor(model_admin, request, queryset):
    count = sum(1 for user in queryset if flows.disable(user=user, by=request.user, reason="removed by an operator"))
    model_admin.message_user(request, f"Two-factor authentication removed for {count} user(s).", messages.SUCCESS)


def _remove_two_factor(*, request, user):
    flows.disable(user=user, by=request.user, reason="removed by an operator")
    return f"Two-factor authentication removed for {user.get_username()}: they log in with the password alone."


def _has_two_factor(user):
    return (
        TOTPDevice.objects.filter(user=user).exists()
        or StaticDevice.objects.filter(user=user).exists()
        or WebAuthnCredential.objects.filter(user=user).exists()
    )


accounts_admin.add_user_inline(TOTPDeviceInline)
accounts_admin.add_user_inline(RecoveryCodesInline)
accounts_admin.add_user_inline(PasskeyInline)
accounts_admin.add_user_action(remove_two_factor)
accounts_admin.add_user_button(
    name="remove-two-factor", label="Remove two-factor", run=_remove_two_factor, shown=_has_two_factor
)
