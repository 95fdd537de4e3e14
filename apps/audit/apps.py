# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class AuditConfig(roles.CoreAppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        super().ready()
        from . import checks  # noqa: F401 (registers the deploy check)
