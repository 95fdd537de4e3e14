"""The pages' forms. They check shape only (types, lengths); the rules are core's, and core's messages are put
on the fields they name (apply_core_errors)."""

import re

from django import forms
from django.utils.html import escape

from apps.common.audit_actions import ALL_ACTIONS
from apps.dashboard.choices import FLOOD_ACTIONS, MODERATION_TYPES

WARN_ACTIONS = ["ban", "kick", "mute", "tmute"]


def _choices(values, blank: str | None = None):
    return ([("", blank)] if blank is not None else []) + [(value, value) for value in values]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def apply_core_errors(form: forms.Form, exc) -> None:
    """Core's validation details ({"field": ["message"]}) on the form's fields; the rest as a form error."""
    details = exc.details if isinstance(getattr(exc, "details", None), dict) else {}
    placed = False
    for field, messages in details.items():
        if field in form.fields:
            for message in messages if isinstance(messages, list) else [messages]:
                form.add_error(field, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


class LoginForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username",
                                                                            "autofocus": True}))
    password = forms.CharField(max_length=4096, strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


NEVER = "never"
_SPAN_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SPAN = re.compile(r"(\d{1,9})\s*([smhdw])")
MIN_WARN_EXPIRY_SECONDS, MAX_WARN_EXPIRY_SECONDS = 30, 366 * 86400  # core's bounds (apps.groups)


def span_text(seconds: int) -> str:
    """Seconds as the largest whole unit: 604800 -> "1w", 5400 -> "90m"."""
    for unit in ("w", "d", "h", "m"):
        if seconds % _SPAN_UNITS[unit] == 0:
            return f"{seconds // _SPAN_UNITS[unit]}{unit}"
    return f"{seconds}s"


class WarnExpiryField(forms.Field):
    """How long a warning counts, typed as the bot's /warntime takes it (90s, 30m, 12h, 7d, 2w: a number without
    its unit is refused there too) or "never". Cleans to the seconds, NEVER, or None when left empty (keep the
    current value, as the form's other fields); shows core's value the same way (null: "never")."""

    widget = forms.TextInput(attrs={"maxlength": 32, "spellcheck": "false", "autocomplete": "off"})

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if value is None:
            return NEVER
        if isinstance(value, int) and not isinstance(value, bool):
            return span_text(value)
        return value

    def to_python(self, value):
        text = str(value or "").strip().lower()
        if not text:
            return None
        if text in (NEVER, "off", "none", "no"):
            return NEVER
        match = _SPAN.fullmatch(text)
        if match is None:
            raise forms.ValidationError('A duration such as 30m, 12h, 7d or 2w, or "never".')
        seconds = int(match[1]) * _SPAN_UNITS[match[2]]
        if not MIN_WARN_EXPIRY_SECONDS <= seconds <= MAX_WARN_EXPIRY_SECONDS:
            raise forms.ValidationError('30 seconds to 366 days, or "never".')
        return seconds


class GroupSettingsForm(forms.Form):
    title = forms.CharField(max_length=255)
    is_active = forms.BooleanField(required=False, label="Active",
                                   help_text="Inactive groups are not moderated by the bot")
    warn_limit = forms.IntegerField(min_value=1, max_value=100, help_text="Warnings before the warn action")
    warn_action = forms.ChoiceField(choices=_choices(WARN_ACTIONS))
    warn_action_duration_seconds = forms.IntegerField(required=False, label="Warn action duration (seconds)",
                                                      help_text="For tmute; empty keeps the current value")
    warn_expiry_seconds = WarnExpiryField(
        label="Warnings expire after",
        help_text='A duration such as 30m, 12h, 7d or 2w; "never": warnings count until removed; empty keeps the '
                  "current value")

    def changes(self, group: dict) -> dict:
        """Only what differs from the group as core has it (core audits each change); an empty field keeps its
        value, "never" clears the warnings' expiry. (The welcome, rules and log chat are in the Protection section:
        ProtectionForm.)"""
        wanted = {name: value for name, value in self.cleaned_data.items() if value is not None}
        if wanted.get("warn_expiry_seconds") == NEVER:
            wanted["warn_expiry_seconds"] = None
        return {name: value for name, value in wanted.items() if value != group.get(name)}


CAPTCHA_MODES = [("button", "Button: press to prove you are human"), ("math", "Math: answer a small sum"),
                 ("emoji", "Emoji: pick the named emoji")]
RAID_ACTIONS = [("captcha", "Captcha: challenge every new member"), ("mute", "Mute every new member"),
                ("kick", "Kick every new member"), ("ban", "Ban every new member")]
# Django writes help texts unescaped: the tags named here are escaped.
GREETING_HELP = escape("Telegram's HTML (<b>, <i>, <u>, <s>, <a href>, <code>, <tg-spoiler>) and the placeholders "
                       "{first} {last} {fullname} {username} {mention} {id} {chatname} {count}; {rules} adds a Rules "
                       "button.")


def _text(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(required=False, max_length=4096, strip=False, label=label, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": 4}))


def _switch(label: str, help_text: str = "") -> forms.BooleanField:
    return forms.BooleanField(required=False, label=label, help_text=help_text)


class CommandListField(forms.CharField):
    """Bot command names typed with spaces or commas between them, "/" optional: a sorted list, lowercase."""

    NAME = re.compile(r"^/?[A-Za-z0-9_]{1,32}$")

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 8000)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return " ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        words = re.sub(r"[,\[\]'\"]", " ", super().to_python(value) or "").split()
        bad = [word for word in words if not self.NAME.match(word)]
        if bad:
            raise forms.ValidationError(f"Not a command name: {', '.join(bad[:5])} (1 to 32 of a-z, 0-9 and _).")
        return sorted({word.lstrip("/").lower() for word in words})


class ProtectionForm(forms.Form):
    """A group's protection settings (core's ProtectionSettings) by section. Shapes only: the ranges and the rules
    between fields are core's, and its messages land on the fields they name. `expected_version` is the version the
    form was filled from: core refuses the save (409 conflict) when someone saved in between."""

    SECTIONS = [
        ("welcome", "Welcome and goodbye", ["welcome_enabled", "welcome_text", "goodbye_enabled", "goodbye_text",
                                            "clean_welcome", "clean_service"]),
        ("rules", "Rules", ["rules_text", "rules_private"]),
        ("captcha", "Join verification", ["captcha_enabled", "captcha_mode", "captcha_timeout_seconds",
                                          "captcha_failure_action", "captcha_max_attempts"]),
        ("flood", "Antiflood", ["flood_limit", "flood_window_seconds", "flood_action", "flood_action_duration_seconds",
                                "flood_delete_messages"]),
        ("raid", "Anti-raid", ["raid_detection", "raid_join_limit", "raid_window_seconds", "raid_duration_minutes",
                               "raid_action"]),
        ("log", "Log channel", ["log_chat_id"]),
        ("content", "Locks and blocklist", ["lock_warns", "blocklist_action", "blocklist_action_duration_seconds",
                                            "blocklist_delete", "blocklist_joiner_names"]),
        ("commands", "Commands, notes and reports", ["disabled_commands", "disabled_delete", "clean_commands",
                                                     "denials_private", "private_notes", "reports_enabled"]),
    ]
    # Empty means null for these (a meaning of its own); the other numbers are required.
    NULLABLE = frozenset({"flood_window_seconds", "flood_action_duration_seconds", "log_chat_id",
                          "blocklist_action_duration_seconds"})

    expected_version = forms.IntegerField(widget=forms.HiddenInput())
    welcome_enabled = _switch("Greet new members")
    welcome_text = _text("Welcome message", "Empty: the bot's default. " + GREETING_HELP)
    goodbye_enabled = _switch("Say goodbye to members who leave")
    goodbye_text = _text("Goodbye message", GREETING_HELP)
    clean_welcome = _switch("Delete the previous welcome", "Only the latest welcome stays in the chat")
    clean_service = _switch("Delete join and leave notices", "Telegram's service messages")
    rules_text = _text("Rules")
    rules_private = _switch("/rules answers with a button to a private chat",
                            "Off: /rules answers with the rules in the group")
    captcha_enabled = _switch("Verify new members", "A new member is muted until they solve a challenge")
    captcha_mode = forms.ChoiceField(choices=CAPTCHA_MODES, label="Challenge")
    captcha_timeout_seconds = forms.IntegerField(label="Time to solve it (seconds)", help_text="30 to 86400")
    captcha_failure_action = forms.ChoiceField(choices=[("kick", "Kick them"), ("mute", "Keep them muted")],
                                               label="When time runs out")
    captcha_max_attempts = forms.IntegerField(label="Wrong answers allowed", help_text="1 to 10 (math and emoji)")
    flood_limit = forms.IntegerField(label="Messages that make a flood", help_text="0: antiflood off; else 3 to 100")
    flood_window_seconds = forms.IntegerField(required=False, label="Within (seconds)",
                                              help_text="Empty: that many messages in a row; else 1 to 3600")
    flood_action = forms.ChoiceField(choices=_choices(FLOOD_ACTIONS), label="Action on a flood")
    flood_action_duration_seconds = forms.IntegerField(required=False, label="For (seconds)",
                                                       help_text="Required for tmute and tban")
    flood_delete_messages = _switch("Delete the flood's messages too")
    raid_detection = _switch("Detect raids", "Many joins in a short time switch the group into raid mode")
    raid_join_limit = forms.IntegerField(label="Joins that make a raid", help_text="2 to 1000")
    raid_window_seconds = forms.IntegerField(label="Within (seconds)", help_text="1 to 3600")
    raid_duration_minutes = forms.IntegerField(label="Raid mode lasts (minutes)", help_text="1 to 10080")
    raid_action = forms.ChoiceField(choices=RAID_ACTIONS, label="In raid mode")
    log_chat_id = forms.IntegerField(required=False, label="Log chat id",
                                     help_text="Telegram chat that receives the moderation log; empty for none")
    lock_warns = _switch("Tell members what was locked", "When a lock deletes a message (delete mode); off: silently. "
                                                         "The locks themselves: the Locks page")
    blocklist_action = forms.ChoiceField(choices=_choices(FLOOD_ACTIONS), label="Blocklist mode",
                                         help_text="For the blocklist entries that name no mode of their own")
    blocklist_action_duration_seconds = forms.IntegerField(required=False, label="For (seconds)",
                                                           help_text="Required for tmute and tban")
    blocklist_delete = _switch("Delete the message that matched the blocklist")
    blocklist_joiner_names = _switch("Check the names of members who join against the blocklist")
    disabled_commands = CommandListField(label="Disabled commands",
                                         help_text="Commands members may not use (admins still can), separated by "
                                                   "spaces: e.g. rules notes")
    disabled_delete = _switch("Delete a member's disabled command")
    clean_commands = _switch("Delete command messages once handled")
    denials_private = _switch("Answer refused commands in private chat", "Instead of in the group")
    private_notes = _switch("Send notes in private chat", "#name and /get answer with a button to the private chat")
    reports_enabled = _switch("Members may /report", "Reports also go to the log channel")

    def __init__(self, *args, prefix_ids: str = "protection", **kwargs):
        kwargs.setdefault("auto_id", f"{prefix_ids}_%s")
        super().__init__(*args, **kwargs)

    def sections(self) -> list[dict]:
        return [{"key": key, "legend": legend, "fields": [self[name] for name in names]}
                for key, legend, names in self.SECTIONS]

    def changes(self, settings: dict) -> dict:
        """What differs from the settings as core has them (core audits each change)."""
        return {name: value for name, value in self.cleaned_data.items()
                if name != "expected_version" and (value is not None or name in self.NULLABLE)
                and value != settings.get(name)}


class GrantForm(forms.Form):
    user_id = forms.CharField(max_length=150, label="User",
                              help_text="A name, @username or id: suggestions appear as you type",
                              widget=forms.TextInput(attrs={"list": "grant-users", "autocomplete": "off"}))
    role = forms.ChoiceField()
    group_id = forms.ChoiceField(required=False, label="Scope",
                                 help_text="Global, or one group the role applies in")
    expires_at = forms.DateTimeField(required=False, label="Expires at (UTC)", widget=DateTimeLocalInput(),
                                     help_text="Empty: never")
    reason = forms.CharField(max_length=255, required=False)

    def __init__(self, *args, roles: list[dict], groups: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role["name"], f"{role['name']} (rank {role['rank']})") for role in roles]
        self.fields["group_id"].choices = [("", "Global (every group)")] + [
            (group["id"], group["title"]) for group in groups]
        if not self.is_bound:  # a fresh form: the lowest role in the first group, never a global owner by accident
            lowest = min(roles, key=lambda role: role["rank"], default=None)
            self.initial.setdefault("role", lowest and lowest["name"])
            self.initial.setdefault("group_id", groups[0]["id"] if groups else "")


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=255, help_text="Recorded in the audit trail")
    group_id = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput())


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(required=False, choices=_choices(ALL_ACTIONS, "Any action"))
    actor_user_id = forms.CharField(required=False, max_length=64, label="Actor (user id)")
    group_id = forms.CharField(required=False, max_length=64, label="Group id")
    since = forms.DateTimeField(required=False, label="Since (UTC)", widget=DateTimeLocalInput())
    until = forms.DateTimeField(required=False, label="Until (UTC)", widget=DateTimeLocalInput())


class ModerationFilterForm(forms.Form):
    type = forms.ChoiceField(required=False, choices=_choices(MODERATION_TYPES, "Any type"))
    group_id = forms.CharField(required=False, max_length=64, label="Group id")
    target_user_id = forms.CharField(required=False, max_length=64, label="Target (user id)")
    actor_user_id = forms.CharField(required=False, max_length=64, label="Actor (user id)")


class AssignmentFilterForm(forms.Form):
    user_id = forms.CharField(required=False, max_length=64, label="User id")
    group_id = forms.CharField(required=False, max_length=64, label="Group id")
    role = forms.CharField(required=False, max_length=32)
