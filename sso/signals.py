"""Signals sso sends: documented contracts for the apps above it (oauth)."""

from django.dispatch import Signal

# Sent after the transaction that ended sessions has committed (never for a rollback).
# Arguments:
#   user       - the User whose sessions ended.
#   sids       - list[str]: the `sid` of every session that ended now (may be empty); tokens,
#                refresh tokens and back-channel logouts bound to these sids are to end too.
#   everywhere - bool: True when the user's not-before moved to now (logout everywhere,
#                password change, disabled account): every token and grant of the user issued
#                before now is to be revoked, whatever its sid.
# Receivers run after the commit, so raising cannot undo the logout: sso sends it robustly
# and logs a receiver's exception. The revocation store already refuses the tokens.
sessions_ended = Signal()
