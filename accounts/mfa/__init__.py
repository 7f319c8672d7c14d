"""Two-factor authentication: TOTP authenticator apps and one-time recovery codes, on django-otp.

Laid out like django-allauth's `allauth/mfa/`: `totp.py` and `recovery_codes.py` (pure: the
otpauth URI, the QR code, code formats), `flows.py` (enrolment, verification, removal: the only
writer of django-otp's device tables), `stage.py` (the login stage that asks for a code after
the password, accounts.stages), `views.py` (thin), `signals.py`.
"""
