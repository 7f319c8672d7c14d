"""Signals of two-factor authentication (documented contracts; the audit log will listen)."""

from django.dispatch import Signal

# Sent after a second factor was added and confirmed.
# Arguments: user (whose device), method ("totp").
mfa_enabled = Signal()

# Sent after a user's second factors were removed (by the user, or an operator in the admin).
# Arguments: user (whose devices), by (the user who removed them), reason (a short text).
mfa_disabled = Signal()

# Sent after a recovery code was used to log in. Arguments: user, remaining (codes left).
recovery_code_used = Signal()
