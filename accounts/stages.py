"""Login stages: what happens between a correct password and a logged-in browser.

The extension point for a second factor (accounts/mfa), a forced password change, accepting new
terms… — laid out like django-allauth's `account/stages.py`. Without any stage registered, a
correct password logs in at once, as Django's LoginView does.

After the password is checked (accounts.views.LoginView), `begin` asks each registered stage, in
registration order, whether it applies to this user. If none does, the user is logged in. If one
does, the login is *pending*: kept in the browser's Django session (the user's id, the
authentication backend, where to go afterwards, the methods used so far — `amr`, RFC 8176 —, and
when the password was checked), and the stage's `start` answers (typically a redirect to its page,
e.g. "enter the code from your app"). The stage's own view finds the pending login with `pending`,
and once satisfied calls `advance`, which moves to the next applicable stage or completes the
login: `django.contrib.auth.login` (new session key, `user_logged_in`, the SSO session starts with
every method collected) and a redirect to where the person was going. `abandon` drops it (e.g.
"cancel"). A pending login expires after `LOGIN_STAGE_TIMEOUT_SECONDS`; nothing of it is trusted
from the browser (it lives server-side in the session).

A stage is an object with:
- `key`: a short unique name ("mfa");
- `applies(*, request, user) -> bool`;
- `start(*, request, user) -> HttpResponse`.
Register one in AppConfig.ready: `stages.register(TOTPStage())`.

Step-up: a browser already logged in may be asked for more (an OpenID Connect client asking
for two factors, `acr_values`): `begin` with the session's methods as `amr` and what is asked
as `require` (e.g. {SECOND_FACTOR}); stages read it with `requirements(request)` in `applies`.
The completed login then records the session's methods and the new ones.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.http import HttpResponseRedirect

PENDING_SESSION_KEY = "identity_pending_login"
# The request attribute that tells `user_logged_in` receivers (sso's session) how the user
# authenticated, as RFC 8176 `amr` values.
AMR_REQUEST_ATTRIBUTE = "identity_amr"
# What a login may be asked to include beyond the password (`begin(require=...)`).
SECOND_FACTOR = "second_factor"
_REQUIREMENTS_ATTRIBUTE = "identity_login_requirements"
_METHODS_ATTRIBUTE = "identity_login_methods"

_stages = []


def register(stage):
    """Add `stage` (replacing a stage with the same key, in its place)."""
    for index, existing in enumerate(_stages):
        if existing.key == stage.key:
            _stages[index] = stage
            return
    _stages.append(stage)


def unregister(key):
    _stages[:] = [stage for stage in _stages if stage.key != key]


def registered():
    return list(_stages)


@dataclass(frozen=True)
class PendingLogin:
    """A login whose password was right and whose stages are not all done."""

    user: object
    backend: str
    redirect_to: str
    amr: tuple
    stage: str  # the key of the stage being done
    started_at: int


def begin(request, *, user, redirect_to, amr=("pwd",), require=()):
    """The password was right (or, for a step-up, the browser is logged in as `user` with the
    methods `amr`): run the first stage that applies, or log in. `require`: what the login
    must include (SECOND_FACTOR), for the stages to read with `requirements`."""
    backend = getattr(user, "backend", None) or settings.AUTHENTICATION_BACKENDS[0]
    state = {"user_id": user.pk, "backend": backend, "redirect_to": redirect_to, "amr": list(amr)}
    state["require"] = sorted(require)
    state["started_at"] = int(time.time())
    return _next(request, user, state, after=None)


def step_up(request, *, redirect_to, amr, require):
    """The logged-in browser must add `require` to its login (which used `amr`): the stages
    that apply, then the login again (same user, same backend), or at once if none does."""
    user = auth.get_user_model()._default_manager.get(pk=request.user.pk)
    user.backend = request.session.get(auth.BACKEND_SESSION_KEY) or settings.AUTHENTICATION_BACKENDS[-1]
    return begin(request, user=user, redirect_to=redirect_to, amr=amr, require=require)


def pending(request, *, stage=None):
    """The pending login of this browser (for `stage`, when given), or None if there is none,
    it expired, or its user can no longer log in."""
    state = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(state, dict) or (stage is not None and state.get("stage") != stage):
        return None
    if time.time() - state.get("started_at", 0) > settings.LOGIN_STAGE_TIMEOUT_SECONDS:
        abandon(request)
        return None
    user = auth.get_user_model()._default_manager.filter(pk=state["user_id"], is_active=True).first()
    if user is None:
        abandon(request)
        return None
    return PendingLogin(
        user=user,
        backend=state["backend"],
        redirect_to=state["redirect_to"],
        amr=tuple(state["amr"]),
        stage=state["stage"],
        started_at=state["started_at"],
    )


def advance(request, *, stage, amr=()):
    """`stage` is satisfied (adding the methods `amr`): the next stage that applies, or the login.

    Raises LookupError when there is no pending login for that stage (expired, or another
    stage's): the caller answers as for a login that timed out."""
    login = pending(request, stage=stage)
    if login is None:
        raise LookupError("No pending login for this stage.")
    state = dict(request.session[PENDING_SESSION_KEY])
    state["amr"] = sorted(set(state["amr"]) | set(amr))
    return _next(request, login.user, state, after=stage)


def requirements(request):
    """What the login being decided must include (`begin(require=...)`), for `applies`."""
    return getattr(request, _REQUIREMENTS_ATTRIBUTE, frozenset())


def methods(request):
    """The methods (RFC 8176) the login being decided used so far, for `applies` (a passkey
    login without a password already has its second factor)."""
    return getattr(request, _METHODS_ATTRIBUTE, frozenset())


def abandon(request):
    """Forget this browser's pending login, if any."""
    request.session.pop(PENDING_SESSION_KEY, None)


def _next(request, user, state, *, after):
    keys = [stage.key for stage in _stages]
    remaining = _stages[keys.index(after) + 1 :] if after in keys else list(_stages)
    setattr(request, _REQUIREMENTS_ATTRIBUTE, frozenset(state.get("require", ())))
    setattr(request, _METHODS_ATTRIBUTE, frozenset(state["amr"]))
    for stage in remaining:
        if stage.applies(request=request, user=user):
            request.session[PENDING_SESSION_KEY] = {**state, "stage": stage.key}
            return stage.start(request=request, user=user)
    return _complete(request, user, state)


def _complete(request, user, state):
    abandon(request)
    setattr(request, AMR_REQUEST_ATTRIBUTE, list(state["amr"]))
    auth.login(request, user, backend=state["backend"])
    return HttpResponseRedirect(state["redirect_to"])
