"""The roles and assignments pages: who holds which role where; granting and revoking (core applies the rank
rule)."""

from urllib.parse import urlencode

from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_safe

from apps.common.errors import DomainError
from apps.coreclient import CoreError, CoreUnavailable, ids
from apps.dashboard import apis, services

from . import forms
from .auth import dashboard_page
from .common import choice_filter, form_error, optional, pager, query_filters, render_page


@dashboard_page
@require_safe
def role_list(request):
    return render_page(request, "role_list.html", {"roles": services.role_list(request.dashboard_user)}, nav="roles")


@dashboard_page
@require_http_methods(["GET", "POST"])
def assignments(request):
    user = request.dashboard_user
    roles = services.role_list(user)
    groups, _ = optional(services.group_list, user, limit=200, sort="title")
    status = 200
    granted = None
    if request.method == "POST":
        form = forms.GrantForm(request.POST, roles=roles, groups=groups["items"] if groups else [])
        if form.is_valid() and _resolve_grant_user(user, form):
            try:
                granted = services.assignment_grant(user, **{key: value for key, value in form.cleaned_data.items()
                                                            if value not in (None, "")})
            except (CoreError, DomainError, CoreUnavailable) as exc:
                status = form_error(form, exc)
            else:
                return redirect(f"/assignments?{urlencode({'granted': granted['id']})}")
        else:
            status = 400
    else:
        form = forms.GrantForm(initial={"user_id": request.GET.get("user_id", "")}, roles=roles,
                               groups=groups["items"] if groups else [])
    people, _ = optional(services.user_list, user, limit=200)
    filters = query_filters(apis.AssignmentListApi.FilterSerializer, request, drop={"granted", "revoked"})
    page = services.assignment_list(user, **filters)
    return render_page(request, "assignments.html", {
        "assignments": page["items"], "pager": pager(request, page, "assignments"), "form": form,
        "filter_form": forms.AssignmentFilterForm(request.GET, auto_id="filter_%s"),
        "filters": [choice_filter(request, "active", "By status", [("true", "Active"), ("false", "Not active")])],
        "granted": request.GET.get("granted"), "revoked": request.GET.get("revoked"),
        "people": people["items"] if people else [],
    }, status=status, nav="assignments")


def _person(item: dict) -> str:
    handle = f" (@{item['telegram_username']})" if item.get("telegram_username") else ""
    return f"{item.get('display_name') or item['username']}{handle}"


def _resolve_grant_user(user, form) -> bool:
    """The grant form's user as typed: an id, @username, username or display name (what the suggestions offer).
    The id of the one user it names goes on to core; none or several is a message on the field."""
    typed = form.cleaned_data["user_id"].strip()
    handle = typed.removeprefix("@").lower()
    query = typed.removeprefix("@").split(" (@")[0]
    try:
        found = services.user_list(user, q=query, limit=50)["items"] if query else []
    except (CoreError, DomainError):
        found = []  # the user may not list users: only an id can be used then
    exact = [item for item in found if typed in (item["id"], _person(item))]
    exact = exact or [item for item in found if handle in (item["username"].lower(),
                                                           (item.get("telegram_username") or "").lower(),
                                                           (item.get("display_name") or "").lower())]
    if len(exact) == 1:
        form.cleaned_data["user_id"] = exact[0]["id"]
        return True
    if len(exact) > 1:
        names = ", ".join(f"{_person(item)} [id {item['id']}]" for item in exact[:5])
        form.add_error("user_id", f'"{typed}" names several users: {names}. Type the @username or the id.')
        return False
    if typed.isalnum():
        return True  # an id the list did not show: core says whether it exists
    form.add_error("user_id", f'No user is called "{typed}". Type a name, @username or id.')
    return False


@dashboard_page
@require_http_methods(["GET", "POST"])
def assignment_revoke(request, assignment_id):
    ids.store_id(assignment_id, name="assignment_id")  # a 400 page for a link that cannot name an assignment
    user = request.dashboard_user
    status = 200
    if request.method == "POST":
        form = forms.RevokeForm(request.POST)
        if form.is_valid():
            try:
                services.assignment_revoke(user, assignment_id, reason=form.cleaned_data["reason"],
                                           group_id=form.cleaned_data["group_id"] or None)
            except (CoreError, DomainError, CoreUnavailable) as exc:
                status = form_error(form, exc)
            else:
                return redirect(f"/assignments?{urlencode({'revoked': assignment_id})}")
        else:
            status = 400
    else:
        form = forms.RevokeForm(initial={"group_id": request.GET.get("group_id", "")})
    return render_page(request, "revoke.html", {"assignment_id": assignment_id, "form": form,
                                          "assignment": _assignment(request, assignment_id)},
                 status=status, nav="assignments")


def _assignment(request, assignment_id: str) -> dict | None:
    """The assignment as core has it, for the confirmation page: looked up among the user's assignments that the
    revoke link names (core has no lookup by id), so the page never shows what a crafted link claims."""
    user_id = request.GET.get("user_id") or request.POST.get("user_id")
    if not user_id:
        return None
    try:
        found = services.assignment_list(request.dashboard_user, user_id=user_id, limit=200)["items"]
    except (CoreError, DomainError):
        return None
    return next((item for item in found if item["id"] == assignment_id), None)
