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
        "profile": profile, "assignments": assignments and assignments["items"],
        "assignments_denied": assignments_denied, "warnings": warnings and warnings["items"],
        "warnings_denied": warnings_denied, "ban_lists": ban_lists, "ban_lists_denied": ban_lists_denied,
    }, nav="users")
