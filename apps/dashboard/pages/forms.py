"""The pages' forms. They check shape only (types, lengths); the rules are core's, and core's messages are put
on the fields they name (apply_core_errors)."""

from django import forms

from apps.common.audit_actions import ALL_ACTIONS
from apps.dashboard.choices import MODERATION_TYPES

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


class GroupSettingsForm(forms.Form):
    title = forms.CharField(max_length=255)
    is_active = forms.BooleanField(required=False, label="Active",
                                   help_text="Inactive groups are not moderated by the bot")
    warn_limit = forms.IntegerField(min_value=1, max_value=100, help_text="Warnings before the warn action")
    warn_action = forms.ChoiceField(choices=_choices(WARN_ACTIONS))
    warn_action_duration_seconds = forms.IntegerField(required=False, label="Warn action duration (seconds)",
                                                      help_text="For tmute; empty keeps the current value")
    welcome_text = forms.CharField(required=False, max_length=4096, strip=False, widget=forms.Textarea(
        attrs={"rows": 3}))
    rules_text = forms.CharField(required=False, max_length=4096, strip=False, widget=forms.Textarea(
        attrs={"rows": 3}))
    log_chat_id = forms.IntegerField(required=False, label="Log chat id",
                                     help_text="Telegram chat that receives the moderation log; empty for none")

    CLEARABLE = frozenset({"log_chat_id"})  # an emptied field clears these; others keep their value when empty

    def changes(self, group: dict) -> dict:
        """Only what differs from the group as core has it (core audits each change)."""
        return {name: value for name, value in self.cleaned_data.items()
                if (value is not None or name in self.CLEARABLE) and value != group.get(name)}


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
