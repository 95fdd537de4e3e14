"""What the dashboard's pages share: query parameters read by the JSON API's serializers, links that keep
the other parameters, pagers, sortable columns, rendering, and reads a page may show without."""

from math import ceil

from django.shortcuts import render
from rest_framework import serializers

from apps.common.errors import PermissionDeniedError
from apps.coreclient import CoreUnavailable

from . import forms


def query_filters(serializer_class, request, *, rename: dict | None = None, drop=()) -> dict:
    """The page's query string through the API's filter serializer: empty fields (a submitted filter form) are
    left out, unknown parameters refused, anything invalid a 400 page with the serializer's message."""
    known = set(serializer_class().fields)
    data, unknown = {}, []
    for key in request.GET:
        if key in drop:
            continue
        name = (rename or {}).get(key, key)
        if name not in known:
            unknown.append(key)
        elif request.GET.get(key) != "":
            data[name] = request.GET.get(key)
    if unknown:
        raise serializers.ValidationError({key: ["Unknown query parameter."] for key in sorted(unknown)})
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def url_with(request, **changes) -> str:
    """This page's URL with some query parameters changed (None removes one); a filter change goes to page 1."""
    params = request.GET.copy()
    if "page" not in changes and "cursor" not in changes:
        params.pop("page", None)
        params.pop("cursor", None)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


def pager(request, page: dict, noun: str) -> dict:
    pages = max(1, ceil(page["total"] / page["limit"]))
    current = page["page"]
    numbers = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    links, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            links.append({"gap": True})
        links.append({"number": number, "url": url_with(request, page=number), "current": number == current})
        previous = number
    noun = noun if page["total"] != 1 else noun.removesuffix("s")
    return {"total": page["total"], "page": current, "pages": pages, "noun": noun, "links": links,
            "previous_url": url_with(request, page=current - 1) if current > 1 else None,
            "next_url": url_with(request, page=current + 1) if current < pages else None}


def choice_filter(request, param: str, title: str, choices: list[tuple[str, str]]) -> dict:
    """A filter sidebar block: links, "All" first; the current one marked."""
    current = request.GET.get(param, "")
    options = [{"label": "All", "url": url_with(request, **{param: None}), "selected": current == ""}]
    options += [{"label": label, "url": url_with(request, **{param: value}), "selected": current == value}
                for value, label in choices]
    return {"title": title, "options": options}


def sort_columns(request, columns: list[tuple[str, str | None]], current: str) -> list[dict]:
    """Column headers; a sortable one links to ?o=field, and to ?o=-field when already sorted ascending."""
    out = []
    for label, field in columns:
        column = {"label": label, "sortable": field is not None}
        if field is not None:
            ascending, descending = current == field, current == f"-{field}"
            column.update(url=url_with(request, o=f"-{field}" if ascending else field),
                          aria_sort="ascending" if ascending else "descending" if descending else None,
                          indicator="▲" if ascending else "▼" if descending else "")
        out.append(column)
    return out


def render_page(request, template: str, context: dict, *, status: int = 200, nav: str = ""):
    return render(request, f"dashboard/{template}", {"user": request.dashboard_user, "nav": nav, **context},
                  status=status)


def optional(call, *args, **kwargs):
    """A section the user may not be allowed to see: (data, None) or (None, core's reason)."""
    try:
        return call(*args, **kwargs), None
    except PermissionDeniedError as exc:
        return None, exc.message


def form_error(form, exc) -> int:
    """Core refused a form's change: its message on the form; the page answers with core's status."""
    if isinstance(exc, CoreUnavailable):
        raise exc
    forms.apply_core_errors(form, exc)
    return exc.status_code


def chart(points: list[dict]) -> dict:
    return {"labels": [point["start"][11:16] for point in points],
            "starts": [point["start"] for point in points],
            "series": [{"key": "messages", "label": "Messages", "data": [point["messages"] for point in points]},
                       {"key": "moderation", "label": "Moderation actions",
                        "data": [point["moderation"] for point in points]},
                       {"key": "automated", "label": "Automated actions (of those)",
                        "data": [point.get("automated", 0) for point in points]}]}


def group_points(series: list[dict]) -> list[dict]:
    return [{"start": point["start"], "messages": point["messages"],
             "moderation": sum(point["moderation"].values()),
             "automated": sum(point.get("automated", {}).values())} for point in series]
