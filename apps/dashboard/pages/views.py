"""The dashboard's pages: read the query or the form, call a service (which asks core), render. Query
parameters are validated by the same serializers as the JSON API; the rules are core's."""

import logging
from math import ceil
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework import serializers

from apps.common.client_address import client_address
from apps.common.errors import DomainError, LoginRateLimited, PermissionDeniedError, json_not_found
from apps.coreclient import CoreError, CoreUnavailable, ids
from apps.dashboard import apis, services
from apps.dashboard.errors import InvalidCredentials, TokenRejected

from . import forms
from .auth import LoginRequired, clear_token_cookies, cookie_user, dashboard_page, safe_next, set_token_cookies
from .errors import PAGE_ERRORS, describe

logger = logging.getLogger(__name__)

FEED_SIZE = 10
STAT_CARDS = [("groups", "Groups"), ("users", "Users"), ("moderation_actions_24h", "Moderation actions (24 h)"),
              ("denials_24h", "Permission denials (24 h)"), ("messages_24h", "Messages (24 h)")]


# -- helpers shared by the list pages


def _query(serializer_class, request, *, rename: dict | None = None, drop=()) -> dict:
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


def _url(request, **changes) -> str:
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


def _pager(request, page: dict, noun: str) -> dict:
    pages = max(1, ceil(page["total"] / page["limit"]))
    current = page["page"]
    numbers = sorted({1, pages, *range(max(1, current - 2), min(pages, current + 2) + 1)})
    links, previous = [], 0
    for number in numbers:
        if number - previous > 1:
            links.append({"gap": True})
        links.append({"number": number, "url": _url(request, page=number), "current": number == current})
        previous = number
    noun = noun if page["total"] != 1 else noun.removesuffix("s")
    return {"total": page["total"], "page": current, "pages": pages, "noun": noun, "links": links,
            "previous_url": _url(request, page=current - 1) if current > 1 else None,
            "next_url": _url(request, page=current + 1) if current < pages else None}


def _choice_filter(request, param: str, title: str, choices: list[tuple[str, str]]) -> dict:
    """A filter sidebar block: links, "All" first; the current one marked."""
    current = request.GET.get(param, "")
    options = [{"label": "All", "url": _url(request, **{param: None}), "selected": current == ""}]
    options += [{"label": label, "url": _url(request, **{param: value}), "selected": current == value}
                for value, label in choices]
    return {"title": title, "options": options}


def _sort_columns(request, columns: list[tuple[str, str | None]], current: str) -> list[dict]:
    """Column headers; a sortable one links to ?o=field, and to ?o=-field when already sorted ascending."""
    out = []
    for label, field in columns:
        column = {"label": label, "sortable": field is not None}
        if field is not None:
            ascending, descending = current == field, current == f"-{field}"
            column.update(url=_url(request, o=f"-{field}" if ascending else field),
                          aria_sort="ascending" if ascending else "descending" if descending else None,
                          indicator="▲" if ascending else "▼" if descending else "")
        out.append(column)
    return out


def _page(request, template: str, context: dict, *, status: int = 200, nav: str = ""):
    return render(request, f"dashboard/{template}", {"user": request.dashboard_user, "nav": nav, **context},
                  status=status)


def _optional(call, *args, **kwargs):
    """A section the user may not be allowed to see: (data, None) or (None, core's reason)."""
    try:
        return call(*args, **kwargs), None
    except PermissionDeniedError as exc:
        return None, exc.message


def _form_error(form, exc) -> int:
    """Core refused a form's change: its message on the form; the page answers with core's status."""
    if isinstance(exc, CoreUnavailable):
        raise exc
    forms.apply_core_errors(form, exc)
    return exc.status_code


def _chart(points: list[dict]) -> dict:
    return {"labels": [point["start"][11:16] for point in points],
            "starts": [point["start"] for point in points],
            "series": [{"key": "messages", "label": "Messages", "data": [point["messages"] for point in points]},
                       {"key": "moderation", "label": "Moderation actions",
                        "data": [point["moderation"] for point in points]}]}


