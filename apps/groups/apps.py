from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "apps.groups"
    label = "groups"
    verbose_name = "Telegram groups"

    def ready(self):
        from apps.audit.names import namer_register

        from .selectors import group_titles

        namer_register("group", group_titles)
