"""The ban-list (federation) pages: the lists the user may view (and a new one), and one list's tabs: its overview
(summary, propagation progress, settings, admins, subscribed groups, follows), its bans (search, filter, add, lift),
its history (filters) and its import and export. Every read is made for the signed-in user and every write with them
as the actor (apps.dashboard.banlists): core decides, and its refusals are shown as it words them."""

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.views import View
from django.views.decorators.http import require_http_methods, require_safe
from rest_framework import serializers

from apps.common.errors import DomainError, NotFoundError
from apps.coreclient import CoreError, CoreUnavailable, ids
from apps.dashboard import banlist_apis, banlists

from . import banlist_forms as bforms
from .audit import _async_chunks
from .auth import dashboard_page
from .common import choice_filter, form_error, optional, pager, query_filters, render_page

TABS = [("", "Overview"), ("bans", "Bans"), ("history", "History"), ("import", "Import and export")]
WRITE_ERRORS = (CoreError, DomainError, CoreUnavailable)
DONE = {
    "created": "The ban list was created. You are its owner.",
    "settings": "The settings were saved.",
    "promoted": "The user is now an admin of this list.",
    "demoted": "The user is no longer an admin of this list.",
    "subscribed": "The group now follows this list's bans.",
    "already-subscribed": "The group already followed this list.",
    "unsubscribed": "The group no longer follows this list.",
    "followed": "This list now takes on the other list's bans.",
    "unfollowed": "This list no longer takes on the other list's bans.",
    "deleted": "The ban list was deleted.",
    "updated": "The user was already banned: the reason was updated.",
    "not-banned": "The user was not banned on this list.",
}


def _done(request) -> str | None:
    done = request.GET.get("done", "")
    if done in DONE:
        return DONE[done]
    kind, _, rest = done.partition("-")
    numbers = rest.split("-")
    if not rest or not all(number.isdigit() for number in numbers):
        return None
    if kind == "banned" and len(numbers) == 1:
        return f"Banned. The ban reaches {_groups(numbers[0])} (the bot bans them in the background)."
    if kind == "unbanned" and len(numbers) == 1:
        return f"Unbanned. The unban reaches {_groups(numbers[0])}."
    if kind == "imported" and len(numbers) == 3:
        return f"Imported: {numbers[0]} added, {numbers[1]} updated, {numbers[2]} unchanged."
    return None


def _groups(count: str) -> str:
    return f"{count} group{'' if count == '1' else 's'}"


def _message(exc) -> str:
    if isinstance(exc, CoreUnavailable):
        raise exc
    return exc.message


def _status(exc) -> int:
    return getattr(exc, "status_code", 400)


def _tab_page(request, ban_list: dict, tab: str, template: str, context: dict, *, status: int = 200):
    return render_page(request, f"banlist_{template}.html", {
        "ban_list": ban_list, "tabs": TABS, "tab": tab, "tab_title": dict(TABS)[tab], "done": _done(request),
        **context,
    }, status=status, nav="banlists")


# -- the lists


@dashboard_page
@require_http_methods(["GET", "POST"])
def banlist_list(request):
    user = request.dashboard_user
    form, status = bforms.BanListNameForm(), 200
    if request.method == "POST":
        form = bforms.BanListNameForm(request.POST)
        if form.is_valid():
            try:
                created = banlists.create(user, name=form.cleaned_data["name"])
            except WRITE_ERRORS as exc:
                status = form_error(form, exc)
            else:
                return redirect(f"/banlists/{created['id']}?done=created")
        else:
            status = 400
    filters = query_filters(banlist_apis.ListFilterSerializer, request, drop={"done"})
    page = banlists.lists(user, **filters)
    return render_page(request, "banlist_list.html", {
        "lists": page["items"], "pager": pager(request, page, "lists"), "q": request.GET.get("q", ""),
        "form": form,
    }, status=status, nav="banlists")


