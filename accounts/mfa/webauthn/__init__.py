"""Passkeys (WebAuthn): a second factor after the password, and a passwordless login.

Built on py_webauthn (`webauthn`), not django-otp-webauthn: that library's views log the browser
in themselves (`django.contrib.auth.login` and django-otp's `login`), which would skip our login
stages (accounts.stages: nothing of the session exists before the second step succeeds, and the
SSO session records `amr`). Here the ceremonies are ours and the login goes through the stages.

- `models.py`: one `WebAuthnCredential` per registered passkey, a django-otp `Device` (so that
  "has a confirmed second factor" is one question for every kind of device).
- `ceremony.py`: the relying party (id and origin from ISSUER), the options of each ceremony,
  their one-time challenge kept in the Django session, and the verification.
- `flows.py`: registration, use (second factor or passwordless), renaming, removal, each with
  its audit event; the only writer of the credential table.
"""
