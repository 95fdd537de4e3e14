# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class BanListsConfig(roles.CoreAppConfig):
    name = "apps.banlists"
    label = "banlists"
    verbose_name = "Ban lists shared by many groups (federations)"
