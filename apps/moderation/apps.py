# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class ModerationConfig(roles.CoreAppConfig):
    name = "apps.moderation"
    label = "moderation"
    verbose_name = "Moderation records"
