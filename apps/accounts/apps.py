# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class AccountsConfig(roles.CoreAppConfig):
    """Who may call core: the dashboard logins' credential checks for web, the token revocation store, and each
    calling service's scope of endpoints (permissions.py)."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"
