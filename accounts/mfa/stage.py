"""The login stage that asks for a second factor after the password (accounts.stages): the code
step for a user with a confirmed device (unless this browser is trusted, trust.py); enrolment for
one without, when the login must include a second factor (a step-up) or MFA_REQUIRED says the
user must have one (policy.py)."""

from django.shortcuts import redirect

from accounts import stages

from . import flows, policy, trust

KEY = "mfa"
# RFC 8176 methods that are a second factor: a login that used one needs no code step (a
# passwordless passkey login, accounts.mfa.webauthn).
SECOND_FACTOR_METHODS = frozenset({"otp", "hwk", "swk"})


class MFAStage:
    key = KEY

    def applies(self, *, request, user):
        if SECOND_FACTOR_METHODS & stages.methods(request):
            return False  # this login already used a second factor (a passwordless passkey)
        if stages.SECOND_FACTOR in stages.requirements(request):
            return True
        if flows.is_enabled(user):
            return not trust.is_trusted(request, user)
        return policy.required_for(user)

    def start(self, *, request, user):
        return redirect("mfa:authenticate" if flows.is_enabled(user) else "mfa:enrol")
