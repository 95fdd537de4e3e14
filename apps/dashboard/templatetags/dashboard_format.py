"""How the dashboard writes times and people: one format everywhere.

A time is a <time datetime="ISO 8601"> whose text is UTC ("2026-12-02 01:18 UTC"); the page's own script
(static/dashboard/js/localtime.js) rewrites it to the viewer's local time with its zone. Without the script the
UTC text stands."""

from datetime import UTC, datetime

from django import template
from django.utils.html import format_html

register = template.Library()


def _parse(value) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@register.simple_tag
def when(value, empty=""):
    """<time datetime="2026-12-02T01:18:17.123000+00:00">2026-12-02 01:18:17 UTC</time>, or `empty`."""
    moment = _parse(value)
    if moment is None:
        return empty
    moment = moment.astimezone(UTC)
    return format_html('<time datetime="{}">{}</time>', moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S UTC"))


@register.filter
def name_or(name, fallback):
    """A person's or group's name, or the id it stands for when core had none."""
    return name or fallback


@register.filter
def length_text(seconds):
    """A restriction's length as typed in the dashboard and the blocklist file: 30m, 2h, 1d, 1w."""
    from apps.dashboard.blocklist_file import format_length

    return format_length(seconds) if isinstance(seconds, int) else ""
