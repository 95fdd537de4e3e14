"""A group's content rules pages: locks, blocklist (bulk paste, import and export as a text file), filters and notes
with their replies previewed as Telegram would show them, and the "test a message" box. Each page reads core as the
signed-in user (VIEW_GROUPS) and writes through apps.dashboard.content (MANAGE_SETTINGS checked by core)."""

from math import ceil

from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from rest_framework import serializers

from apps.common.contentrules import LOCK_TYPES
from apps.common.errors import DomainError, ErrorCode
from apps.coreclient import CoreError, CoreUnavailable
from apps.dashboard import content, services
from apps.dashboard.content_apis import text_download

from . import content_forms as cforms
from . import content_preview
from .auth import dashboard_page
from .common import form_error, optional, render_page, url_with

TABS = [("locks", "Locks"), ("blocklist", "Blocklist"), ("filters", "Filters"), ("notes", "Notes"),
        ("test", "Test a message")]
DONE = {
    "locks": "The locks were saved.", "locks-unchanged": "Nothing changed in the locks.",
    "lockwarns": "The lock warning setting was saved.",
    "blocklist-settings": "The blocklist settings were saved.",
    "cleared": "Every entry was removed.",
    "filter-saved": "The filter was saved.", "filters-cleared": "Every filter was removed.",
    "note-saved": "The note was saved.", "notes-cleared": "Every note was removed.",
}
BLOCKLIST_PAGE = 100
PREVIEW_MAX_CHARS = 8192
WRITE_ERRORS = (CoreError, DomainError, CoreUnavailable)


def _page(request, template: str, group: dict, tab: str, context: dict, *, status: int = 200):
    done = request.GET.get("done", "")
    message = DONE.get(done)
    if message is None and done.startswith(("added-", "removed-")):
        kind, _, counts = done.partition("-")
        message = _counts_message(kind, counts)
    return render_page(request, template, {
        "group": group, "tabs": TABS, "tab": tab, "tab_title": dict(TABS)[tab], "done": message, **context,
    }, status=status, nav="groups")


def _counts_message(kind: str, counts: str) -> str | None:
    numbers = counts.split("-")
    if not all(number.isdigit() for number in numbers):
        return None
    if kind == "added" and len(numbers) == 2:
        return f"Blocklist: {numbers[0]} added, {numbers[1]} updated."
    if kind == "removed" and len(numbers) == 1:
        return f"{numbers[0]} removed."
    return None


def _conflict_message(exc) -> str:
    return (f"Someone else changed this group's settings while you were editing ({exc.message}). Nothing was saved. "
            "Your values are still in the form, now based on the saved version: check them and save again to "
            "apply yours.")


# -- locks


