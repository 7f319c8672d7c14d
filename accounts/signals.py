"""Signals accounts sends: documented contracts for the apps above it (sso)."""

from django.dispatch import Signal

# Sent after a user's new password has been saved.
# Arguments:
#   user    - the User whose password changed.
#   request - the HttpRequest of the change when the user made it from their own logged-in
#             browser (that session may stay logged in), else None (an administrator, a
#             command, a reset link: every session of the user is to end).
# sso moves the user's not-before and ends the user's other sessions.
password_changed = Signal()
