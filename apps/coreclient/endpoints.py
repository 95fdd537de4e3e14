"""One method per core endpoint, each naming its Call after itself (the metrics' label; a test holds every method
to it). `_send` is synchronous or a coroutine, depending on the client.

Answers: a decision, a group, a member and a moderation record come back typed (answers.py). Lists, and the
reads web relays to the browser as they are (a group's detail page, users, roles, stats, the audit trail), stay
core's JSON: decoding them into dataclasses only to encode them again would cost and change nothing.
"""

from datetime import datetime

from . import ids
from .analytics_endpoints import AnalyticsEndpoints
from .answers import Decision, Group, Member, ModerationRecord, ProtectionSettings, RecordedAction, UnexpectedAnswer
from .banlist_endpoints import BanListEndpoints
from .calls import PASSWORD_CHECK_SECONDS, Call, acting, compact, group, object_id, user


class Endpoints(BanListEndpoints, AnalyticsEndpoints):
    def _send(self, call: Call):
        raise NotImplementedError

    # -- health, users
    def health(self):
        return self._send(Call("health", "GET", "/api/health", retry=True, enveloped=False))

    def user_create(self, *, username: str, **fields):
        return self._send(Call("user_create", "POST", "/api/users", json=compact({"username": username, **fields})))

    def user_get(self, user_id: str):
        return self._send(Call("user_get", "GET", f"/api/users/{user(user_id)}", retry=True))

    def user_list(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("user_list", "GET", "/api/users", params=compact(filters), retry=True,
                               headers=acting(acting_user_id)))

    def user_update(self, user_id: str, **fields):
        return self._send(Call("user_update", "PATCH", f"/api/users/{user(user_id)}", json=compact(fields)))

    # -- RBAC
    def check_permission(self, *, permission: str, user_id: str | None = None, telegram_user_id: int | None = None,
                         group_id: str | None = None, telegram_chat_id: int | None = None,
                         ban_list_id: str | None = None) -> Decision:
        """In a group, a ban list's scope (`ban_list_id`: its roles and the global ones; a list that does not exist
        is CoreError not_found), or globally."""
        body = compact({"permission": permission, "user_id": user_id, "telegram_user_id": telegram_user_id,
                        "group_id": group_id, "telegram_chat_id": telegram_chat_id, "ban_list_id": ban_list_id})
        return self._send(Call("check_permission", "POST", "/api/rbac/check-permission", json=body, retry=True,
                               answer=Decision.from_wire))

    def check_permissions(self, checks: list[dict]) -> list[Decision]:
        """The decisions in the order of `checks` (dicts of check_permission's arguments, ban_list_id included)."""
        body = {"checks": [compact(check) for check in checks]}
        return self._send(Call("check_permissions", "POST", "/api/rbac/check-permissions", json=body, retry=True,
                               answer=Decision.many_from_wire))

    def permissions(self):
        return self._send(Call("permissions", "GET", "/api/rbac/permissions", retry=True))

    def roles(self, *, acting_user_id: str | None = None):
        return self._send(Call("roles", "GET", "/api/rbac/roles", retry=True, headers=acting(acting_user_id)))

    def role_get(self, name: str):
        return self._send(Call("role_get", "GET", f"/api/rbac/roles/{ids.role_name(name, name='name')}", retry=True))

    def assignments(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("assignments", "GET", "/api/rbac/assignments", params=compact(filters), retry=True,
                               headers=acting(acting_user_id)))

    def assign_role(self, *, user_id: str, role: str, **fields):
        body = compact({"user_id": user_id, "role": role, **fields})
        # Granting a held role returns the existing assignment, so a retry cannot grant twice.
        return self._send(Call("assign_role", "POST", "/api/rbac/assignments", json=body, retry=True))

    def revoke_assignment(self, assignment_id: str, **fields):
        path = f"/api/rbac/assignments/{object_id(assignment_id, 'assignment_id')}/revoke"
        return self._send(Call("revoke_assignment", "POST", path, json=compact(fields)))

    def system_stats(self):
        return self._send(Call("system_stats", "GET", "/api/rbac/system/stats", retry=True))

    # -- groups and members
    def group_register(self, *, telegram_chat_id: int, title: str, type: str) -> Group:
        body = {"telegram_chat_id": telegram_chat_id, "title": title, "type": type}
        # Idempotent on the chat id.
        return self._send(Call("group_register", "POST", "/api/groups", json=body, retry=True,
                               answer=Group.from_wire))

    def group_get(self, group_id: str, *, acting_user_id: str | None = None) -> dict:
        """With `acting_user_id`, core authorizes VIEW_GROUPS for that user in this group (or globally). Core's
        JSON as it came: web relays it to the browser."""
        return self._send(Call("group_get", "GET", f"/api/groups/{group(group_id)}", retry=True,
                               headers=acting(acting_user_id)))

    def group_by_chat(self, telegram_chat_id: int) -> Group:
        chat_id = ids.telegram_id(telegram_chat_id, name="telegram_chat_id")
        return self._send(Call("group_by_chat", "GET", f"/api/groups/by-chat/{chat_id}", retry=True,
                               answer=Group.from_wire))

    def group_list(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("group_list", "GET", "/api/groups", params=compact(filters), retry=True,
                               headers=acting(acting_user_id)))

    def group_update(self, group_id: str, **fields) -> Group:
        """Changes the fields given; one given as None is sent as null, which clears it (log_chat_id)."""
        return self._send(Call("group_update", "PATCH", f"/api/groups/{group(group_id)}", json=fields, retry=True,
                               answer=Group.from_wire))

    def group_migrate(self, group_id: str, *, new_telegram_chat_id: int) -> Group:
        body = {"new_telegram_chat_id": new_telegram_chat_id}
        return self._send(Call("group_migrate", "POST", f"/api/groups/{group(group_id)}/migrate", json=body,
                               retry=True, answer=Group.from_wire))

    def group_admins_sync(self, group_id: str, *, admins: list[dict]):
        body = {"admins": [compact(admin) for admin in admins]}
        return self._send(Call("group_admins_sync", "POST", f"/api/groups/{group(group_id)}/admins/sync",
                               json=body, retry=True))

    def group_anonymous_admin(self, group_id: str):
        return self._send(Call("group_anonymous_admin", "GET", f"/api/groups/{group(group_id)}/anonymous-admin",
                               retry=True))

    def members(self, group_id: str, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("members", "GET", f"/api/groups/{group(group_id)}/members", params=compact(filters),
                               retry=True, headers=acting(acting_user_id)))

    def member_set(self, group_id: str, *, user_id: str, **fields) -> Member:
        body = compact({"user_id": user_id, **fields})
        return self._send(Call("member_set", "POST", f"/api/groups/{group(group_id)}/members", json=body,
                               retry=True, answer=Member.from_wire))

    def member_update(self, group_id: str, user_id: str, **fields) -> Member:
        path = f"/api/groups/{group(group_id)}/members/{user(user_id)}"
        return self._send(Call("member_update", "PATCH", path, json=compact(fields), retry=True,
                               answer=Member.from_wire))

    # -- moderation
    def moderation_record(self, *, type: str, **fields) -> RecordedAction:
        return self._send(Call("moderation_record", "POST", "/api/moderation/actions",
                               json=compact({"type": type, **fields}), answer=RecordedAction.from_wire))

    def moderation_complete(self, action_id: str, *, status: str, error: str | None = None) -> ModerationRecord:
        body = compact({"status": status, "error": error})
        path = f"/api/moderation/actions/{object_id(action_id, 'action_id')}/complete"
        return self._send(Call("moderation_complete", "POST", path, json=body, answer=ModerationRecord.from_wire))

    def moderation_list(self, **filters):
        return self._send(Call("moderation_list", "GET", "/api/moderation/actions", params=compact(filters),
                               retry=True))

    def warnings(self, group_id: str, user_id: str, **filters):
        path = f"/api/groups/{group(group_id)}/members/{user(user_id)}/warnings"
        return self._send(Call("warnings", "GET", path, params=compact(filters), retry=True))

    def warning_remove(self, group_id: str, user_id: str, warning_id: str, **fields):
        warning = object_id(warning_id, "warning_id")
        path = f"/api/groups/{group(group_id)}/members/{user(user_id)}/warnings/{warning}/remove"
        return self._send(Call("warning_remove", "POST", path, json=compact(fields)))

    def warnings_reset(self, group_id: str, user_id: str, **fields):
        path = f"/api/groups/{group(group_id)}/members/{user(user_id)}/warnings/reset"
        return self._send(Call("warnings_reset", "POST", path, json=compact(fields), retry=True))

    # -- join verification (captcha): core's JSON (the challenge object never carries its answer)
    def challenge_create(self, *, telegram_chat_id: int, telegram_user_id: int, **fields) -> dict:
        """{"created": bool, "challenge": {...}}: the member's pending challenge when one runs, so a retry cannot
        start two."""
        body = compact({"telegram_chat_id": telegram_chat_id, "telegram_user_id": telegram_user_id, **fields})
        return self._send(Call("challenge_create", "POST", "/api/protection/challenges", json=body, retry=True))

    def challenge_messages(self, challenge_id: str, *, message_ids: list[int], round: int | None = None) -> dict:
        path = f"/api/protection/challenges/{object_id(challenge_id, 'challenge_id')}/messages"
        # Adds to the known ids: sending them twice changes nothing.
        return self._send(Call("challenge_messages", "POST", path,
                               json=compact({"message_ids": message_ids, "round": round}), retry=True))

    def challenge_answer(self, challenge_id: str, *, telegram_user_id: int, answer: str,
                         round: int | None = None) -> dict:
        path = f"/api/protection/challenges/{object_id(challenge_id, 'challenge_id')}/answer"
        body = compact({"telegram_user_id": telegram_user_id, "answer": answer, "round": round})
        # Not retried: a wrong answer is counted, and a lost answer is pressed again by the member.
        return self._send(Call("challenge_answer", "POST", path, json=body))

    def challenges_claim_expired(self, *, limit: int = 100) -> dict:
        # Not retried: a claim hands each round out once (core hands out again those whose kick never completed).
        return self._send(Call("challenges_claim_expired", "POST", "/api/protection/challenges/claim-expired",
                               json={"limit": limit}))

    def challenges(self, **filters) -> dict:
        return self._send(Call("challenges", "GET", "/api/protection/challenges", params=compact(filters),
                               retry=True))

    # -- group protection: settings (versioned), raid mode, automated actions, approvals
    def protection_get(self, group_id: str, *, acting_user_id: str | None = None) -> ProtectionSettings:
        """With `acting_user_id`, core authorizes VIEW_GROUPS for that user in this group (or globally)."""
        return self._send(Call("protection_get", "GET", f"/api/groups/{group(group_id)}/protection", retry=True,
                               headers=acting(acting_user_id), answer=ProtectionSettings.from_wire))

    def protection_settings(self, telegram_chat_id: int) -> ProtectionSettings:
        """A chat's settings (the bot's cache loads them); an unknown chat is CoreError not_found."""
        params = {"telegram_chat_id": ids.telegram_id(telegram_chat_id, name="telegram_chat_id")}
        return self._send(Call("protection_settings", "GET", "/api/protection/settings", params=params, retry=True,
                               answer=ProtectionSettings.from_wire))

    def protection_update(self, group_id: str, *, acting_user_id: str | None = None, **fields) -> ProtectionSettings:
        """Changes the settings given (one given as None is sent as null: log_chat_id, the flood window).
        `actor_user_id` or `actor_telegram_user_id`: core checks that they hold MANAGE_SETTINGS in the group (403
        permission_denied naming it, nothing written). `expected_version`: a stale one is 409 conflict; None is
        left out. Retried without an expected version (the same values again change nothing); with one, a retry
        after a lost answer would meet its own change as a conflict."""
        if fields.get("expected_version") is None:
            fields.pop("expected_version", None)
        for actor in ("actor_user_id", "actor_telegram_user_id"):
            if fields.get(actor) is None:
                fields.pop(actor, None)
        return self._send(Call("protection_update", "PATCH", f"/api/groups/{group(group_id)}/protection",
                               json=fields, retry="expected_version" not in fields, headers=acting(acting_user_id),
                               answer=ProtectionSettings.from_wire))

    def protection_versions(self, telegram_chat_ids: list[int]) -> dict[int, int]:
        """Chat id -> its settings version, for the chats core knows among those asked (at most 1000)."""
        body = {"telegram_chat_ids": [int(ids.telegram_id(chat_id, name="telegram_chat_ids")) for chat_id in
                                      telegram_chat_ids]}
        return self._send(Call("protection_versions", "POST", "/api/protection/versions", json=body, retry=True,
                               answer=_versions))

    def protection_raid(self, group_id: str, *, active: bool, minutes: int | None = None,
                        actor_user_id: str | None = None,
                        actor_telegram_user_id: int | None = None) -> ProtectionSettings:
        """Raid mode on or off. With an actor, core checks MANAGE_SETTINGS; without, it is automatic (antiraid).
        Retried: on again keeps the later end, off again changes nothing."""
        body = compact({"active": active, "minutes": minutes, "actor_user_id": actor_user_id,
                        "actor_telegram_user_id": actor_telegram_user_id})
        return self._send(Call("protection_raid", "POST", f"/api/groups/{group(group_id)}/protection/raid",
                               json=body, retry=True, answer=ProtectionSettings.from_wire))

    def protection_action(self, *, telegram_chat_id: int, rule: str, type: str, target_telegram_user_id: int,
                          **fields) -> ModerationRecord:
        """An automated action recorded as requested (actor system:<rule>); an exempt member is CoreError
        exempt_member (details.reason: admin or approved), nothing recorded. Not retried: each call records."""
        body = compact({"telegram_chat_id": telegram_chat_id, "rule": rule, "type": type,
                        "target_telegram_user_id": target_telegram_user_id, **fields})
        return self._send(Call("protection_action", "POST", "/api/protection/actions", json=body,
                               answer=ModerationRecord.from_wire))

    def approval_grant(self, *, telegram_chat_id: int, **parties) -> dict:
        """Approves a member (actor_user_id | actor_telegram_user_id, target_user_id | target_telegram_user_id |
        target_telegram_username): the role `approved` through RBAC, so the actor needs MANAGE_ROLES. Idempotent."""
        body = compact({"telegram_chat_id": telegram_chat_id, **parties})
        return self._send(Call("approval_grant", "POST", "/api/protection/approvals", json=body, retry=True))

    def approval_revoke(self, *, telegram_chat_id: int, **parties) -> dict:
        body = compact({"telegram_chat_id": telegram_chat_id, **parties})
        return self._send(Call("approval_revoke", "POST", "/api/protection/approvals/revoke", json=body,
                               retry=True))

    def approvals(self, group_id: str, *, acting_user_id: str | None = None, **query) -> dict:
        """The group's approved members, a page of them: {"items", "total", "page", "limit"}."""
        return self._send(Call("approvals", "GET", f"/api/groups/{group(group_id)}/approvals",
                               params=compact(query), retry=True, headers=acting(acting_user_id)))

    # -- content rules (issue 15): locks, blocklist, filters, notes, and testing a message against them. Writes
    # take actor_user_id | actor_telegram_user_id (core checks MANAGE_SETTINGS) and expected_version (a stale one is
    # 409 conflict). Each write is retried only without an expected version: the same write again changes nothing.
    def locks_get(self, group_id: str, *, acting_user_id: str | None = None) -> dict:
        """{"version", "locks": {lock_type: {"mode", "duration_seconds", "reason"}}} (locked types only)."""
        return self._send(Call("locks_get", "GET", f"/api/groups/{group(group_id)}/locks", retry=True,
                               headers=acting(acting_user_id)))

    def locks_update(self, group_id: str, *, locks: dict, acting_user_id: str | None = None, **write) -> dict:
        """{type: {"mode", "duration_seconds"?, "reason"?} to lock, or None to unlock}; unknown types are
        CoreError validation_error. Answers as locks_get."""
        return self._write("locks_update", "PATCH", f"/api/groups/{group(group_id)}/locks", {"locks": locks},
                           write, acting_user_id)

    def blocklist_get(self, group_id: str, *, acting_user_id: str | None = None) -> dict:
        """{"version", "items": [{"id", "pattern", "mode", "duration_seconds", "reason"}]}, oldest first."""
        return self._send(Call("blocklist_get", "GET", f"/api/groups/{group(group_id)}/blocklist", retry=True,
                               headers=acting(acting_user_id)))

    def blocklist_add(self, group_id: str, *, entries: list[dict], acting_user_id: str | None = None,
                      **write) -> dict:
        """Adds or updates (by normalized pattern) 1 to 5,000 entries {"pattern", "mode"?, "duration_seconds"?,
        "reason"?}: {"version", "added", "updated"}."""
        body = {"entries": [compact(entry) for entry in entries]}
        return self._write("blocklist_add", "POST", f"/api/groups/{group(group_id)}/blocklist", body, write,
                           acting_user_id)

    def blocklist_remove(self, group_id: str, *, patterns: list[str], acting_user_id: str | None = None,
                         **write) -> dict:
        """{"version", "removed"}; unknown patterns are skipped."""
        return self._write("blocklist_remove", "POST", f"/api/groups/{group(group_id)}/blocklist/remove",
                           {"patterns": list(patterns)}, write, acting_user_id)

    def blocklist_clear(self, group_id: str, *, acting_user_id: str | None = None, **write) -> dict:
        return self._write("blocklist_clear", "POST", f"/api/groups/{group(group_id)}/blocklist/clear", {}, write,
                           acting_user_id)

    def filters_get(self, group_id: str, *, acting_user_id: str | None = None) -> dict:
        """{"version", "items": [{"id", "trigger", "match", "text", "media_type", "media_file_id", "buttons"}]}."""
        return self._send(Call("filters_get", "GET", f"/api/groups/{group(group_id)}/filters", retry=True,
                               headers=acting(acting_user_id)))

    def filter_save(self, group_id: str, *, trigger: str, match: str = "word", text: str = "",
                    media_type: str | None = None, media_file_id: str | None = None,
                    buttons: list[list[dict]] | None = None, acting_user_id: str | None = None, **write) -> dict:
        """Saves the filter of (trigger, match): the filter's fields and "version"."""
        body = compact({"trigger": trigger, "match": match, "text": text, "media_type": media_type,
                        "media_file_id": media_file_id, "buttons": buttons})
        return self._write("filter_save", "POST", f"/api/groups/{group(group_id)}/filters", body, write,
                           acting_user_id)

    def filters_remove(self, group_id: str, *, triggers: list[str], acting_user_id: str | None = None,
                       **write) -> dict:
        """{"version", "removed"}; "prefix:x" / "exact:x" name that match only, a bare trigger every match."""
        return self._write("filters_remove", "POST", f"/api/groups/{group(group_id)}/filters/remove",
                           {"triggers": list(triggers)}, write, acting_user_id)

    def filters_clear(self, group_id: str, *, acting_user_id: str | None = None, **write) -> dict:
        return self._write("filters_clear", "POST", f"/api/groups/{group(group_id)}/filters/clear", {}, write,
                           acting_user_id)

    def notes_get(self, group_id: str, *, acting_user_id: str | None = None) -> dict:
        """{"version", "items": [{"name", "text", "media_type", "media_file_id", "buttons", "updated_at"}]}."""
        return self._send(Call("notes_get", "GET", f"/api/groups/{group(group_id)}/notes", retry=True,
                               headers=acting(acting_user_id)))

    def note_save(self, group_id: str, *, name: str, text: str = "", media_type: str | None = None,
                  media_file_id: str | None = None, buttons: list[list[dict]] | None = None,
                  acting_user_id: str | None = None, **write) -> dict:
        """Saves the note: the note's fields and "version"."""
        body = compact({"name": name, "text": text, "media_type": media_type, "media_file_id": media_file_id,
                        "buttons": buttons})
        return self._write("note_save", "POST", f"/api/groups/{group(group_id)}/notes", body, write,
                           acting_user_id)

    def note_get(self, group_id: str, note_name: str, *, acting_user_id: str | None = None) -> dict:
        """The note (CoreError not_found when there is none by that name)."""
        path = f"/api/groups/{group(group_id)}/notes/{ids.note_name(note_name, name='note_name')}"
        return self._send(Call("note_get", "GET", path, retry=True, headers=acting(acting_user_id)))

    def notes_remove(self, group_id: str, *, names: list[str], acting_user_id: str | None = None,
                     **write) -> dict:
        return self._write("notes_remove", "POST", f"/api/groups/{group(group_id)}/notes/remove",
                           {"names": list(names)}, write, acting_user_id)

    def notes_clear(self, group_id: str, *, acting_user_id: str | None = None, **write) -> dict:
        return self._write("notes_clear", "POST", f"/api/groups/{group(group_id)}/notes/clear", {}, write,
                           acting_user_id)

    def protection_test(self, group_id: str, *, text: str | None = None, message: dict | None = None,
                        acting_user_id: str | None = None) -> dict:
        """What the group's current rules make of a message (text, or a Telegram Message object): {"verdict",
        "locks", "blocklist", "filter", "note"}. Read-only."""
        body = compact({"text": text, "message": message})
        return self._send(Call("protection_test", "POST", f"/api/groups/{group(group_id)}/protection/test",
                               json=body, retry=True, headers=acting(acting_user_id)))

    def _write(self, endpoint: str, method: str, path: str, body: dict, write: dict,
               acting_user_id: str | None):
        """A content-rule write: the body plus the actor and expected_version given (None: left out)."""
        unknown = set(write) - {"actor_user_id", "actor_telegram_user_id", "expected_version"}
        if unknown:
            raise TypeError(f"{endpoint}() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        body = {**body, **compact(write)}
        return self._send(Call(endpoint, method, path, json=body, retry="expected_version" not in body,
                               headers=acting(acting_user_id)))

    # -- events, stats, audit
    def events_batch(self, events: list[dict]):
        body = {"events": [compact(event) for event in events]}
        # Idempotent by event_id.
        return self._send(Call("events_batch", "POST", "/api/events/batch", json=body, retry=True))

    def group_stats(self, group_id: str, *, acting_user_id: str | None = None, **query):
        return self._send(Call("group_stats", "GET", f"/api/stats/groups/{group(group_id)}", params=compact(query),
                               retry=True, headers=acting(acting_user_id)))

    def audit_events(self, *, acting_user_id: str | None = None, **filters):
        return self._send(Call("audit_events", "GET", "/api/audit/events", params=compact(filters), retry=True,
                               headers=acting(acting_user_id)))

    def audit_verify(self):
        return self._send(Call("audit_verify", "GET", "/api/audit/verify", retry=True))

    def audit_feed(self, *, after: int, limit: int = 200):
        """The change feed: events with a sequence above `after`, oldest first (web's live updates)."""
        return self._send(Call("audit_feed", "GET", "/api/audit/events", params={"after": after, "limit": limit},
                               retry=True))

    # -- the log channel's posts, and the last welcome (clean-welcome): core's JSON
    def log_claim(self, *, limit: int = 50) -> dict:
        """{"items": [{"id", "telegram_chat_id", "log_chat_id", "text"}]}, each leased for 60 s."""
        # Not retried: a lost answer's entries are claimable again once their lease runs out.
        return self._send(Call("log_claim", "POST", "/api/protection/log/claim", json={"limit": limit}))

    def log_result(self, entry_id: str, *, status: str, error: str | None = None) -> dict:
        """{"report_in_group": bool}. A second report of one entry is refused with 409 conflict."""
        path = f"/api/protection/log/{object_id(entry_id, 'entry_id')}/result"
        return self._send(Call("log_result", "POST", path, json=compact({"status": status, "error": error}),
                               retry=True))

    def welcome_message(self, *, telegram_chat_id: int, telegram_message_id: int) -> dict:
        """{"previous_message_id": int | None}: the welcome to delete (None when there was none)."""
        body = {"telegram_chat_id": telegram_chat_id, "telegram_message_id": telegram_message_id}
        # Sent again, the same message id answers None: nothing is deleted twice.
        return self._send(Call("welcome_message", "POST", "/api/protection/welcome-message", json=body, retry=True))

    # -- accounts: web's logins and its token revocation store
    def verify_credentials(self, *, username: str, password: str, client_ip: str | None = None):
        body = compact({"username": username, "password": password, "client_ip": client_ip})
        # Not retried: every attempt is audited, and a login is cheap to try again by hand.
        return self._send(Call("verify_credentials", "POST", "/api/auth/verify-credentials", json=body,
                               min_read_timeout=PASSWORD_CHECK_SECONDS))

    def token_revoke(self, *, jti: str, expires_at: datetime, user_id: str | None = None, reason: str | None = None,
                     family: str | None = None, family_expires_at: datetime | None = None,
                     reuse_grace_seconds: float | None = None):
        body = compact({"jti": jti, "expires_at": expires_at, "user_id": user_id, "reason": reason,
                        "family": family, "family_expires_at": family_expires_at,
                        "reuse_grace_seconds": reuse_grace_seconds})
        # Not retried: the answer's already_revoked decides a refresh rotation, and only the first call is True.
        return self._send(Call("token_revoke", "POST", "/api/auth/revoked-tokens", json=body))

    def token_revocation(self, jti: str):
        return self._send(Call("token_revocation", "GET",
                               f"/api/auth/revoked-tokens/{ids.token_id(jti, name='jti')}", retry=True))

    def token_family_revocation(self, family: str):
        """Whether a login session (a token family, the sid claim) is revoked."""
        return self._send(Call("token_family_revocation", "GET",
                               f"/api/auth/revoked-families/{ids.token_id(family, name='family')}", retry=True))


def _versions(data: dict) -> dict[int, int]:
    try:
        return {int(chat_id): version for chat_id, version in data["versions"].items()}
    except (KeyError, TypeError, AttributeError, ValueError):
        raise UnexpectedAnswer("protection versions", "versions is not an object of chat ids") from None
