# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class AnalyticsConfig(roles.CoreAppConfig):
    name = "apps.analytics"
    label = "analytics"
    verbose_name = "Group analytics"

    def ready(self):
        super().ready()
        from . import digests, receivers  # noqa: F401 (connects the ingest, settings and log-claim receivers)
