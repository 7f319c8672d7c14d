"""The login stage that asks for a second factor after the password (accounts.stages): the code
step for a user with a confirmed device; enrolment for one without, when the login must include
a second factor (a step-up)."""

from django.shortcuts import redirect

from accounts import stages

from . import flows

KEY = "mfa"


class MFAStage:
    key = KEY

    def applies(self, *, request, user):
        return flows.is_enabled(user) or stages.SECOND_FACTOR in stages.requirements(request)

    def start(self, *, request, user):
        return redirect("mfa:authenticate" if flows.is_enabled(user) else "mfa:enrol")
