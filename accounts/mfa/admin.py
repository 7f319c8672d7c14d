"""Two-factor devices in the admin: seen on the user's page, removed there ("Delete?" on the
authenticator app) or with the user list's action, both through the flow (its signal and audit
event). django-otp's own device admins are not offered: they show the
TOTP secret and its QR code to every operator, and deleting rows there would skip the flow."""

from django.contrib import admin, messages
from django.forms.models import BaseInlineFormSet
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import admin as accounts_admin
from core.admin import ReadOnlyAdminMixin

from . import flows
from .models import WebAuthnCredential

for model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class DeviceRemovalFormSet(BaseInlineFormSet):
    """Deleting the device on the user's page removes the user's second factors through the
    flow (the recovery codes too; the signal, the audit event, the user's sessions ended)."""

    operator = None  # the request's user, set by the inline

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:  # the tabular inline's checkbox has no label of its own
            label = "Remove this authenticator app and the recovery codes"
            form.fields["DELETE"].widget.attrs["aria-label"] = label

    def delete_existing(self, obj, commit=True):
        if commit:
            flows.disable(user=obj.user, by=self.operator, reason="removed by an operator")


class TOTPDeviceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TOTPDevice
    formset = DeviceRemovalFormSet
    verbose_name = "authenticator app"
    fields = readonly_fields = ("name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    extra = 0
    allow_delete = True  # "Delete?" on the user's page: see DeviceRemovalFormSet

    def has_delete_permission(self, request, obj=None):
        # As the list's action: whoever may change the user may remove their second factor.
        return request.user.has_perm("accounts.change_user")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.operator = request.user
        return formset


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
