"""/favicon.ico on every role with pages (core, web): browsers ask for it whatever the page links to."""

from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.http import require_safe

ICON = Path(__file__).resolve().parent / "static" / "common" / "favicon.ico"
# The pages link the same picture as an SVG: {% static 'common/favicon.svg' %}.
SVG_ICON = "common/favicon.svg"


@require_safe
def favicon(request):
    response = HttpResponse(ICON.read_bytes(), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
