"""The groups pages: the list, and one group's settings, protection, members and activity."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework import serializers

from apps.common.errors import DomainError, ErrorCode
from apps.coreclient import CoreError, CoreUnavailable
from apps.dashboard import apis, services
from apps.dashboard.choices import MEMBER_STATUSES

from . import content, forms, greeting
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
from .content_forms import TestMessageForm

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
    if request.method == "GET":
        return _group_page(request, group, form=forms.GroupSettingsForm(initial=group))
    form = forms.GroupSettingsForm(request.POST)
    if not form.is_valid():
        return _group_page(request, group, form=form, status=400)
    changes = form.changes(group)
    if not changes:
        return redirect(f"/groups/{group_id}?saved=0")
    try:
        services.group_update(user, group_id, **changes)
    except (CoreError, DomainError, CoreUnavailable) as exc:
        return _group_page(request, group, form=form, status=form_error(form, exc))
    return redirect(f"/groups/{group_id}?saved=1")


# What the group page says after one of its forms was sent (?done=...).
DONE_MESSAGES = {
    "protection": "The protection settings were saved.",
    "protection-unchanged": "Nothing changed in the protection settings.",
    "raid-on": "Raid mode is on.",
    "raid-off": "Raid mode is off.",
    "unapproved": "The member is no longer approved.",
}
PAGE_PARAMS = {"saved", "status", "done"}


def _group_page(request, group: dict, *, form=None, protection_form=None, protection_error: str | None = None,
                status: int = 200):
    """The group page: its facts, settings, protection, activity and members. A form sent back with errors is
    shown as it was typed; the other one from core's values."""
    user = request.dashboard_user
    group_id = group["id"]
    form = form or forms.GroupSettingsForm(initial=group)
    members_filters = query_filters(apis.GroupMemberListApi.FilterSerializer, request, drop=PAGE_PARAMS)
    status_filter = request.GET.get("status") or PRESENT
    if status_filter not in (PRESENT, ANY_STATUS, *MEMBER_STATUSES):
        raise serializers.ValidationError({"status": [f'"{status_filter}" is not a valid choice.']})
    if status_filter != ANY_STATUS:
        members_filters["status"] = status_filter
    members = services.group_members(user, group_id, **members_filters)
    stats, stats_denied = optional(services.stats_group, user, group_id)
    points = group_points(stats["series"]) if stats else []
    protection, protection_denied = optional(services.protection_get, user, group_id)
    if protection is not None and protection_form is None:
        protection_form = forms.ProtectionForm(initial={**protection, "expected_version": protection["version"]})
    approvals, approvals_denied = optional(services.approval_list, user, group_id)
    profile, _ = optional(services.viewer_profile, user)
    previews = []
    if protection_form is not None:
        previews = [greeting.preview(kind, _typed(protection_form, f"{kind}_text"), group=group, profile=profile)
                    for kind in ("welcome", "goodbye")]
    return render_page(request, "group_detail.html", {
        "group": group, "form": form, "saved": request.GET.get("saved"),
        "done": DONE_MESSAGES.get(request.GET.get("done", "")),
        "members": members["items"], "pager": pager(request, members, "members"),
        "filters": [_member_status_filter(request, status_filter)], "status_filter": status_filter,
        "chart": chart(points) if stats else None, "chart_points": points, "stats_denied": stats_denied,
        "protection": protection, "protection_denied": protection_denied, "protection_form": protection_form,
        "protection_error": protection_error, "previews": previews,
        "approvals": approvals, "approvals_denied": approvals_denied,
        "content_rules": content.rules_summary(protection),
        "test_form": TestMessageForm() if protection is not None else None,
    }, status=status, nav="groups")


def _typed(form, name: str) -> str:
    """A text field's value as the form shows it: typed (a form sent back) or core's (a fresh one)."""
    value = form[name].value()
    return value if isinstance(value, str) else ""


