"""The catalogue of audited actions: the audit API accepts only these as a filter."""

PERMISSION_CHECK = "permission.check"
USER_CREATE = "user.create"
USER_UPDATE = "user.update"
ROLE_CREATE = "role.create"
ROLE_UPDATE = "role.update"
ROLE_ASSIGN = "role.assign"
ROLE_REVOKE = "role.revoke"
GROUP_CREATE = "group.create"
MEMBERSHIP_UPSERT = "membership.upsert"

ALL_ACTIONS = [
    PERMISSION_CHECK,
    USER_CREATE,
    USER_UPDATE,
    ROLE_CREATE,
    ROLE_UPDATE,
    ROLE_ASSIGN,
    ROLE_REVOKE,
    GROUP_CREATE,
    MEMBERSHIP_UPSERT,
]
