from django.contrib import admin, messages
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import revoke_access_token

from .models import Client

# django-oauth-toolkit registers these classes itself (see the *_ADMIN_CLASS settings).


class ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "client_id", "client_type", "grant_types", "skip_authorization", "created")
    list_filter = ("client_type", "skip_authorization", "can_introspect_any")
    search_fields = ("name", "client_id")
    readonly_fields = ("client_id", "created", "updated")
    fields = (
        "name",
        "client_id",
        "client_type",
        "grant_types",
        "redirect_uris",
        "post_logout_redirect_uris",
        "allowed_scopes",
        "skip_authorization",
        "can_introspect_any",
        "created",
        "updated",
    )
    actions = ["rotate_secret"]

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
    exclude = ("token",)
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
    exclude = ("token",)
    actions = ["revoke"]

    @admin.action(description="Revoke selected refresh tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            token.revoke()


class GrantAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "application", "expires", "redeemed_at")
    list_select_related = ("user", "application")
    raw_id_fields = ("user", "application")
    exclude = ("code",)


class IDTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "user", "application", "expires")
    raw_id_fields = ("user", "application")
