"""Which role a process runs (settings.ROLE, declared by each settings profile), and code that belongs to some roles
refusing to run in another, as Sentry's silo modes: core's apps refuse to load outside core (so their models cannot
be queried there), and the core client refuses to be built inside core (core never calls itself over HTTP).

The checks run once, when an app loads or a client is built: nothing on a request's path. The test profile's role is
ALL: pytest runs every role's code in one process (bot and web's clients against core's app in the same process), and
the tests of these boundaries set ROLE themselves (tests/common/test_roles.py)."""

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CORE, BOT, WEB = "core", "bot", "web"
ALL = "all"  # the test profile only
ROLES = (CORE, BOT, WEB, ALL)


class WrongRoleError(ImproperlyConfigured):
    """Code of one role was started in a process of another."""


def current_role() -> str | None:
    """settings.ROLE; None in a process that configured no settings of a role (a benchmark driving a client)."""
    if not settings.configured:
        return None
    role = getattr(settings, "ROLE", None)
    if role is not None and role not in ROLES:
        raise ImproperlyConfigured(f"settings.ROLE must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def require_role(*roles: str, what: str) -> None:
    """Raises WrongRoleError when this process runs a role other than `roles` (ALL and no role pass)."""
    role = current_role()
    if role not in (None, ALL, *roles):
        raise WrongRoleError(f"{what} belongs to the {' and '.join(roles)} role{'s' if len(roles) > 1 else ''}; "
                             f"this process is the {role} role (settings.ROLE)")


class CoreAppConfig(AppConfig):
    """The config of one of core's apps: it refuses to load in a bot or web process, so its models can be neither
    imported nor queried there (Django's own error for a model of an app not installed)."""

    def ready(self):
        require_role(CORE, what=f"The {self.label} app")