# -- one list: overview and governance


@dashboard_page
@require_http_methods(["GET", "POST"])
def banlist_detail(request, ban_list_id):
    user = request.dashboard_user
    ban_list = banlists.get(user, ban_list_id)
    if request.method == "GET":
        return _overview(request, ban_list)
    action = request.POST.get("action", "")
    list_id = ban_list["id"]
    if action == "settings":
        form = bforms.BanListSettingsForm(request.POST)
        if not form.is_valid():
            return _overview(request, ban_list, settings_form=form, status=400)
        changes = {name: value for name, value in form.cleaned_data.items() if value != ban_list.get(name)}
        if changes:
            try:
                banlists.update(user, list_id, **changes)
            except WRITE_ERRORS as exc:
                return _overview(request, ban_list, settings_form=form, status=form_error(form, exc))
        return redirect(f"/banlists/{list_id}?done=settings")
    if action == "delete":
        if request.POST.get("confirm") != "yes":
            return _overview(request, ban_list, error="Tick the box to confirm that the list goes.", status=400)
        try:
            banlists.delete(user, list_id)
        except WRITE_ERRORS as exc:
            return _overview(request, ban_list, error=_message(exc), status=_status(exc))
        return redirect("/banlists?done=deleted")
    if action == "promote":
        form = bforms.PromoteForm(request.POST)
        if not form.is_valid():
            return _overview(request, ban_list, promote_form=form, status=400)
        try:
            banlists.admin_add(user, list_id, telegram_user_id=form.cleaned_data["telegram_user_id"])
        except WRITE_ERRORS as exc:
            return _overview(request, ban_list, promote_form=form, status=form_error(form, exc))
        return redirect(f"/banlists/{list_id}?done=promoted#admins")
    if action == "subscribe":
        form = bforms.SubscribeForm(request.POST)
        if not form.is_valid():
            return _overview(request, ban_list, subscribe_form=form, status=400)
        try:
            result = banlists.subscribe(user, list_id, **form.target())
        except WRITE_ERRORS as exc:
            return _overview(request, ban_list, subscribe_form=form, status=form_error(form, exc))
        done = "already-subscribed" if result.get("created") is False else "subscribed"
        return redirect(f"/banlists/{list_id}?done={done}#groups")
    if action == "follow":
        form = bforms.FollowForm(request.POST)
        if not form.is_valid():
            return _overview(request, ban_list, follow_form=form, status=400)
        try:
            banlists.follow(user, list_id, source_id=form.cleaned_data["source_id"])
        except WRITE_ERRORS as exc:
            return _overview(request, ban_list, follow_form=form, status=form_error(form, exc))
        return redirect(f"/banlists/{list_id}?done=followed#follows")
    removals = {
        "demote": ("user_id", lambda value: banlists.admin_remove(user, list_id, user_id=value), "demoted#admins"),
        "unsubscribe": ("group_id", lambda value: banlists.unsubscribe(user, list_id, group_id=value),
                        "unsubscribed#groups"),
        "unfollow": ("source_id", lambda value: banlists.unfollow(user, list_id, source_id=value),
                     "unfollowed#follows"),
    }
    if action in removals:
        field, remove, done = removals[action]
        value = request.POST.get(field, "")
        if not value:
            raise serializers.ValidationError({field: ["This field is required."]})
        try:
            remove(value)
        except WRITE_ERRORS as exc:
            return _overview(request, ban_list, error=_message(exc), status=_status(exc))
        return redirect(f"/banlists/{list_id}?done={done}")
    raise serializers.ValidationError({"action": ["One of settings, delete, promote, demote, subscribe, "
                                                  "unsubscribe, follow or unfollow."]})


def _progress(counts: dict | None) -> dict | None:
    if counts is None:
        return None
    finished = counts.get("done", 0) + counts.get("failed", 0) + counts.get("notify", 0)
    total = finished + counts.get("pending", 0)
    return {**counts, "finished": finished, "total": total,
            "percent": 100 if not total else round(100 * finished / total)}


