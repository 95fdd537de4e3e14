# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class ProtectionConfig(roles.CoreAppConfig):
    name = "apps.protection"
    label = "protection"
    verbose_name = "Protection settings"
