import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import revoke_access_token

from accounts import admin as accounts_admin
from core.admin import ReadOnlyAdminMixin, labelled, shown_once_page

from . import flows
from .models import GRANT_TYPES, BackchannelLogout, Client, Consent, InitialAccessToken, SigningKey

PASSWORD_GRANT_WARNING = (
    "This client has the password grant, which is deprecated (RFC 9700 2.4: it MUST NOT be used). "
    "It works only while OAUTH_PASSWORD_GRANT_ENABLED is on; move the client to the authorization "
    "code flow and remove it."
)

# django-oauth-toolkit registers these classes itself (see the *_ADMIN_CLASS settings).


def _lines(value):
    """A space-separated list as a textarea shows it: one item per line."""
    return "\n".join((value or "").split())


class LinesField(forms.CharField):
    """A space-separated list of URIs edited one per line (Client.clean validates each)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60, "spellcheck": "false", "autocapitalize": "off"})

    def prepare_value(self, value):
        return _lines(value)

    def to_python(self, value):
        return " ".join((value or "").split())


class WordsField(forms.MultipleChoiceField):
    """A space-separated list of known words (grant types, scopes) as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def prepare_value(self, value):
        return value.split() if isinstance(value, str) else value

    def clean(self, value):
        return " ".join(super().clean(value))


GRANT_TYPE_LABELS = {
    "authorization_code": "authorization_code: people sign in through the browser",
    "refresh_token": "refresh_token: the client keeps people signed in",
    "client_credentials": "client_credentials: the client acts on its own (no user)",
    "password": (
        "password: the client collects passwords (deprecated, RFC 9700 2.4: MUST NOT be used; works "
        "only while OAUTH_PASSWORD_GRANT_ENABLED is on)"
    ),
}


AUTH_METHOD_CHOICES = [
    ("", "Either: HTTP Basic or in the body"),
    ("client_secret_basic", "client_secret_basic: HTTP Basic only"),
    ("client_secret_post", "client_secret_post: client_id and client_secret in the body only"),
    ("none", "none: a public client (no secret)"),
]


def _scope_choices():
    return [(name, f"{name}: {description}") for name, description in settings.OAUTH_SCOPES.items()]


class ClientAdminForm(forms.ModelForm):
    grant_types = WordsField(
        choices=[(g, GRANT_TYPE_LABELS.get(g, g)) for g in GRANT_TYPES],
        label="Grant types",
        help_text=(
            "The password grant is deprecated (RFC 9700 2.4: MUST NOT be used): it works only while "
            "OAUTH_PASSWORD_GRANT_ENABLED is on; move such clients to the authorization code flow."
        ),
    )
    allowed_scopes = WordsField(
        choices=_scope_choices,
        required=False,
        label="Allowed scopes",
        help_text="The scopes this client may ask for. None ticked: every scope except "
        + ", ".join(sorted(settings.OAUTH_EXPLICIT_SCOPES))
        + ", which must be ticked to be allowed.",
    )
    redirect_uris = LinesField(
        required=False,
        label="Redirect URIs",
        help_text="One per line, matched exactly. https (http only on loopback), no fragment, no wildcards.",
    )
    post_logout_redirect_uris = LinesField(
        required=False,
        label="Post-logout redirect URIs",
        help_text="One per line: where RP-initiated logout may send the browser back (same rules).",
    )
    allowed_origins = LinesField(
        required=False,
        label="Allowed origins (CORS)",
        help_text=(
            "Public browser apps only: one origin per line (scheme://host[:port], no path; https, or "
            "http on loopback) whose scripts may call the token, revocation, userinfo and API endpoints."
        ),
    )
    token_endpoint_auth_method = forms.ChoiceField(
        choices=AUTH_METHOD_CHOICES,
        required=False,
        label="Client authentication",
        help_text=(
            "How the client sends its secret to the token, introspection and revocation endpoints; "
            "the other way is refused (invalid_client). Public clients: none, or empty."
        ),
    )
    audience = LinesField(
        required=False,
        label="Access token audience",
        help_text=(
            "One API identifier (URI) per line: the access tokens' aud. Empty: this server's APIs ("
            + settings.ACCESS_TOKEN_AUDIENCE
            + "). Include it too if the client also calls this server's APIs or UserInfo."
        ),
    )

    class Meta:
        model = Client
        fields = ("name",)  # the admin's fieldsets say which (its factory builds the rest)
        labels = {
            "skip_authorization": "Trusted (skip the consent page)",
            "can_introspect_any": "Resource server (may introspect any client's tokens)",
        }
        help_texts = {
            "skip_authorization": "People are not asked to approve this client: for first-party apps only.",
        }


