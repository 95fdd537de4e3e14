# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class GroupsConfig(roles.CoreAppConfig):
    name = "apps.groups"
    label = "groups"
    verbose_name = "Telegram groups"

    def ready(self):
        super().ready()
        from apps.audit.names import namer_register

        from .selectors import group_titles

        namer_register("group", group_titles)
