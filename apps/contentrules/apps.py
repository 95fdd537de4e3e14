# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class ContentRulesConfig(roles.CoreAppConfig):
    name = "apps.contentrules"
    label = "contentrules"
    verbose_name = "Content rules (locks, blocklist, filters, notes)"
