"""Permission codenames: the one place they are spelled (views name these constants).

Each is `<area>.<verb>`. `DEFAULT_ROLES` is what `manage.py seed_rbac` creates: the roles a
fresh deployment starts with and the permissions each grants. Operators may add roles and
permissions in the admin; a codename used by code must be listed here.
"""

USERS_VIEW = "users.view"
USERS_MANAGE = "users.manage"
CLIENTS_VIEW = "clients.view"
CLIENTS_MANAGE = "clients.manage"
SESSIONS_MANAGE = "sessions.manage"
AUDIT_VIEW = "audit.view"
KEYS_MANAGE = "keys.manage"
DASHBOARD_VIEW = "dashboard.view"
ROLES_MANAGE = "roles.manage"

DESCRIPTIONS = {
    USERS_VIEW: "See user accounts and their roles",
    USERS_MANAGE: "Create, disable and enable users; log a user out everywhere",
    CLIENTS_VIEW: "See OAuth clients",
    CLIENTS_MANAGE: "Create, change and delete OAuth clients; rotate their secrets",
    SESSIONS_MANAGE: "End other users' SSO sessions",
    AUDIT_VIEW: "Read the security audit log",
    KEYS_MANAGE: "Rotate and import signing keys",
    DASHBOARD_VIEW: "See the operator's dashboard",
    ROLES_MANAGE: "Assign roles to users and change what roles grant",
}

ADMIN, OPERATOR, AUDITOR, USER = "admin", "operator", "auditor", "user"

# role -> (description, permissions)
DEFAULT_ROLES = {
    ADMIN: ("Everything, including roles and signing keys", tuple(DESCRIPTIONS)),
    OPERATOR: (
        "Day-to-day operations: users, clients, sessions",
        (USERS_VIEW, USERS_MANAGE, CLIENTS_VIEW, CLIENTS_MANAGE, SESSIONS_MANAGE, DASHBOARD_VIEW),
    ),
    AUDITOR: ("Read-only: users, clients and the audit log", (USERS_VIEW, CLIENTS_VIEW, AUDIT_VIEW)),
    USER: ("An ordinary account (no administrative permission)", ()),
}
