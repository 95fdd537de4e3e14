"""Content-Security-Policy for every HTML answer of the web role: scripts and styles from this origin only, so
no inline <script>, style="" attribute or on...= handler runs even if one slipped into a page. Connections (fetch,
the live feed's WebSocket) go to this origin only: 'self', and the WebSocket URL of the request's own host spelled
out (ws: or wss: alone would allow a socket to any host; not every browser counts ws(s) of its own host as 'self').
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import DisallowedHost

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src {connect}; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def policy(request) -> str:
    try:
        host = request.get_host()  # validated against ALLOWED_HOSTS: no spaces or separators
    except DisallowedHost:
        return POLICY.format(connect="'self'")
    scheme = "wss" if request.is_secure() else "ws"
    return POLICY.format(connect=f"'self' {scheme}://{host}")


def _secure(request, response):
    if response.get("Content-Type", "").startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", policy(request))
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


class ContentSecurityPolicyMiddleware:
    sync_capable = True
    async_capable = True  # no thread hop under the ASGI server

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return _secure(request, self.get_response(request))

    async def _acall(self, request):
        return _secure(request, await self.get_response(request))
