"""DRF permission classes for APIs protected by our access tokens.

They live in core.permissions and rbac.drf (they read the verified token duck-typed, so apps
below oauth use them too) and are named here as well, where API developers look for them.
"""

from core.permissions import HasScopeOrSession, InsufficientScope
from rbac.drf import HasPermission, HasRole, HasScope, InsufficientRole

__all__ = ["HasPermission", "HasRole", "HasScope", "HasScopeOrSession", "InsufficientRole", "InsufficientScope"]
