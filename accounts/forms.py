from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .validators import USERNAME_PATTERN


class LoginForm(AuthenticationForm):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autofocus": True}))
    password = forms.CharField(
        max_length=256, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class RegistrationForm(forms.Form):
    username = forms.RegexField(
        regex=USERNAME_PATTERN,
        max_length=150,
        help_text="ASCII letters, digits and @/./+/-/_ only.",
        error_messages={"invalid": "Use only ASCII letters, digits and @/./+/-/_."},
    )
    email = forms.EmailField(max_length=254)
    password = forms.CharField(
        max_length=256, strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
