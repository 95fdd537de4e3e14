"""Content-Security-Policy for every HTML answer of the web role: scripts and styles from this origin only, so
no inline <script>, style="" attribute or on...= handler runs even if one slipped into a page."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def _secure(response):
    if response.get("Content-Type", "").startswith("text/html"):
        response.headers.setdefault("Content-Security-Policy", POLICY)
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
        return _secure(self.get_response(request))

    async def _acall(self, request):
        return _secure(await self.get_response(request))
