"""The `roles` and `permissions` claims: which a token carries, from what the user holds. Pure.

A scope releases each claim: `roles` the names of the user's roles, `permissions` the codenames
their roles grant (a client must be allowed that scope explicitly: oauth.models.Client). The
claims list what the user holds when the token is issued, nothing else: asking for a scope
never adds a role. A token without a user (client credentials) carries neither.
"""

ROLES_SCOPE = "roles"
PERMISSIONS_SCOPE = "permissions"
# Claim -> the scope that releases it (merged into the OIDC validator's oidc_claim_scope).
CLAIM_SCOPES = {"roles": ROLES_SCOPE, "permissions": PERMISSIONS_SCOPE}


def wanted(scopes):
    """Whether a token with `scopes` carries any RBAC claim (so the holdings must be read)."""
    return bool(set(scopes or ()) & {ROLES_SCOPE, PERMISSIONS_SCOPE})


def rbac_claims(*, scopes, roles, permissions=()):
    """The RBAC claims of a token with `scopes` for a user holding `roles` (names) and
    `permissions` (codenames): sorted lists, present (perhaps empty) when their scope is."""
    scopes = set(scopes or ())
    claims = {}
    if ROLES_SCOPE in scopes:
        claims["roles"] = sorted(set(roles))
    if PERMISSIONS_SCOPE in scopes:
        claims["permissions"] = sorted(set(permissions))
    return claims
