from django import forms
from django.contrib.auth import authenticate

from accounts import lockout
from accounts.forms import PlainLabels


class CodeForm(PlainLabels, forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class TrustedCodeForm(CodeForm):
    """The code step's form; with "trust this browser" when MFA_TRUST_BROWSER_DAYS is set."""

    def __init__(self, *args, trust_days=0, **kwargs):
        super().__init__(*args, **kwargs)
        if trust_days > 0:
            self.fields["trust"] = forms.BooleanField(
                label=f"Trust this browser for {trust_days} days (no code asked here at login)",
                required=False,
                template_name="mfa/checkbox_field.html",
            )


class ConfirmTOTPForm(PlainLabels, forms.Form):
    code = forms.CharField(
        label="Code from your app",
        max_length=12,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordForm(PlainLabels, forms.Form):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    """The password asked again, checked as a login is: under the login lockout (a stolen
    session cannot guess it here faster than at the login page; see accounts.forms)."""

    def __init__(self, *args, user, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request

    def clean_password(self):
        password = self.cleaned_data["password"]
        username = self.user.get_username()
        with lockout.browser_login_attempt(self.request, username=username):
            checked = authenticate(self.request, username=username, password=password)
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError("That is not your password.", code="password_incorrect")
        return password
