# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class RbacConfig(roles.CoreAppConfig):
    name = "apps.rbac"
    label = "rbac"
    verbose_name = "Roles and permissions"
