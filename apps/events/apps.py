# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class EventsConfig(roles.CoreAppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Group events and analytics"
