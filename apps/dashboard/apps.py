from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The web role's app: browser logins (JWT), the REST API for the dashboard, backed by core over HTTP.

    Hooks for what comes next: server-rendered pages go in `pages.py` + `templates/dashboard/` and reuse
    `services` (every rule and core call lives there); the WebSocket feed authenticates with
    `tokens.access_token_user` (the same check as the REST API's bearer header).
    """

    name = "apps.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard (web role)"
