from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils import timezone
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import revoke_access_token

from core.admin import ReadOnlyAdminMixin

from . import flows
from .models import BackchannelLogout, Client, Consent, InitialAccessToken, SigningKey

# django-oauth-toolkit registers these classes itself (see the *_ADMIN_CLASS settings).


class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "client_type", "grant_types", "skip_authorization", "created")
    list_filter = ("client_type", "skip_authorization", "can_introspect_any")
    search_fields = ("name", "client_id")
    # The RFC 7591 metadata a client registered over HTTP stated; the client changes it (PUT).
    readonly_fields = (
        "client_id",
        "token_endpoint_auth_method",
        "contacts",
        "registered_over_http",
        "created",
        "updated",
    )
    fields = (
        "name",
        "client_id",
        "client_type",
        "grant_types",
        "redirect_uris",
        "post_logout_redirect_uris",
        "allowed_origins",
        "allowed_scopes",
        "require_pkce",
        "skip_authorization",
        "can_introspect_any",
        "backchannel_logout_uri",
        "backchannel_logout_session_required",
        "logo_uri",
        "client_uri",
        "policy_uri",
        "tos_uri",
        "token_endpoint_auth_method",
        "contacts",
        "registered_over_http",
        "created",
        "updated",
    )
    actions = ["rotate_secret"]
    help_texts = {
        "allowed_origins": (
            "Public browser apps only: the origins (scheme://host[:port], no path; https, or http on "
            "loopback) whose scripts may call the token, revocation, userinfo and API endpoints (CORS). "
            "Space-separated."
        ),
    }

    @admin.display(boolean=True, description="registered over HTTP (RFC 7591)")
    def registered_over_http(self, obj):
        return bool(obj.registration_access_token_checksum)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.help_texts:
            kwargs["help_text"] = self.help_texts[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # A URL typed without a scheme is https (Django 6's default; say it now, silently).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.action(description="Generate a new client secret (shown once)")
    def rotate_secret(self, request, queryset):
        for client in queryset.filter(client_type=Client.CLIENT_CONFIDENTIAL):
            secret = generate_client_secret()
            client.client_secret = secret
            client.save(update_fields=["client_secret", "updated"])
            # Shown once, to the operator who asked; only its hash is stored.
            self.message_user(request, f"New secret for {client.client_id}: {secret}", messages.WARNING)

    def save_model(self, request, obj, form, change):
        if not change and obj.client_type == Client.CLIENT_CONFIDENTIAL:
            secret = generate_client_secret()
            obj.client_secret = secret
            super().save_model(request, obj, form, change)
            self.message_user(request, f"Client secret (shown once): {secret}", messages.WARNING)
        else:
            super().save_model(request, obj, form, change)


class AccessTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "application", "scope", "expires", "created")
    list_select_related = ("user", "application")
    search_fields = ("user__username", "application__client_id", "jti")
    raw_id_fields = ("user", "application", "source_refresh_token", "id_token")
    readonly_fields = ("token_checksum", "jti", "token_family")
    exclude = ("token", "sid")  # the sid is a bearer-ish secret (sso.models.SSOSession)
    actions = ["revoke"]

    @admin.action(description="Revoke selected access tokens (and their refresh tokens)")
    def revoke(self, request, queryset):
        for token in queryset:
            revoke_access_token(token)


class RefreshTokenAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "application", "created", "revoked")
    list_select_related = ("user", "application")
    search_fields = ("user__username", "application__client_id")
    raw_id_fields = ("user", "application", "access_token")
    readonly_fields = ("token_checksum", "token_family")
    exclude = ("token", "sid")
    actions = ["revoke"]

    @admin.action(description="Revoke selected refresh tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token.revoke()


class GrantAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "application", "expires", "redeemed_at")
    list_select_related = ("user", "application")
    raw_id_fields = ("user", "application")
    exclude = ("code", "sid")


class IDTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "user", "application", "expires")
    raw_id_fields = ("user", "application")


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Signing keys, read-only: rows change only through the rotation flow. The private key,
    even encrypted, is never loaded here."""

    list_display = ("kid", "state", "algorithm", "created_at", "activated_at", "retired_at")
    list_filter = ("state",)
    search_fields = ("kid",)
    fields = ("kid", "algorithm", "state", "public_jwk", "created_at", "activated_at", "retired_at")
    readonly_fields = fields
    actions = ["rotate", "rotate_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("private_key")

    # Deleting a key would refuse every token it signed: retirement does it when safe.
    allow_delete = False

    def has_rotate_permission(self, request):
        return request.user.has_perm("oauth.rotate_signingkey")

    @admin.action(description="Run the scheduled key rotation, as cron does (select any key)", permissions=["rotate"])
    def rotate(self, request, queryset):
        self._rotate(request, force=False)

    @admin.action(
        description="Emergency: rotate now, the next key signs at once (select any key)", permissions=["rotate"]
    )
    def rotate_now(self, request, queryset):
        self._rotate(request, force=True)

    def _rotate(self, request, *, force):
        try:
            result = flows.rotate_signing_keys(force=force)
        except ImproperlyConfigured as exc:
            self.message_user(request, f"The rotation failed: {exc}", messages.ERROR)
            return
        self.message_user(request, f"Signing keys: {result}.", messages.SUCCESS)


@admin.register(BackchannelLogout)
class BackchannelLogoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The back-channel logout outbox, read-only (the sid is not shown: it is a bearer-ish secret)."""

    list_display = ("id", "client", "created_at", "attempts", "next_attempt_at", "delivered_at", "last_error")
    list_filter = ("delivered_at",)
    list_select_related = ("client",)
    search_fields = ("client__client_id",)
    fields = ("client", "subject", "jti", "created_at", "attempts", "next_attempt_at", "delivered_at", "last_error")
    readonly_fields = fields
    allow_delete = True  # forgets a delivery (a pending one is then never sent)


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What people allowed each client. Read-only; "Revoke access" does what the connected apps
    page does (ends the client's tokens for the user, forgets the consent). Deleting a row only
    forgets the consent: the next authorization request asks again."""

    list_display = ("user", "client", "scopes", "created_at", "updated_at")
    list_select_related = ("user", "client")
    search_fields = ("user__username", "client__client_id", "client__name")
    list_filter = ("client",)
    fields = ("user", "client", "scopes", "created_at", "updated_at")
    readonly_fields = fields
    actions = ["revoke_access"]
    allow_delete = True

    @admin.action(description="Revoke access (end the client's tokens for these users, forget the consent)")
    def revoke_access(self, request, queryset):
        consents = list(queryset.select_related("user", "client"))
        for consent in consents:
            flows.revoke_app_access(user=consent.user, client=consent.client)
        self.message_user(request, f"Revoked the access of {len(consents)} app(s) for their users.")


class InitialAccessTokenForm(forms.ModelForm):
    # One labelled input (the admin's split date and time inputs have no labels of their own).
    expires_at = forms.DateTimeField(
        label="Expires at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Local time of the server's time zone.",
    )

    class Meta:
        model = InitialAccessToken
        fields = ("label", "expires_at", "uses_left")

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at <= timezone.now():
            raise forms.ValidationError("Choose a time in the future.")
        return expires_at

    def clean_uses_left(self):
        uses = self.cleaned_data["uses_left"]
        if self.instance.pk is None and uses < 1:
            raise forms.ValidationError("A new token needs at least one use.")
        return uses


@admin.register(InitialAccessToken)
class InitialAccessTokenAdmin(admin.ModelAdmin):
    """Initial access tokens for client registration over HTTP (RFC 7591 3). Adding one issues
    a token, shown once in a message; only its hash is stored. Delete a row to withdraw it."""

    form = InitialAccessTokenForm
    list_display = ("label", "created_at", "expires_at", "uses_left", "created_by")
    list_select_related = ("created_by",)
    search_fields = ("label",)
    readonly_fields = ("created_at", "created_by")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("label", "expires_at", "uses_left")
        return ("label", "expires_at", "uses_left", "created_at", "created_by")

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        row, token = flows.issue_initial_access_token(
            expires_in=obj.expires_at - timezone.now(), uses=obj.uses_left, label=obj.label, created_by=request.user
        )
        obj.pk = row.pk
        obj.checksum, obj.created_at, obj.created_by = row.checksum, row.created_at, row.created_by
        # Shown once, to the operator who asked; only its hash is stored.
        self.message_user(request, f"Initial access token (shown once): {token}", messages.WARNING)
