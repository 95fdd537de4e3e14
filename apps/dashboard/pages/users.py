"""The users pages: the list and one user's memberships, roles and warnings."""

from django.views.decorators.http import require_safe

from apps.dashboard import apis, services

from .auth import dashboard_page
from .banlists import user_ban_lists
from .common import choice_filter, optional, pager, query_filters, render_page


@dashboard_page
@require_safe
def user_list(request):
    filters = query_filters(apis.UserListApi.FilterSerializer, request)
    page = services.user_list(request.dashboard_user, **filters)
    return render_page(request, "user_list.html", {
        "users": page["items"], "pager": pager(request, page, "users"), "q": request.GET.get("q", ""),
        "filters": [choice_filter(request, "is_active", "By active", [("true", "Yes"), ("false", "No")])],
    }, nav="users")


@dashboard_page
@require_safe
def user_detail(request, user_id):
    user = request.dashboard_user
    profile = services.user_get(user, user_id)
    assignments, assignments_denied = optional(services.assignment_list, user, user_id=user_id, limit=100)
    warnings, warnings_denied = optional(services.moderation_list, user, target_user_id=user_id, type="warn",
                                          limit=50)
    ban_lists, ban_lists_denied = user_ban_lists(user, profile)
    return render_page(request, "user_detail.html", {
        "statistics_groups": _statistics_groups(assignments, warnings),
        "profile": profile, "assignments": assignments and assignments["items"],
        "assignments_denied": assignments_denied, "warnings": warnings and warnings["items"],
        "warnings_denied": warnings_denied, "ban_lists": ban_lists, "ban_lists_denied": ban_lists_denied,
    }, nav="users")


def _statistics_groups(assignments: dict | None, warnings: dict | None) -> list[dict]:
    """The groups the page knows the user in (their roles' and warnings' groups), for links to their statistics
    there: core answers whether the viewer may see them."""
    groups: dict[str, str] = {}
    for assignment in (assignments or {}).get("items", []):
        if assignment.get("group_id"):
            groups.setdefault(assignment["group_id"], assignment.get("group_title") or assignment["group_id"])
    for warning in (warnings or {}).get("items", []):
        if warning.get("group_id"):
            groups.setdefault(warning["group_id"], warning["group_id"])
    return [{"id": group_id, "title": title} for group_id, title in groups.items()]
