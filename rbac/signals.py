"""Signals rbac sends: documented contracts for the apps above it (sso)."""

from django.dispatch import Signal

# Sent inside the transaction of a change of what a user holds: a role assigned or removed, a
# permission added to or taken from one of their roles, a role or permission deleted.
# Arguments:
#   user - the User whose roles or permissions changed.
# Tokens carry the roles held when they were issued, so sso moves the user's not-before:
# every earlier token of the user is refused at once (sessions stay; apps fetch new tokens).
# Sent once per user and change; a receiver's exception rolls the change back.
roles_changed = Signal()
