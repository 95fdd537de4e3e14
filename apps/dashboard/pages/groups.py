"""The groups pages: the list, and one group's settings, members and activity."""

from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_safe
from rest_framework import serializers

from apps.common.errors import DomainError
from apps.coreclient import CoreError, CoreUnavailable
from apps.dashboard import apis, services
from apps.dashboard.choices import MEMBER_STATUSES

from . import forms
from .auth import dashboard_page
from .common import (
    chart,
    choice_filter,
    form_error,
    group_points,
    optional,
    pager,
    query_filters,
    render_page,
    sort_columns,
    url_with,
)

GROUP_COLUMNS = [("Title", "title"), ("Type", None), ("Active", None), ("Members", "members"),
                 ("Messages", "messages"), ("Created", "created")]


@dashboard_page
@require_safe
def group_list(request):
    filters = query_filters(apis.GroupListApi.FilterSerializer, request, rename={"o": "sort"})
    page = services.group_list(request.dashboard_user, **filters)
    return render_page(request, "group_list.html", {
        "groups": page["items"], "pager": pager(request, page, "groups"), "q": request.GET.get("q", ""),
        "columns": sort_columns(request, GROUP_COLUMNS, filters["sort"]),
        "filters": [choice_filter(request, "active", "By active", [("true", "Yes"), ("false", "No")])],
    }, nav="groups")


@dashboard_page
@require_http_methods(["GET", "POST"])
def group_detail(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    status = 200
    if request.method == "POST":
        form = forms.GroupSettingsForm(request.POST)
        if form.is_valid():
            changes = form.changes(group)
            if not changes:
                return redirect(f"/groups/{group_id}?saved=0")
            try:
                services.group_update(user, group_id, **changes)
            except (CoreError, DomainError, CoreUnavailable) as exc:
                status = form_error(form, exc)
            else:
                return redirect(f"/groups/{group_id}?saved=1")
        else:
            status = 400
    else:
        form = forms.GroupSettingsForm(initial=group)
    members_filters = query_filters(apis.GroupMemberListApi.FilterSerializer, request, drop={"saved", "status"})
    status_filter = request.GET.get("status") or PRESENT
    if status_filter not in (PRESENT, ANY_STATUS, *MEMBER_STATUSES):
        raise serializers.ValidationError({"status": [f'"{status_filter}" is not a valid choice.']})
    if status_filter != ANY_STATUS:
        members_filters["status"] = status_filter
    members = services.group_members(user, group_id, **members_filters)
    stats, stats_denied = optional(services.stats_group, user, group_id)
    points = group_points(stats["series"]) if stats else []
    return render_page(request, "group_detail.html", {
        "group": group, "form": form, "saved": request.GET.get("saved"),
        "members": members["items"], "pager": pager(request, members, "members"),
        "filters": [_member_status_filter(request, status_filter)], "status_filter": status_filter,
        "chart": chart(points) if stats else None, "chart_points": points, "stats_denied": stats_denied,
    }, status=status, nav="groups")


# The group page lists the members its member count counts (member or restricted) unless another status is picked.
PRESENT, ANY_STATUS = "present", "any"


def _member_status_filter(request, current: str) -> dict:
    choices = [(None, "Present (counted)"), *((value, value.capitalize()) for value in MEMBER_STATUSES),
               (ANY_STATUS, "Any status")]
    return {"title": "By status", "options": [
        {"label": label, "url": url_with(request, status=value), "selected": (value or PRESENT) == current}
        for value, label in choices]}
