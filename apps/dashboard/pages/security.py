"""Content-Security-Policy for every HTML answer of the web role, by django-csp: scripts and styles from this origin
only, so no inline <script>, style="" attribute or on...= handler runs even if one slipped into a page. Connections
(fetch, the live feed's WebSocket) go to this origin only: 'self', and the WebSocket URL of the request's own host
spelled out (ws: or wss: alone would allow a socket to any host; not every browser counts ws(s) of its own host as
'self').
"""

from dataclasses import asdict

from csp.constants import HEADER, NONE, SELF
from csp.middleware import CSPMiddleware, PolicyParts
from csp.utils import build_policy
from django.core.exceptions import DisallowedHost

# The web role's policy, here rather than in CONTENT_SECURITY_POLICY: the middleware is what puts it on the web
# role's pages, whatever settings profile loads it. django-csp's decorators (csp_update, csp_exempt...) still apply.
DIRECTIVES = {
    "default-src": [SELF], "script-src": [SELF], "style-src": [SELF], "img-src": [SELF, "data:"],
    "connect-src": [SELF], "frame-ancestors": [NONE], "base-uri": [SELF], "form-action": [SELF],
}


def own_websocket_origin(request) -> str | None:
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS: no spaces or separators
    except DisallowedHost:
        return None
    return f"{'wss' if request.is_secure() else 'ws'}://{host}"


def _as_list(values) -> list:
    return [values] if isinstance(values, str) else list(values)


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, for HTML answers only (JSON is never rendered by a browser), with the request's own
    WebSocket origin added to connect-src."""

    async def __acall__(self, request):
        # MiddlewareMixin would run both hooks through sync_to_async: they do no I/O, so no thread hop.
        self.process_request(request)
        return self.process_response(request, await self.get_response(request))

    def process_response(self, request, response):
        if not _is_html(response):
            return response
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response = super().process_response(request, response)
        if HEADER not in response and not getattr(response, "_csp_exempt", False):
            # django-csp leaves 404 and 500 answers bare under DEBUG, for Django's technical pages; this role's
            # error pages are its own and carry the policy like every other page.
            response[HEADER] = build_policy(**asdict(self.get_policy_parts(request, response)))
        return response

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:  # no report-only policy unless a view's decorator asks for one
            return parts
        update = {name: _as_list(values) for name, values in (parts.update or {}).items()}
        if parts.config is None:
            # django-csp writes a config's directives in set order (another order in each process); an update's
            # keep their order, so the policy goes in as an update to an empty config: one header, byte for byte.
            replaced = parts.replace or {}
            ordered = {name: list(values) for name, values in DIRECTIVES.items() if name not in replaced}
            for name, values in update.items():
                ordered[name] = [*ordered.get(name, ()), *values]
            parts.config, update = {}, ordered
        websocket_origin = own_websocket_origin(request)
        if websocket_origin:
            update["connect-src"] = [*update.get("connect-src", ()), websocket_origin]
        parts.update = update
        return parts