def _overview(request, ban_list, *, settings_form=None, promote_form=None, subscribe_form=None, follow_form=None,
              error=None, status=200):
    user = request.dashboard_user
    list_id = ban_list["id"]
    progress, _ = optional(banlists.propagation, user, list_id)
    admins, admins_denied = optional(banlists.admins, user, list_id)
    groups, groups_denied = optional(banlists.subscriptions, user, list_id, page=1, limit=200)
    follows, follows_denied = optional(banlists.follows, user, list_id)
    return _tab_page(request, ban_list, "", "detail", {
        "progress": _progress(progress), "admins": admins, "admins_denied": admins_denied,
        "groups": groups, "groups_denied": groups_denied, "follows": follows, "follows_denied": follows_denied,
        "settings_form": settings_form or bforms.BanListSettingsForm(initial={
            "name": ban_list["name"], "log_chat_id": ban_list.get("log_chat_id")}),
        "promote_form": promote_form or bforms.PromoteForm(),
        "subscribe_form": subscribe_form or bforms.SubscribeForm(),
        "follow_form": follow_form or bforms.FollowForm(), "error": error,
    }, status=status)


# -- bans


@dashboard_page
@require_http_methods(["GET", "POST"])
def banlist_bans(request, ban_list_id):
    user = request.dashboard_user
    ban_list = banlists.get(user, ban_list_id)
    list_id = ban_list["id"]
    if request.method == "GET":
        return _bans_page(request, ban_list)
    action = request.POST.get("action", "")
    if action == "ban":
        form = bforms.BanForm(request.POST)
        if not form.is_valid():
            return _bans_page(request, ban_list, ban_form=form, status=400)
        try:
            result = banlists.ban(user, list_id, telegram_user_id=form.cleaned_data["telegram_user_id"],
                                  reason=form.cleaned_data["reason"])
        except WRITE_ERRORS as exc:
            return _bans_page(request, ban_list, ban_form=form, status=form_error(form, exc))
        if result.get("created") is False:
            return redirect(f"/banlists/{list_id}/bans?done=updated")
        return redirect(f"/banlists/{list_id}/bans?done=banned-{result['propagation']['groups']}")
    if action == "unban":
        try:
            telegram_user_id = int(request.POST.get("telegram_user_id", ""))
        except ValueError:
            raise serializers.ValidationError({"telegram_user_id": ["A Telegram user id."]}) from None
        try:
            result = banlists.unban(user, list_id, telegram_user_id=telegram_user_id,
                                    reason=request.POST.get("reason", "")[:banlist_apis.MAX_REASON])
        except WRITE_ERRORS as exc:
            return _bans_page(request, ban_list, error=_message(exc), status=_status(exc))
        if not result.get("removed"):
            return redirect(f"/banlists/{list_id}/bans?done=not-banned")
        return redirect(f"/banlists/{list_id}/bans?done=unbanned-{result['propagation']['groups']}")
    raise serializers.ValidationError({"action": ["One of ban or unban."]})


def _bans_page(request, ban_list, *, ban_form=None, error=None, status=200):
    search = request.GET.get("q", "").strip()
    filters = query_filters(banlist_apis.BanFilterSerializer, request, drop={"q", "done"})
    if search.isdigit() and 0 < int(search) < 2**63:
        filters["telegram_user_id"] = int(search)
    elif search:
        filters["q"] = search[:100]
    filters = {key: value for key, value in filters.items() if value is not None}
    page = banlists.bans(request.dashboard_user, ban_list["id"], **filters)
    return _tab_page(request, ban_list, "bans", "bans", {
        "bans": page["items"], "pager": pager(request, page, "bans"), "q": search,
        "showing_lifted": filters.get("active") is False,
        "filters": [choice_filter(request, "active", "By status", [("true", "Active"), ("false", "Lifted")])],
        "ban_form": ban_form or bforms.BanForm(), "error": error,
    }, status=status)


