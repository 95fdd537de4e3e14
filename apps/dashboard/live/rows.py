"""A live audit event's row: the same partial the overview renders its first page with, so both look alike.

Rendered by an engine of its own over the dashboard's templates, so the consumer renders the same markup in
any settings profile (the live tests run it under core's)."""

from functools import cache
from pathlib import Path

from django.template import Context, Engine

FEED_ITEM_TEMPLATE = "dashboard/includes/feed_item.html"


@cache
def _engine() -> Engine:
    return Engine(dirs=[Path(__file__).resolve().parents[1] / "templates"],
                  libraries={"dashboard_format": "apps.dashboard.templatetags.dashboard_format"})


def feed_item_html(event: dict) -> str:
    return _engine().get_template(FEED_ITEM_TEMPLATE).render(Context({"event": event}))
