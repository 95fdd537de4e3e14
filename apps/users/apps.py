# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class UsersConfig(roles.CoreAppConfig):
    name = "apps.users"
    label = "users"

    def ready(self):
        super().ready()
        from apps.audit.names import namer_register

        from .selectors import user_names

        namer_register("user", user_names)
