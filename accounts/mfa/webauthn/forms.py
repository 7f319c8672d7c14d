from django import forms
from django.contrib.auth import authenticate

from accounts import lockout
from accounts.forms import PlainLabels

from .. import flows as mfa_flows
from .flows import NAME_MAX_LENGTH


class PasskeyNameForm(PlainLabels, forms.Form):
    name = forms.CharField(label="Name", max_length=NAME_MAX_LENGTH, required=False, strip=True)


class RemovePasskeyForm(PlainLabels, forms.Form):
    """The password, or a current code from the authenticator app (or a recovery code), asked
    again; the password is checked under the login lockout, a code under django-otp's delay."""

    password = forms.CharField(
        label="Your password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label="Or a code from your authenticator app",
        required=False,
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )

    def __init__(self, *args, user, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request

    def clean(self):
        password, code = self.cleaned_data.get("password"), self.cleaned_data.get("code")
        if code:
            try:
                mfa_flows.verify(user=self.user, code=code)
            except mfa_flows.MFAError as exc:
                raise forms.ValidationError(str(exc), code="code_incorrect") from exc
        elif password:
            self._check_password(password)
        else:
            raise forms.ValidationError("Enter your password (or a code).", code="required")
        return self.cleaned_data

    def _check_password(self, password):
        username = self.user.get_username()
        with lockout.browser_login_attempt(self.request, username=username):
            checked = authenticate(self.request, username=username, password=password)
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError("That is not your password.", code="password_incorrect")
