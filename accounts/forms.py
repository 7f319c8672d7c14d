from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm
from django.db import models
from django.forms.models import fields_for_model
from django.utils.text import capfirst

from . import claims, lockout
from .validators import USERNAME_PATTERN


class PlainLabels:
    """Labels without Django's trailing colon: they stand above their inputs."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(PlainLabels, AuthenticationForm):
    username = forms.CharField(
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        max_length=256, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RegistrationForm(PlainLabels, forms.Form):
    username = forms.RegexField(
        regex=USERNAME_PATTERN,
        max_length=150,
        help_text="ASCII letters, digits and @/./+/-/_ only.",
        error_messages={"invalid": "Use only ASCII letters, digits and @/./+/-/_."},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        max_length=256, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class PasswordChangeForm(PlainLabels, auth_forms.PasswordChangeForm):
    """Django's form, with the current password checked as a login is: through authenticate()
    under the login lockout (accounts.lockout). A stolen session cannot guess the password here
    faster than at the login page: wrong answers count toward the same (username, client IP)
    limit, and once it is reached the page answers 429, whatever the password."""

    def __init__(self, user, *args, request, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = "Current password"
        self.fields["new_password2"].label = "New password again"

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        username = self.user.get_username()
        with lockout.browser_login_attempt(self.request, username=username):
            checked = authenticate(self.request, username=username, password=old_password)
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordResetForm(PlainLabels, auth_forms.PasswordResetForm):
    """Django's form; the mail is accounts.flows.request_password_reset's (save() is not used)."""


class SetPasswordForm(PlainLabels, auth_forms.SetPasswordForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].widget.attrs["autofocus"] = True
        self.fields["new_password2"].label = "New password again"


# The browser's autofill names (HTML "autocomplete" tokens) for the profile's fields.
_AUTOCOMPLETE = {
    "first_name": "given-name",
    "middle_name": "additional-name",
    "last_name": "family-name",
    "nickname": "nickname",
    "picture": "photo",
    "website": "url",
    "gender": "sex",
    "birthdate": "bday",
    "zoneinfo": "off",
    "locale": "language",
    "phone_number": "tel",
    "address_street_address": "street-address",
    "address_locality": "address-level2",
    "address_region": "address-level1",
    "address_postal_code": "postal-code",
    "address_country": "country-name",
}


def _formfield(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return db_field.formfield(**kwargs)


class ProfileForm(PlainLabels, forms.Form):
    """The profile a person edits on the account page: the standard claims (accounts.claims),
    with the User model's validation. Not a ModelForm: accounts.flows.update_profile compares
    the new values with the user's before saving them."""

    # The sections of the page, in order.
    SECTIONS = (
        ("Name and profile", claims.PROFILE_FIELDS),
        ("Contact", ("email", "phone_number")),
        ("Postal address", tuple(f"address_{f}" for f in claims.ADDRESS_FIELDS)),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(
            get_user_model(),
            fields=[f for f in claims.EDITABLE_FIELDS if f != "email"],
            formfield_callback=_formfield,
        )
        for name in claims.EDITABLE_FIELDS:
            if name == "email":
                self.fields[name] = forms.EmailField(
                    label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
                )
                continue
            field = model_fields[name]
            # A model field's own validators run in full_clean, not in its form field.
            own = get_user_model()._meta.get_field(name).validators
            field.validators += [v for v in own if v.__module__ == claims.__name__]
            field.widget.attrs["autocomplete"] = _AUTOCOMPLETE[name]
            if name == "birthdate":
                field.widget = forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d")
            if name == "address_street_address":
                field.widget.attrs["rows"] = 2
            self.fields[name] = field
        for field in self.fields.values():
            field.label = capfirst(field.label)

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]
