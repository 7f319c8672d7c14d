"""DRF permission classes for APIs protected by our access tokens.

They live in core.permissions (they read the verified token duck-typed, so apps below oauth use
them too) and are named here as well, where API developers look for them.
"""

from core.permissions import HasScope, HasScopeOrSession, InsufficientScope

__all__ = ["HasScope", "HasScopeOrSession", "InsufficientScope"]