@dashboard_page
@require_http_methods(["GET", "POST"])
def locks(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    current = content.locks_get(user, group_id)
    protection, _ = optional(services.protection_get, user, group_id)
    if request.method == "GET":
        form = cforms.LocksForm(initial=cforms.LocksForm.initial_from(current["locks"], current["version"]))
        return _locks_page(request, group, form, protection)
    if request.POST.get("action") == "lockwarns":
        return _lock_warns(request, group, current, protection)
    form = cforms.LocksForm(request.POST)
    if not form.is_valid():
        return _locks_page(request, group, form, protection, status=400)
    changes = form.changes(current["locks"])
    if not changes:
        return redirect(f"/groups/{group_id}/locks?done=locks-unchanged")
    try:
        content.locks_update(user, group_id, locks=changes, expected_version=form.cleaned_data["expected_version"])
    except CoreError as exc:
        if exc.code == ErrorCode.CONFLICT:
            data = request.POST.copy()
            data["expected_version"] = str(content.locks_get(user, group_id)["version"])
            form = cforms.LocksForm(data)
            form.is_valid()
            form.add_error(None, _conflict_message(exc))
            return _locks_page(request, group, form, protection, status=409)
        return _locks_page(request, group, form, protection, status=_lock_errors(form, exc))
    except WRITE_ERRORS as exc:
        return _locks_page(request, group, form, protection, status=form_error(form, exc))
    return redirect(f"/groups/{group_id}/locks?done=locks")


LOCK_ROW_FIELDS = {"mode": "mode", "duration_seconds": "length", "reason": "reason"}


def _lock_errors(form, exc) -> int:
    """Core's details name a row's value ("locks.sticker.duration_seconds": [...]): put them on the row."""
    details = exc.details if isinstance(getattr(exc, "details", None), dict) else {}
    placed = False
    for key, messages in details.items():
        _, kind, attribute = [*str(key).split("."), "", ""][:3]
        if str(key).startswith("locks.") and kind in LOCK_TYPES:
            field = f"{kind}_{LOCK_ROW_FIELDS.get(attribute, 'mode')}"
            for message in messages if isinstance(messages, list) else [messages]:
                form.add_error(field, str(message))
            placed = True
    if placed:
        return exc.status_code
    return form_error(form, exc)


def _lock_warns(request, group, current, protection):
    form = cforms.LockWarnsForm(request.POST)
    locks_form = cforms.LocksForm(initial=cforms.LocksForm.initial_from(current["locks"], current["version"]))
    if not form.is_valid():
        return _locks_page(request, group, locks_form, protection, warns_form=form, status=400)
    try:
        services.protection_update(request.dashboard_user, group["id"],
                                   expected_version=form.cleaned_data["expected_version"],
                                   lock_warns=form.cleaned_data["lock_warns"])
    except WRITE_ERRORS as exc:
        return _locks_page(request, group, locks_form, protection, warns_form=form, status=form_error(form, exc))
    return redirect(f"/groups/{group['id']}/locks?done=lockwarns")


def _locks_page(request, group, form, protection, *, warns_form=None, status=200):
    if warns_form is None and protection is not None and "lock_warns" in protection:
        warns_form = cforms.LockWarnsForm(initial={"lock_warns": protection["lock_warns"],
                                                   "expected_version": protection["version"]})
    return _page(request, "content_locks.html", group, "locks", {"form": form, "warns_form": warns_form},
                 status=status)


# -- blocklist


@dashboard_page
@require_http_methods(["GET", "POST"])
def blocklist(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    if request.method == "GET":
        return _blocklist_page(request, group)
    action = request.POST.get("action", "")
    if action == "add":
        form = cforms.BlocklistAddForm(request.POST)
        if not form.is_valid():
            return _blocklist_page(request, group, add_form=form, status=400)
        try:
            result = content.blocklist_add(user, group_id, entries=form.cleaned_data["entries"])
        except WRITE_ERRORS as exc:
            return _blocklist_page(request, group, add_form=form, status=form_error(form, exc))
        return redirect(f"/groups/{group_id}/blocklist?done=added-{result['added']}-{result['updated']}")
    if action == "remove":  # a row's own Remove button sends its pattern; "Remove selected" the ticked ones
        one = request.POST.get("pattern")
        patterns = [one] if one else [pattern for pattern in request.POST.getlist("patterns") if pattern]
        if not patterns:
            return _blocklist_page(request, group, error="Select the entries to remove.", status=400)
        try:
            result = content.blocklist_remove(user, group_id, patterns=patterns)
        except WRITE_ERRORS as exc:
            return _blocklist_page(request, group, error=_message(exc), status=_status(exc))
        return redirect(f"/groups/{group_id}/blocklist?done=removed-{result['removed']}")
    if action == "clear":
        if request.POST.get("confirm") != "yes":
            return _blocklist_page(request, group, error="Tick the box to confirm that every entry goes.",
                                   status=400)
        try:
            content.blocklist_clear(user, group_id)
        except WRITE_ERRORS as exc:
            return _blocklist_page(request, group, error=_message(exc), status=_status(exc))
        return redirect(f"/groups/{group_id}/blocklist?done=cleared")
    if action == "settings":
        return _blocklist_settings(request, group)
    raise serializers.ValidationError({"action": ["One of add, remove, clear or settings."]})


def _message(exc) -> str:
    if isinstance(exc, CoreUnavailable):
        raise exc
    return exc.message


def _status(exc) -> int:
    return getattr(exc, "status_code", 400)


def _blocklist_settings(request, group):
    form = cforms.BlocklistSettingsForm(request.POST)
    if not form.is_valid():
        return _blocklist_page(request, group, settings_form=form, status=400)
    current = services.protection_get(request.dashboard_user, group["id"])
    changes = form.changes(current)
    if changes:
        try:
            services.protection_update(request.dashboard_user, group["id"],
                                       expected_version=form.cleaned_data["expected_version"], **changes)
        except WRITE_ERRORS as exc:
            return _blocklist_page(request, group, settings_form=form, status=form_error(form, exc))
    return redirect(f"/groups/{group['id']}/blocklist?done=blocklist-settings")


@dashboard_page
@require_POST
def blocklist_import(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    form = cforms.BlocklistImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _blocklist_page(request, group, import_form=form, status=400)
    try:
        result = content.blocklist_add(user, group_id, entries=form.cleaned_data["file"])
    except WRITE_ERRORS as exc:
        return _blocklist_page(request, group, import_form=form, status=form_error(form, exc))
    return redirect(f"/groups/{group_id}/blocklist?done=added-{result['added']}-{result['updated']}")


@dashboard_page
@require_safe
def blocklist_export(request, group_id):
    return text_download(*content.blocklist_export(request.dashboard_user, group_id))


def _blocklist_page(request, group, *, add_form=None, import_form=None, settings_form=None, error=None,
                    status=200):
    user = request.dashboard_user
    data = content.blocklist_get(user, group["id"])
    query = request.GET.get("q", "").strip()[:100]
    items = [item for item in data["items"] if query.casefold() in item["pattern"].casefold()] if query \
        else data["items"]
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        raise serializers.ValidationError({"page": ["A page number."]}) from None
    pages = max(1, ceil(len(items) / BLOCKLIST_PAGE))
    number = min(number, pages)
    shown = items[(number - 1) * BLOCKLIST_PAGE: number * BLOCKLIST_PAGE]
    protection, _ = optional(services.protection_get, user, group["id"])
    if settings_form is None and protection is not None and "blocklist_action" in protection:
        settings_form = cforms.BlocklistSettingsForm(initial={
            **{name: protection.get(name) for name in cforms.BlocklistSettingsForm.FIELDS},
            "expected_version": protection["version"]})
    return _page(request, "content_blocklist.html", group, "blocklist", {
        "items": shown, "total": len(data["items"]), "matching": len(items), "q": query,
        "page_number": number, "pages": pages,
        "previous_url": url_with(request, page=number - 1) if number > 1 else None,
        "next_url": url_with(request, page=number + 1) if number < pages else None,
        "group_mode": protection.get("blocklist_action") if protection else None,
        "add_form": add_form or cforms.BlocklistAddForm(), "import_form": import_form or cforms.BlocklistImportForm(),
        "settings_form": settings_form, "error": error,
    }, status=status)


# -- filters and notes


def _reply_initial(item: dict) -> dict:
    return {"text": content_preview.unparse_buttons(item.get("text") or "", item.get("buttons")),
            "media_type": item.get("media_type") or "", "media_file_id": item.get("media_file_id") or ""}


def _reply_body(data: dict) -> dict:
    return {"text": data["text"], "media_type": data["media_type"] or None,
            "media_file_id": data["media_file_id"] or ""}


def _preview_of(request, group, form) -> content_preview.ReplyPreview:
    value = form["text"].value()
    media = form["media_type"].value()
    profile, _ = optional(services.viewer_profile, request.dashboard_user)
    return content_preview.preview(value if isinstance(value, str) else "", group=group, profile=profile,
                                   media_type=media if isinstance(media, str) and media else None)


@dashboard_page
@require_http_methods(["GET", "POST"])
def filters(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    if request.method == "GET":
        form, editing = cforms.FilterForm(), None
        edit = request.GET.get("edit")
        if edit:
            items = content.filters_get(user, group_id)["items"]
            editing = next((item for item in items if str(item["id"]) == edit), None)
            if editing is None:
                raise serializers.ValidationError({"edit": ["No such filter (removed meanwhile?)."]})
            form = cforms.FilterForm(initial={"trigger": editing["trigger"], "match": editing["match"],
                                              **_reply_initial(editing)})
        return _replies_page(request, group, form, kinds="filters", editing=editing)
    return _replies_post(
        request, group_id, group, form_class=cforms.FilterForm, kind="filter", kinds="filters",
        save=lambda data: content.filter_save(user, group_id, trigger=data["trigger"], match=data["match"],
                                              **_reply_body(data)),
        remove=lambda: content.filters_remove(user, group_id, triggers=[request.POST.get("trigger", "")]),
        clear=lambda: content.filters_clear(user, group_id))


def _replies_post(request, group_id, group, *, form_class, kind, kinds, save, remove, clear):
    """The filters or notes page's POST: preview (shown, not saved), save, remove one or clear them all; a write
    comes back to the page with a done= message, or shows the page again with core's refusal."""
    action = request.POST.get("action", "")
    if action == "preview":  # the no-script preview: shown, not saved
        form = form_class(request.POST)
        form.is_valid()
        return _replies_page(request, group, form, kinds=kinds)
    if action == "save":
        form = form_class(request.POST)
        if not form.is_valid():
            return _replies_page(request, group, form, kinds=kinds, status=400)
        try:
            save(form.cleaned_data)
        except WRITE_ERRORS as exc:
            return _replies_page(request, group, form, kinds=kinds, status=form_error(form, exc))
        return redirect(f"/groups/{group_id}/{kinds}?done={kind}-saved")
    if action == "remove":
        try:
            result = remove()
        except WRITE_ERRORS as exc:
            return _replies_page(request, group, form_class(), kinds=kinds, error=_message(exc), status=_status(exc))
        return redirect(f"/groups/{group_id}/{kinds}?done=removed-{result['removed']}")
    if action == "clear":
        if request.POST.get("confirm") != "yes":
            return _replies_page(request, group, form_class(), kinds=kinds,
                                 error=f"Tick the box to confirm that every {kind} goes.", status=400)
        try:
            clear()
        except WRITE_ERRORS as exc:
            return _replies_page(request, group, form_class(), kinds=kinds, error=_message(exc), status=_status(exc))
        return redirect(f"/groups/{group_id}/{kinds}?done={kinds}-cleared")
    raise serializers.ValidationError({"action": ["One of save, preview, remove or clear."]})


def _replies_page(request, group, form, *, kinds, editing=None, error=None, status=200):
    """The filters or notes page (template content_<kinds>.html, tab <kinds>)."""
    items = getattr(content, f"{kinds}_get")(request.dashboard_user, group["id"])["items"]
    return _page(request, f"content_{kinds}.html", group, kinds, {
        "items": items, "form": form, "editing": editing, "error": error,
        "preview": _preview_of(request, group, form),
    }, status=status)


@dashboard_page
@require_http_methods(["GET", "POST"])
def notes(request, group_id):
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    if request.method == "GET":
        form, editing = cforms.NoteForm(), None
        edit = request.GET.get("edit")
        if edit:
            try:
                editing = content.note_get(user, group_id, edit.lower())
            except CoreError as exc:
                if exc.status_code in (400, 404):
                    raise serializers.ValidationError({"edit": ["No such note (removed meanwhile?)."]}) from None
                raise
            form = cforms.NoteForm(initial={"name": editing["name"], **_reply_initial(editing)})
        return _replies_page(request, group, form, kinds="notes", editing=editing)
    return _replies_post(
        request, group_id, group, form_class=cforms.NoteForm, kind="note", kinds="notes",
        save=lambda data: content.note_save(user, group_id, name=data["name"], **_reply_body(data)),
        remove=lambda: content.notes_remove(user, group_id, names=[request.POST.get("name", "").lower()]),
        clear=lambda: content.notes_clear(user, group_id))


@dashboard_page
@require_safe
def reply_preview(request, group_id):
    """A filter's or note's reply as Telegram would show it, for content.js to put beside the text as it is typed:
    an HTML fragment."""
    text = request.GET.get("text", "")
    if len(text) > PREVIEW_MAX_CHARS:
        raise serializers.ValidationError({"text": [f"At most {PREVIEW_MAX_CHARS} characters."]})
    media = request.GET.get("media_type") or None
    if media is not None and media not in cforms.MEDIA_TYPES:
        raise serializers.ValidationError({"media_type": [f"One of {', '.join(cforms.MEDIA_TYPES)}."]})
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    profile, _ = optional(services.viewer_profile, user)
    return render(request, "dashboard/includes/reply_preview.html",
                  {"preview": content_preview.preview(text, group=group, profile=profile, media_type=media)})


# -- the "test a message" box


@dashboard_page
@require_http_methods(["GET", "POST"])
def test_message(request, group_id):
    """GET: the box; POST: what the group's rules would do with the message. Asked by content.js (X-Fragment: 1),
    the answer is the result's HTML fragment only."""
    user = request.dashboard_user
    group = services.group_get(user, group_id)
    fragment = request.headers.get("X-Fragment") == "1"
    if request.method == "GET":
        return _page(request, "content_test.html", group, "test", {"form": cforms.TestMessageForm()})
    form = cforms.TestMessageForm(request.POST)
    result, status = None, 200
    if form.is_valid():
        try:
            result = content.protection_test(user, group_id, text=form.cleaned_data["text"],
                                             message=form.cleaned_data["message_json"])
        except (CoreError, DomainError) as exc:
            status = form_error(form, exc)
    else:
        status = 400
    if fragment:
        return render(request, "dashboard/includes/test_result.html", {"form": form, "result": result},
                      status=status)
    return _page(request, "content_test.html", group, "test", {"form": form, "result": result}, status=status)


def rules_summary(protection: dict | None) -> list[dict] | None:
    """The group page's Content rules section: what each editor holds (from core's settings view)."""
    if protection is None or "locks" not in protection:
        return None
    counts = {"locks": len(protection.get("locks") or {}), "blocklist": len(protection.get("blocklist") or []),
              "filters": len(protection.get("filters") or []), "notes": len(protection.get("notes") or [])}
    nouns = {"locks": ("lock", "locks"), "blocklist": ("blocklist entry", "blocklist entries"),
             "filters": ("filter", "filters"), "notes": ("note", "notes")}
    return [{"tab": tab, "title": title, "count": counts[tab],
             "noun": nouns[tab][0] if counts[tab] == 1 else nouns[tab][1]}
            for tab, title in TABS if tab in counts]