def _group_points(series: list[dict]) -> list[dict]:
    return [{"start": point["start"], "messages": point["messages"],
             "moderation": sum(point["moderation"].values())} for point in series]


# -- signing in and out


@require_http_methods(["GET", "POST"])
def login(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET":
        try:
            _, pair = cookie_user(request)
        except (LoginRequired, *PAGE_ERRORS):  # no usable session (or core cannot say): show the form
            return render(request, "dashboard/login.html", {"form": forms.LoginForm(), "next": next_url,
                                                            "logged_out": "logged_out" in request.GET})
        response = redirect(next_url)  # already signed in
        if pair is not None:
            set_token_cookies(response, pair)
        return response
    form = forms.LoginForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            pair = services.login(username=form.cleaned_data["username"], password=form.cleaned_data["password"],
                                  client_ip=client_address(request))
        except (InvalidCredentials, LoginRateLimited) as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        except PAGE_ERRORS as exc:
            status, title, message, _ = describe(exc)
            form.add_error(None, f"{title}: {message}" if title != message else message)
        else:
            response = redirect(next_url)
            set_token_cookies(response, pair)
            return response
    else:
        status = 400
    return render(request, "dashboard/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout(request):
    refresh = request.COOKIES.get(settings.DASHBOARD_REFRESH_COOKIE)
    response = redirect("/login?logged_out=1")
    if refresh:
        try:
            services.logout(refresh_token=refresh)
        except TokenRejected:
            pass  # already expired or revoked: nothing left to revoke
        except (CoreUnavailable, CoreError, DomainError) as exc:
            logger.warning("logout could not revoke the refresh token", extra={"error": str(exc)})
            response = render(request, "dashboard/error.html", {
                "title": "Signed out of this browser only", "status": 503, "core_down": True,
                "message": "Your cookies are cleared, but core could not be told to revoke the session; it stays "
                           "usable elsewhere until it expires."}, status=503)
    clear_token_cookies(response)
    return response


def not_found(request, exception=None):
    """Web's 404: the JSON envelope under /api/, a page elsewhere."""
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return render(request, "dashboard/error.html", {
        "title": "Not found", "status": 404, "message": f"There is no page at {request.path}."}, status=404)


def csrf_failure(request, reason=""):
    return render(request, "dashboard/error.html", {
        "title": "Form expired or forged", "status": 403,
        "message": "This form could not be verified (CSRF check failed). Reload the page and submit it again."},
        status=403)


# -- overview


@dashboard_page
@require_safe
def overview(request):
    user = request.dashboard_user
    stats, stats_denied = _optional(services.stats_overview, user)
    timeline, _ = _optional(services.stats_timeline, user) if stats is not None else (None, None)
    feed, feed_denied = _optional(services.audit_list, user, limit=FEED_SIZE, hide_checks_by=settings.SERVICE_NAME)
    cards = [{"key": key, "label": label, "value": stats[key]} for key, label in STAT_CARDS] if stats else []
    return _page(request, "overview.html", {
        "cards": cards, "stats_denied": stats_denied, "generated_at": stats and stats["generated_at"],
        "chart": _chart(timeline["points"]) if timeline else None, "chart_groups": timeline and timeline["groups"],
        "chart_points": timeline["points"] if timeline else [],
        "feed": feed["items"] if feed else None, "feed_denied": feed_denied,
    }, nav="overview")


# -- groups


GROUP_COLUMNS = [("Title", "title"), ("Type", None), ("Active", None), ("Members", "members"),
                 ("Messages", "messages"), ("Created", "created")]


@dashboard_page
@require_safe
def group_list(request):
    filters = _query(apis.GroupListApi.FilterSerializer, request, rename={"o": "sort"})
    page = services.group_list(request.dashboard_user, **filters)
    return _page(request, "group_list.html", {
        "groups": page["items"], "pager": _pager(request, page, "groups"), "q": request.GET.get("q", ""),
        "columns": _sort_columns(request, GROUP_COLUMNS, filters["sort"]),
        "filters": [_choice_filter(request, "active", "By active", [("true", "Yes"), ("false", "No")])],
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
                status = _form_error(form, exc)
            else:
                return redirect(f"/groups/{group_id}?saved=1")
        else:
            status = 400
    else:
        form = forms.GroupSettingsForm(initial=group)
    members_filters = _query(apis.GroupMemberListApi.FilterSerializer, request, drop={"saved", "status"})
    status_filter = request.GET.get("status") or PRESENT
    if status_filter not in (PRESENT, ANY_STATUS, *apis.MEMBER_STATUSES):
        raise serializers.ValidationError({"status": [f'"{status_filter}" is not a valid choice.']})
    if status_filter != ANY_STATUS:
        members_filters["status"] = status_filter
    members = services.group_members(user, group_id, **members_filters)
    stats, stats_denied = _optional(services.stats_group, user, group_id)
    points = _group_points(stats["series"]) if stats else []
    return _page(request, "group_detail.html", {
        "group": group, "form": form, "saved": request.GET.get("saved"),
        "members": members["items"], "pager": _pager(request, members, "members"),
        "filters": [_member_status_filter(request, status_filter)], "status_filter": status_filter,
        "chart": _chart(points) if stats else None, "chart_points": points, "stats_denied": stats_denied,
    }, status=status, nav="groups")


# The group page lists the members its member count counts (member or restricted) unless another status is picked.
PRESENT, ANY_STATUS = "present", "any"


def _member_status_filter(request, current: str) -> dict:
    choices = [(None, "Present (counted)"), *((value, value.capitalize()) for value in apis.MEMBER_STATUSES),
               (ANY_STATUS, "Any status")]
    return {"title": "By status", "options": [
        {"label": label, "url": _url(request, status=value), "selected": (value or PRESENT) == current}
        for value, label in choices]}


# -- users


@dashboard_page
@require_safe
def user_list(request):
    filters = _query(apis.UserListApi.FilterSerializer, request)
    page = services.user_list(request.dashboard_user, **filters)
    return _page(request, "user_list.html", {
        "users": page["items"], "pager": _pager(request, page, "users"), "q": request.GET.get("q", ""),
        "filters": [_choice_filter(request, "is_active", "By active", [("true", "Yes"), ("false", "No")])],
    }, nav="users")


@dashboard_page
@require_safe
def user_detail(request, user_id):
    user = request.dashboard_user
    profile = services.user_get(user, user_id)
    assignments, assignments_denied = _optional(services.assignment_list, user, user_id=user_id, limit=100)
    warnings, warnings_denied = _optional(services.moderation_list, user, target_user_id=user_id, type="warn",
                                          limit=50)
    return _page(request, "user_detail.html", {
        "profile": profile, "assignments": assignments and assignments["items"],
        "assignments_denied": assignments_denied, "warnings": warnings and warnings["items"],
        "warnings_denied": warnings_denied,
    }, nav="users")


# -- roles and assignments


@dashboard_page
@require_safe
def role_list(request):
    return _page(request, "role_list.html", {"roles": services.role_list(request.dashboard_user)}, nav="roles")


@dashboard_page
@require_http_methods(["GET", "POST"])
def assignments(request):
    user = request.dashboard_user
    roles = services.role_list(user)
    groups, _ = _optional(services.group_list, user, limit=200, sort="title")
    status = 200
    granted = None
    if request.method == "POST":
        form = forms.GrantForm(request.POST, roles=roles, groups=groups["items"] if groups else [])
        if form.is_valid() and _resolve_grant_user(user, form):
            try:
                granted = services.assignment_grant(user, **{key: value for key, value in form.cleaned_data.items()
                                                            if value not in (None, "")})
            except (CoreError, DomainError, CoreUnavailable) as exc:
                status = _form_error(form, exc)
            else:
                return redirect(f"/assignments?{urlencode({'granted': granted['id']})}")
        else:
            status = 400
    else:
        form = forms.GrantForm(initial={"user_id": request.GET.get("user_id", "")}, roles=roles,
                               groups=groups["items"] if groups else [])
    people, _ = _optional(services.user_list, user, limit=200)
    filters = _query(apis.AssignmentListApi.FilterSerializer, request, drop={"granted", "revoked"})
    page = services.assignment_list(user, **filters)
    return _page(request, "assignments.html", {
        "assignments": page["items"], "pager": _pager(request, page, "assignments"), "form": form,
        "filter_form": forms.AssignmentFilterForm(request.GET, auto_id="filter_%s"),
        "filters": [_choice_filter(request, "active", "By status", [("true", "Active"), ("false", "Not active")])],
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
                status = _form_error(form, exc)
            else:
                return redirect(f"/assignments?{urlencode({'revoked': assignment_id})}")
        else:
            status = 400
    else:
        form = forms.RevokeForm(initial={"group_id": request.GET.get("group_id", "")})
    return _page(request, "revoke.html", {"assignment_id": assignment_id, "form": form,
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


# -- audit and moderation

# The audit views leave out web's own permission checks (one for each page it reads for someone) unless asked.
DASHBOARD_READS = "dashboard_reads"


def _dashboard_reads(request) -> bool:
    return request.GET.get(DASHBOARD_READS, "") not in ("", "0")


@dashboard_page
@require_safe
def audit(request):
    user = request.dashboard_user
    filters = _query(apis.AuditListApi.FilterSerializer, request, drop={"verify", DASHBOARD_READS})
    dashboard_reads = _dashboard_reads(request)
    if not dashboard_reads:
        filters["hide_checks_by"] = settings.SERVICE_NAME
    page = services.audit_list(user, **filters)
    verification, verification_error = None, None
    if request.GET.get("verify"):
        try:
            verification = services.audit_verify(user)
        except CoreUnavailable:  # a long chain can take core longer than web waits; the log itself is still shown
            verification_error = "Core did not finish checking the chain in time; try again later or run " \
                                 "manage.py audit_verify on core."
    csv_params = {key: value for key, value in request.GET.items()
                  if value and (key in apis.AuditFilterSerializer().fields or key == DASHBOARD_READS)}
    return _page(request, "audit.html", {
        "events": page["items"], "filter_form": forms.AuditFilterForm(request.GET, auto_id="filter_%s"),
        "next_url": _url(request, cursor=page["next_cursor"]) if page["next_cursor"] else None,
        "first_url": _url(request, cursor=None) if "cursor" in request.GET else None,
        "csv_url": f"/audit.csv?{urlencode(csv_params)}" if csv_params else "/audit.csv",
        "verify_url": _url(request, verify=1), "verification": verification, "dashboard_reads": dashboard_reads,
        "dashboard_reads_url": _url(request, **{DASHBOARD_READS: None if dashboard_reads else 1}),
        "verification_error": verification_error,
        "filters": [_choice_filter(request, "result", "By result", [(value, value.capitalize())
                                                                    for value in apis.AUDIT_RESULTS])],
    }, nav="audit")


async def _async_chunks(chunks):
    """Core's CSV chunks as an async iterator: under the ASGI server Django reads a synchronous one whole into
    memory before sending the first byte; this passes each chunk on as it arrives."""
    iterator = iter(chunks)
    done = object()
    try:
        while (chunk := await sync_to_async(next, thread_sensitive=False)(iterator, done)) is not done:
            yield chunk
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=False)()


@dashboard_page
@require_safe
def audit_csv(request):
    filters = _query(apis.AuditFilterSerializer, request, drop={DASHBOARD_READS})
    if not _dashboard_reads(request):
        filters["hide_checks_by"] = settings.SERVICE_NAME
    chunks = services.audit_csv(request.dashboard_user, **filters)
    if isinstance(request, ASGIRequest):
        chunks = _async_chunks(chunks)
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


@dashboard_page
@require_safe
def moderation(request):
    filters = _query(apis.ModerationListApi.FilterSerializer, request)
    page = services.moderation_list(request.dashboard_user, **filters)
    return _page(request, "moderation.html", {
        "actions": page["items"], "pager": _pager(request, page, "actions"),
        "filter_form": forms.ModerationFilterForm(request.GET, auto_id="filter_%s"),
        "filters": [_choice_filter(request, "status", "By status", [(value, value.capitalize())
                                                                    for value in forms.MODERATION_STATUSES])],
    }, nav="moderation")
