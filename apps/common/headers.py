"""The wire contract's own headers, in a module that imports nothing, so the core client can name them without
loading the server side's DRF settings."""

API_KEY_HEADER = "X-API-Key"
# A service's request made for one of its users: core authorizes it as that user (apps/rbac/permissions.py).
ACTING_USER_HEADER = "X-Acting-User-ID"