class ClientAdmin(admin.ModelAdmin):
    """OAuth clients. The secret is never shown, except once: on the page after the client is
    created and after "Rotate secret" (oauth.flows.rotate_client_secret)."""

    form = ClientAdminForm
    change_form_template = "admin/oauth/client/change_form.html"
    list_display = ("name", "client_id", "client_type", "grants", "trusted", "created")
    list_filter = ("client_type", "skip_authorization", "can_introspect_any", "require_pkce")
    search_fields = ("name", "client_id")
    # The RFC 7591 contacts a client registered over HTTP stated; the client changes them (PUT).
    readonly_fields = (
        "client_id",
        "secret_state",
        "contacts",
        "registered_over_http",
        "created",
        "updated",
    )
    fieldsets = (
        (None, {"fields": ("name", "client_id", "client_type", "secret_state", "token_endpoint_auth_method")}),
        (
            "Grants",
            {
                "fields": (
                    "grant_types",
                    "redirect_uris",
                    "require_pkce",
                    "post_logout_redirect_uris",
                    "allowed_origins",
                )
            },
        ),
        ("Scopes and consent", {"fields": ("allowed_scopes", "skip_authorization", "can_introspect_any")}),
        (
            "Tokens",
            {
                "fields": ("access_token_lifetime", "refresh_token_lifetime", "id_token_lifetime", "audience"),
                "description": "Empty lifetimes are the server's settings.",
            },
        ),
        ("Consent page", {"fields": ("logo_uri", "client_uri", "policy_uri", "tos_uri")}),
        ("Back-channel logout", {"fields": ("backchannel_logout_uri", "backchannel_logout_session_required")}),
        (
            "Registration over HTTP (RFC 7591)",
            {"fields": ("registered_over_http", "contacts")},
        ),
        (None, {"fields": ("created", "updated")}),
    )

    @admin.display(boolean=True, description="registered over HTTP (RFC 7591)")
    def registered_over_http(self, obj):
        return bool(obj.registration_access_token_checksum)

    # A URL typed without a scheme is https (Django 6's default; say it now, silently).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_readonly_fields(self, request, obj=None):
        # A confidential client turned public would keep a secret, and a public one turned
        # confidential would have none: the type is chosen once.
        return (*self.readonly_fields, "client_type") if obj is not None else self.readonly_fields

    @admin.display(description="grant types")
    def grants(self, client):
        return ", ".join(client.grant_type_list)

    @admin.display(description="trusted", boolean=True, ordering="skip_authorization")
    def trusted(self, client):
        return client.skip_authorization

    @admin.display(description="secret")
    def secret_state(self, client):
        if client.pk is None:
            return "Generated when a confidential client is saved, and shown once."
        if client.client_type != Client.CLIENT_CONFIDENTIAL:
            return "None (a public client)"
        return "Set (stored hashed; never shown again). Rotate it with the button above."

    def save_model(self, request, obj, form, change):
        if not change:
            # Generated here, shown once on the next page (response_add), stored hashed.
            secret = generate_client_secret() if obj.client_type == Client.CLIENT_CONFIDENTIAL else ""
            obj.client_secret = secret
            request._client_secret_shown_once = secret
        super().save_model(request, obj, form, change)
        if obj.allows_grant("password"):
            self.message_user(request, PASSWORD_GRANT_WARNING, messages.WARNING)

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_client_secret_shown_once", "")
        if not secret:
            return super().response_add(request, obj, post_url_continue)
        return self._secret_page(request, obj, secret, created=True)

    def get_urls(self):
        rotate = self.admin_site.admin_view(self.rotate_secret_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_rotate_secret"
        return [path("<path:object_id>/rotate-secret/", rotate, name=name), *super().get_urls()]

    @method_decorator(require_POST)
    def rotate_secret_view(self, request, object_id):
        client = self.get_object(request, unquote(object_id))
        if client is None:
            raise Http404("No such client.")
        if not self.has_change_permission(request, client):
            raise PermissionDenied
        try:
            secret = flows.rotate_client_secret(client=client, actor=request.user)
        except flows.ClientError:
            self.message_user(request, "A public client has no secret to rotate.", messages.ERROR)
            return redirect(reverse("admin:oauth_client_change", args=[client.pk]))
        return self._secret_page(request, client, secret, created=False)

    def _secret_page(self, request, client, secret, *, created):
        if created:
            intro = f"The client “{client.name}” was created."
        else:
            intro = f"“{client.name}” has a new secret: the old one no longer works."
        return shown_once_page(
            self,
            request,
            client,
            title="Client secret",
            intro=intro,
            advice="Copy the secret now and give it to the client's developers",
            values=[("client_id", client.client_id, "client-id"), ("client_secret", secret, "client-secret")],
            back_label="Back to the client",
        )


# Operators' words for DOT's field names.
JTI = labelled("jti", "JWT ID")
CLIENT = labelled("application", "client")
ROW_ID = labelled("id", "#")
AUTH_TIME = labelled("auth_time", "authenticated at")


class ByClient(admin.RelatedFieldListFilter):
    """The token and code lists' filter by client, titled as the admin names clients (DOT's
    field is called `application`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "client"


class AccessTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Access tokens, read-only: issued by the token endpoint only. Neither the token nor its
    session id (a bearer-ish secret, sso.models.SSOSession) is shown; deleting a row revokes it."""

    show_full_result_count = False  # no COUNT(*) of the whole table on every page
    list_display = (JTI, "user", CLIENT, "scope", "expires", "created")
    list_select_related = ("user", "application")
    list_filter = (("application", ByClient), ("expires", admin.DateFieldListFilter))
    search_fields = ("=user__username", "=application__client_id", "=jti")
    fields = readonly_fields = (JTI, "user", CLIENT, "scope", "expires", "created", "token_family")
    actions = ["revoke"]
    allow_delete = True  # a deleted access token is a revoked one (oauth.receivers)

    @admin.action(description="Revoke selected access tokens (and their refresh tokens)", permissions=["delete"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset:
            revoke_access_token(token)
            count += 1
        self.message_user(request, f"{count} access token(s) revoked.", messages.SUCCESS)


class RefreshTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Refresh tokens, read-only; "Revoke" marks them revoked (and deletes their access token)."""

    show_full_result_count = False  # no COUNT(*) of the whole table on every page
    list_display = (ROW_ID, "user", CLIENT, "created", "revoked")
    list_select_related = ("user", "application")
    list_filter = (("application", ByClient), ("revoked", admin.EmptyFieldListFilter))
    search_fields = ("=user__username", "=application__client_id")
    fields = readonly_fields = ("user", CLIENT, "created", "updated", "revoked", "token_family", AUTH_TIME)
    actions = ["revoke"]

    def has_revoke_permission(self, request):
        return request.user.has_perm("oauth.change_refreshtoken")

    @admin.action(description="Revoke selected refresh tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        count = 0
        for token in queryset:
            token.revoke()
            count += 1
        self.message_user(request, f"{count} refresh token(s) revoked.", messages.SUCCESS)


class GrantAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Authorization codes, read-only (the code itself is never shown)."""

    show_full_result_count = False  # no COUNT(*) of the whole table on every page
    list_display = (ROW_ID, "user", CLIENT, "expires", "redeemed_at")
    list_select_related = ("user", "application")
    list_filter = (("application", ByClient), ("redeemed_at", admin.EmptyFieldListFilter))
    search_fields = ("=user__username", "=application__client_id")
    fields = readonly_fields = ("user", CLIENT, "scope", "redirect_uri", "created", "expires", "redeemed_at")


class IDTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """ID tokens issued (their rows: the token itself is not stored)."""

    show_full_result_count = False  # no COUNT(*) of the whole table on every page
    list_display = (JTI, "user", CLIENT, "expires")
    list_select_related = ("user", "application")
    list_filter = (("application", ByClient),)
    search_fields = ("=user__username", "=application__client_id", "=jti")
    fields = readonly_fields = (JTI, "user", CLIENT, "scope", "created", "expires")


@admin.display(description="public JWK")
def public_jwk(key):
    return format_html("<pre>{}</pre>", json.dumps(key.public_jwk, indent=2, sort_keys=True))


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Signing keys, read-only: rows change only through the rotation flow. The private key,
    even encrypted, is never loaded here."""

    list_display = ("kid", "state", "created_at", "activated_at", "retired_at")  # RS256 only: no algorithm
    list_filter = ("state",)
    search_fields = ("kid",)
    fields = (
        "kid",
        "algorithm",
        "state",
        public_jwk,
        "created_at",
        "activated_at",
        "retired_at",
    )
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


class ConnectedAppInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The apps the user approved, on their admin page ("Revoke access" is on the consents
    page, which the link opens)."""

    model = Consent
    fk_name = "user"
    verbose_name = "connected app"
    verbose_name_plural = "connected apps (consents)"
    fields = readonly_fields = ("client", "scopes", "created_at", "updated_at")
    extra = 0
    can_delete = False
    show_change_link = True


accounts_admin.add_user_inline(ConnectedAppInline)


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
    a token, shown once on the page that answers the POST; only its hash is stored. Delete a row to withdraw it."""

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
        # Shown once, on the page that answers this POST (response_add); only its hash is stored.
        request._initial_access_token_shown_once = token

    def response_add(self, request, obj, post_url_continue=None):
        token = request._initial_access_token_shown_once
        expires = timezone.localtime(obj.expires_at).strftime("%Y-%m-%d %H:%M %Z")
        uses = f"{obj.uses_left} client{'s' if obj.uses_left != 1 else ''}"
        label = f" for “{obj.label}”" if obj.label else ""
        return shown_once_page(
            self,
            request,
            obj,
            title="Initial access token",
            intro=f"An initial access token{label} was issued: it registers up to {uses} until {expires}.",
            advice="Copy it now and give it to the developer who registers the client (as a Bearer token)",
            values=[("initial access token", token, "initial-access-token")],
            back_label="Back to the token",
        )
