from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Who may call core: the dashboard logins' credential checks for web, the token revocation store, and each
    calling service's scope of endpoints (permissions.py)."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"
