from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Core's side of the dashboard logins: credential checks for web, and the token revocation store."""

    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"
