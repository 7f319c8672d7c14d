"""The login stage that asks for a second factor after the password (accounts.stages)."""

from django.shortcuts import redirect

from . import flows

KEY = "mfa"


class MFAStage:
    key = KEY

    def applies(self, *, request, user):
        return flows.is_enabled(user)

    def start(self, *, request, user):
        return redirect("mfa:authenticate")
