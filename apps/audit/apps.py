# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class AuditConfig(roles.CoreAppConfig):
    name = "apps.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        super().ready()
        from django.db.models.signals import post_migrate

        from . import checks  # noqa: F401 (registers the deploy check)
        from .streams import lanes

        # flush (a test's teardown) and migrate emit it: writers' remembered stream heads may be gone
        post_migrate.connect(lanes.forget_heads, sender=self, dispatch_uid="audit-forget-stream-heads")
