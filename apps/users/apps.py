from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "apps.users"
    label = "users"

    def ready(self):
        from apps.audit.names import namer_register

        from .selectors import user_names

        namer_register("user", user_names)
