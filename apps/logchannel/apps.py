# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class LogchannelConfig(roles.CoreAppConfig):
    name = "apps.logchannel"
    label = "logchannel"
    verbose_name = "Log channel"

    def ready(self):
        super().ready()
        from . import receivers  # noqa: F401  (connects the receivers)
