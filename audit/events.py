"""The security-event types: the one place they are spelled (callers name these constants).

Each is `<area>.<what happened>`. Only security events are recorded, not every request: token
issue and refresh are recorded only with AUDIT_TOKEN_EVENTS (off by default: the token
endpoint's statement budget).
"""

LOGIN_SUCCEEDED = "login.succeeded"
LOGIN_FAILED = "login.failed"
LOGIN_LOCKED_OUT = "login.locked_out"
LOGOUT = "session.logout"
LOGOUT_EVERYWHERE = "session.logout_everywhere"
SESSION_ENDED = "session.ended"
PASSWORD_CHANGED = "password.changed"
PASSWORD_RESET_REQUESTED = "password.reset_requested"
PASSWORD_RESET = "password.reset"
EMAIL_VERIFIED = "email.verified"
MFA_ENABLED = "mfa.enabled"
MFA_DISABLED = "mfa.disabled"
MFA_FAILED = "mfa.failed"
RECOVERY_CODE_USED = "mfa.recovery_code_used"
RECOVERY_CODES_REGENERATED = "mfa.recovery_codes_regenerated"
CONSENT_GRANTED = "consent.granted"
CONSENT_REVOKED = "consent.revoked"
CLIENT_CREATED = "client.created"
CLIENT_CHANGED = "client.changed"
CLIENT_SECRET_ROTATED = "client.secret_rotated"
CLIENT_DELETED = "client.deleted"
CLIENT_AUTH_LOCKED_OUT = "client.auth_locked_out"
CLIENT_REGISTERED = "client.registered"
CLIENT_REGISTRATION_REFUSED = "client.registration_refused"
REGISTRATION_TOKEN_ISSUED = "client.registration_token_issued"
SIGNING_KEY_ROTATED = "signing_key.rotated"
SIGNING_KEY_IMPORTED = "signing_key.imported"
TOKEN_ISSUED = "token.issued"
TOKEN_REFRESHED = "token.refreshed"
TOKEN_REVOKED = "token.revoked"
REFRESH_TOKEN_REUSED = "token.refresh_reuse_detected"
ROLE_ASSIGNED = "role.assigned"
ROLE_REMOVED = "role.removed"
ROLE_PERMISSIONS_CHANGED = "role.permissions_changed"
CODE_REPLAYED = "token.code_replay_detected"
USER_DISABLED = "user.disabled"
USER_ENABLED = "user.enabled"

DESCRIPTIONS = {
    LOGIN_SUCCEEDED: "Login succeeded",
    LOGIN_FAILED: "Login failed",
    LOGIN_LOCKED_OUT: "Login locked out",
    LOGOUT: "Logged out",
    LOGOUT_EVERYWHERE: "Logged out everywhere",
    SESSION_ENDED: "Session ended",
    PASSWORD_CHANGED: "Password changed",
    PASSWORD_RESET_REQUESTED: "Password reset requested",
    PASSWORD_RESET: "Password reset",
    EMAIL_VERIFIED: "Email address verified",
    MFA_ENABLED: "Two-factor enabled",
    MFA_DISABLED: "Two-factor disabled",
    MFA_FAILED: "Two-factor code refused",
    RECOVERY_CODE_USED: "Recovery code used",
    RECOVERY_CODES_REGENERATED: "Recovery codes regenerated",
    CONSENT_GRANTED: "Consent granted",
    CONSENT_REVOKED: "Consent revoked",
    CLIENT_CREATED: "Client created",
    CLIENT_CHANGED: "Client changed",
    CLIENT_SECRET_ROTATED: "Client secret rotated",
    CLIENT_DELETED: "Client deleted",
    CLIENT_AUTH_LOCKED_OUT: "Client authentication locked out",
    CLIENT_REGISTERED: "Client registered over HTTP",
    CLIENT_REGISTRATION_REFUSED: "Client registration refused",
    REGISTRATION_TOKEN_ISSUED: "Initial access token issued",
    SIGNING_KEY_ROTATED: "Signing key rotated",
    SIGNING_KEY_IMPORTED: "Signing key imported",
    TOKEN_ISSUED: "Token issued",
    TOKEN_REFRESHED: "Token refreshed",
    TOKEN_REVOKED: "Token revoked",
    REFRESH_TOKEN_REUSED: "Refresh token reuse detected",
    ROLE_ASSIGNED: "Role assigned",
    ROLE_REMOVED: "Role removed",
    ROLE_PERMISSIONS_CHANGED: "Role's permissions changed",
    CODE_REPLAYED: "Authorization code replay detected",
    USER_DISABLED: "User disabled",
    USER_ENABLED: "User enabled",
}
CHOICES = list(DESCRIPTIONS.items())

SUCCESS, FAILURE = "success", "failure"
OUTCOMES = [(SUCCESS, "Success"), (FAILURE, "Failure")]
