from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm

from . import lockout
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


class ProfileForm(PlainLabels, forms.Form):
    first_name = forms.CharField(
        label="First name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, required=False, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
