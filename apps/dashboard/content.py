"""A group's content rules (locks, blocklist, filters, notes) and the "test a message" box: web's side, relaying
core. Reads need VIEW_GROUPS in the group (or globally), asked of core first; writes go to core as the token user
(actor_user_id), and core checks MANAGE_SETTINGS in the group (403 naming it, nothing written) and refuses a stale
expected_version (409 conflict). Buttons typed in Rose's syntax ([label](buttonurl://...)) are taken out of a filter's
or note's text here with apps.common.contentrules.parse_buttons, as the bot does for /filter and /save."""

import re

from apps.common.contentrules import parse_buttons
from apps.coreclient import CoreError, ids

from . import blocklist_file
from .core import core
from .services import MANAGE_SETTINGS, VIEW_GROUPS, _refusal, group_get, read_in_group
from .tokens import DashboardUser


def _read(user: DashboardUser, group_id: str, read, *args):
    """`read(group_id, *args)`, authorized by core in the same request (VIEW_GROUPS in that group or globally)."""
    if args:
        return read_in_group(user, VIEW_GROUPS, group_id, lambda gid, **kw: read(gid, *args, **kw))
    return read_in_group(user, VIEW_GROUPS, group_id, read)


def _write(user: DashboardUser, group_id: str, write, **body):
    """`write(group_id, actor_user_id=..., **body)`: core checks MANAGE_SETTINGS for the token user."""
    ids.store_id(group_id, name="group_id")
    if body.get("expected_version") is None:
        body.pop("expected_version", None)
    try:
        return dict(write(group_id, actor_user_id=user.id, **body))
    except CoreError as exc:
        raise _refusal(exc, MANAGE_SETTINGS) from None


# -- locks


def locks_get(user: DashboardUser, group_id: str) -> dict:
    return dict(_read(user, group_id, core().locks_get))


def locks_update(user: DashboardUser, group_id: str, *, locks: dict, expected_version: int | None = None) -> dict:
    """{type: {"mode", "duration_seconds"?, "reason"?} | None}: None unlocks."""
    return _write(user, group_id, core().locks_update, locks=locks, expected_version=expected_version)


# -- blocklist


def blocklist_get(user: DashboardUser, group_id: str) -> dict:
    return dict(_read(user, group_id, core().blocklist_get))


def blocklist_export(user: DashboardUser, group_id: str) -> tuple[str, str]:
    """(file name, text) of the group's blocklist as a file (apps/dashboard/blocklist_file.py)."""
    group = group_get(user, group_id)
    items = blocklist_get(user, group_id)["items"]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", group.get("title", "")).strip("-").lower()[:40] or "group"
    return f"blocklist-{slug}.txt", blocklist_file.export(items, title=group.get("title", ""))


def blocklist_add(user: DashboardUser, group_id: str, *, entries: list[dict],
                  expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().blocklist_add, entries=entries, expected_version=expected_version)


def blocklist_remove(user: DashboardUser, group_id: str, *, patterns: list[str],
                     expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().blocklist_remove, patterns=patterns, expected_version=expected_version)


def blocklist_clear(user: DashboardUser, group_id: str, *, expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().blocklist_clear, expected_version=expected_version)


# -- filters and notes


def with_buttons(body: dict) -> dict:
    """A filter's or note's body as core stores it: without "buttons", the URL buttons typed in the text (Rose's
    [label](buttonurl://...)) are taken out of it."""
    body = dict(body)
    if body.get("buttons") is None:
        body.pop("buttons", None)
        text, buttons = parse_buttons(body.get("text") or "")
        body["text"], body["buttons"] = text, buttons
    return body


def filters_get(user: DashboardUser, group_id: str) -> dict:
    return dict(_read(user, group_id, core().filters_get))


def filter_save(user: DashboardUser, group_id: str, *, expected_version: int | None = None, **body) -> dict:
    return _write(user, group_id, core().filter_save, expected_version=expected_version, **with_buttons(body))


def filters_remove(user: DashboardUser, group_id: str, *, triggers: list[str],
                   expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().filters_remove, triggers=triggers, expected_version=expected_version)


def filters_clear(user: DashboardUser, group_id: str, *, expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().filters_clear, expected_version=expected_version)


def notes_get(user: DashboardUser, group_id: str) -> dict:
    return dict(_read(user, group_id, core().notes_get))


def note_get(user: DashboardUser, group_id: str, name: str) -> dict:
    return dict(_read(user, group_id, core().note_get, name))


def note_save(user: DashboardUser, group_id: str, *, expected_version: int | None = None, **body) -> dict:
    return _write(user, group_id, core().note_save, expected_version=expected_version, **with_buttons(body))


def notes_remove(user: DashboardUser, group_id: str, *, names: list[str],
                 expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().notes_remove, names=names, expected_version=expected_version)


def notes_clear(user: DashboardUser, group_id: str, *, expected_version: int | None = None) -> dict:
    return _write(user, group_id, core().notes_clear, expected_version=expected_version)


# -- the "test a message" box


def protection_test(user: DashboardUser, group_id: str, *, text: str | None = None,
                    message: dict | None = None) -> dict:
    """Core's explanation of what the group's current rules would do with a message (read-only: VIEW_GROUPS)."""
    if message is not None:
        return dict(_read(user, group_id, lambda gid, **kw: core().protection_test(gid, message=message, **kw)))
    return dict(_read(user, group_id, lambda gid, **kw: core().protection_test(gid, text=text or "", **kw)))