@dashboard_page
@require_POST
def group_protection(request, group_id):
    """Saves the Protection section: only what changed, with the version the form was filled from."""
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    current = services.protection_get(user, group_id)
    form = forms.ProtectionForm(request.POST)
    if not form.is_valid():
        return _group_page(request, group, protection_form=form, status=400)
    if request.POST.get("action") == "preview":  # the no-script preview: shown, not saved
        return _group_page(request, group, protection_form=form)
    changes = form.changes(current)
    if not changes:
        return redirect(f"/groups/{group_id}?done=protection-unchanged#protection")
    try:
        services.protection_update(user, group_id, expected_version=form.cleaned_data["expected_version"],
                                   **changes)
    except CoreError as exc:
        if exc.code == ErrorCode.CONFLICT:
            return _conflict(request, group, form, exc)
        return _group_page(request, group, protection_form=form, status=form_error(form, exc))
    except (DomainError, CoreUnavailable) as exc:
        return _group_page(request, group, protection_form=form, status=form_error(form, exc))
    return redirect(f"/groups/{group_id}?done=protection#protection")


def _conflict(request, group: dict, form, exc):
    """Someone saved in between: nothing of this save was written. The form keeps what was typed, says which
    fields now hold something else in core, and carries core's version, so saving again is a deliberate choice."""
    latest = services.protection_get(request.dashboard_user, group["id"])
    differing = [form.fields[name].label for name, value in form.cleaned_data.items()
                 if name != "expected_version" and value != latest.get(name)]
    data = request.POST.copy()
    data["expected_version"] = str(latest["version"])
    sent_back = forms.ProtectionForm(data)
    sent_back.is_valid()
    where = f" The saved values differ from yours in: {', '.join(differing)}." if differing else ""
    sent_back.add_error(None, f"Someone else saved these settings while you were editing (version "
                              f"{form.cleaned_data['expected_version']} is now {latest['version']}). Nothing was "
                              f"saved.{where} Your values are still in the form: check them against the saved ones "
                              f"(reload the page to see those) and save again to apply yours.")
    return _group_page(request, group, protection_form=sent_back, status=exc.status_code)


@dashboard_page
@require_safe
def greeting_preview(request, group_id):
    """The welcome (or goodbye) as Telegram would show it, for protection.js to put beside the text as it is typed:
    an HTML fragment rendered here."""
    user = request.dashboard_user
    kind = request.GET.get("kind", "welcome")
    if kind not in ("welcome", "goodbye"):
        raise serializers.ValidationError({"kind": ['"kind" is welcome or goodbye.']})
    text = request.GET.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        raise serializers.ValidationError({"text": [f"At most {PREVIEW_MAX_CHARS} characters."]})
    group = services.group_get(user, group_id)
    profile, _ = optional(services.viewer_profile, user)
    return render(request, "dashboard/includes/greeting_preview.html",
                  {"preview": greeting.preview(kind, text, group=group, profile=profile)})


PREVIEW_MAX_CHARS = 8192  # twice Telegram's limit, so that "too long" is the preview's own message


@dashboard_page
@require_POST
def group_raid(request, group_id):
    user = request.dashboard_user
    active = request.POST.get("active") == "1"
    try:
        services.protection_raid(user, group_id, active=active)
    except (CoreError, DomainError) as exc:
        group = services.group_get(user, group_id)
        return _group_page(request, group, protection_error=exc.message,
                           status=getattr(exc, "status_code", 400))
    return redirect(f"/groups/{group_id}?done={'raid-on' if active else 'raid-off'}#protection")


@dashboard_page
@require_POST
def approval_revoke(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    target = request.POST.get("user_id", "")
    try:
        services.approval_revoke(user, telegram_chat_id=group["telegram_chat_id"], target_user_id=target)
    except (CoreError, DomainError) as exc:
        return _group_page(request, group, protection_error=exc.message, status=getattr(exc, "status_code", 400))
    return redirect(f"/groups/{group_id}?done=unapproved#approvals")


# The group page lists the members its member count counts (member or restricted) unless another status is picked.
PRESENT, ANY_STATUS = "present", "any"


def _member_status_filter(request, current: str) -> dict:
    choices = [(None, "Present (counted)"), *((value, value.capitalize()) for value in MEMBER_STATUSES),
               (ANY_STATUS, "Any status")]
    return {"title": "By status", "options": [
        {"label": label, "url": url_with(request, status=value), "selected": (value or PRESENT) == current}
        for value, label in choices]}
