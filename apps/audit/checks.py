from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def audit_checkpoint_keys_configured(app_configs, **kwargs):
    if getattr(settings, "PRODUCTION", False) and not getattr(settings, "AUDIT_CHECKPOINT_KEYS", None):
        return [Error("AUDIT_CHECKPOINT_KEYS is not set: audit checkpoints cannot be signed, so an edited, deleted "
                      "or truncated audit trail could go unnoticed.",
                      hint='Set AUDIT_CHECKPOINT_KEYS="<key id>:<random secret>" (docs/mongodb.md, audit).',
                      id="audit.E001")]
    return []