# -- history


@dashboard_page
@require_safe
def banlist_history(request, ban_list_id):
    user = request.dashboard_user
    ban_list = banlists.get(user, ban_list_id)
    filters = query_filters(banlist_apis.HistoryFilterSerializer, request)
    if filters.get("actor_user_id") is not None:
        ids.store_id(filters["actor_user_id"], name="actor_user_id")
    page = banlists.history(user, ban_list["id"], **filters)
    return _tab_page(request, ban_list, "history", "history", {
        "changes": page["items"], "pager": pager(request, page, "changes"),
        "filter_form": bforms.HistoryFilterForm(request.GET, auto_id="filter_%s"),
        "kinds": bforms.KIND_LABELS,
    })


# -- import and export


@dashboard_page
@require_http_methods(["GET", "POST"])
def banlist_import(request, ban_list_id):
    user = request.dashboard_user
    ban_list = banlists.get(user, ban_list_id)
    list_id = ban_list["id"]
    form, status, faults, refusal = bforms.ImportForm(), 200, [], None
    if request.method == "POST":
        form = bforms.ImportForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = banlists.import_file(user, list_id, format=form.cleaned_data["format"],
                                              content=form.cleaned_data["file"])
            except WRITE_ERRORS as exc:
                faults = _faults(exc)
                if faults:
                    refusal, status = exc.message, exc.status_code
                else:
                    status = form_error(form, exc)
            else:
                counts = "-".join(str(result.get(key, 0)) for key in ("added", "updated", "unchanged"))
                return redirect(f"/banlists/{list_id}/import?done=imported-{counts}")
        else:
            status = 400
    return _tab_page(request, ban_list, "import", "import", {"form": form, "faults": faults,
                                                                  "refusal": refusal}, status=status)


class BanListImportPage(View):
    """The import page's route: a file up to 32 MB is a body larger than the platform's limit, which this view
    declares (apps.common.middleware reads max_request_body_bytes of the view a path leads to)."""

    max_request_body_bytes = banlist_apis.IMPORT_BODY_BYTES
    http_method_names = ["get", "post", "head"]

    def dispatch(self, request, *args, **kwargs):
        return banlist_import(request, *args, **kwargs)


def _faults(exc) -> list[str]:
    """Core's refusal of a file's rows (details.faults: the first ones, {"row", "error"}) as lines to show."""
    if isinstance(exc, CoreUnavailable) or getattr(exc, "status_code", None) != 400:
        return []
    details = exc.details if isinstance(getattr(exc, "details", None), dict) else {}
    faults = details.get("faults")
    if not isinstance(faults, list):
        return []
    lines = [f"Row {fault.get('row')}: {fault.get('error')}" if isinstance(fault, dict) else str(fault)
             for fault in faults]
    total = details.get("fault_count")
    if isinstance(total, int) and total > len(lines):
        lines.append(f"... and {total - len(lines)} more.")
    return lines


@dashboard_page
@require_safe
def banlist_export(request, ban_list_id, format):
    if format not in banlists.EXPORT_FORMATS:
        raise NotFoundError("An export is .csv or .json.")
    filename, media, chunks = banlists.export(request.dashboard_user, ban_list_id, format=format)
    if isinstance(request, ASGIRequest):
        chunks = _async_chunks(chunks)
    response = StreamingHttpResponse(chunks, content_type=media)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- a user's page


def user_ban_lists(user, profile: dict):
    """(bans, reason denied) for the user page's section: the lists a user's Telegram id is on."""
    telegram_user_id = profile.get("telegram_user_id")
    if telegram_user_id is None:
        return [], None
    answer, denied = optional(banlists.user_bans, user, telegram_user_id=telegram_user_id)
    return (answer["bans"] if answer is not None else None), denied

