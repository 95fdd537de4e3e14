# The module, not the class: Django takes the one AppConfig class an apps.py names as the app's config.
from apps.common import roles


class BanListsConfig(roles.CoreAppConfig):
    name = "apps.banlists"
    label = "banlists"
    verbose_name = "Ban lists shared by many groups (federations)"

    def ready(self):
        super().ready()
        # RBAC's third kind of scope (banlist:<pk>): rbac knows lists only through this registration.
        from apps.rbac.catalogue import BANLIST_ROLE_PREFIX
        from apps.rbac.scopes import BAN_LIST, register_scope_kind

        from .access import ban_list_active_pk

        register_scope_kind(BAN_LIST, resolve=ban_list_active_pk, role_prefix=BANLIST_ROLE_PREFIX, label="Ban list")
