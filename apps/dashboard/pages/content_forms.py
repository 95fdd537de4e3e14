"""The content rules pages' forms (locks, blocklist, filters, notes, the test box). Shapes only: the rules are core's,
and its messages land on the fields they name."""

import json

from django import forms
from django.utils.html import escape

from apps.common.contentrules import LOCK_DESCRIPTIONS, LOCK_TYPES, MODES, TIMED_MODES
from apps.dashboard import blocklist_file
from apps.dashboard.content_apis import MATCHES, MEDIA_TYPES, NOTE_NAME

MODE_LABELS = {"delete": "Delete the message", "warn": "Warn (and delete)", "mute": "Mute (and delete)",
               "tmute": "Mute for a time (and delete)", "kick": "Kick (and delete)", "ban": "Ban (and delete)",
               "tban": "Ban for a time (and delete)"}
MODE_CHOICES = [(mode, MODE_LABELS.get(mode, mode)) for mode in MODES]
LENGTH_HELP = "For tmute and tban: 30m, 2h, 1d, 1w (30 seconds to 366 days)"


class LengthField(forms.CharField):
    """A restriction's length typed as 30m, 2h, 1d, 1w or seconds -> seconds (None when empty)."""

    MAX_CHARS = 16

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)  # no max_length: its validator would meet the seconds (to_python checks it)
        self.widget.attrs.setdefault("maxlength", str(self.MAX_CHARS))

    def prepare_value(self, value):
        if isinstance(value, int):
            return blocklist_file.format_length(value)
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        if len(value) > self.MAX_CHARS:
            raise forms.ValidationError("A length: 30m, 2h, 1d, 1w, or seconds.")
        seconds = blocklist_file.parse_length(value)
        if seconds is None:
            raise forms.ValidationError("A length: 30m, 2h, 1d, 1w, or seconds.")
        if not blocklist_file.MIN_SECONDS <= seconds <= blocklist_file.MAX_SECONDS:
            raise forms.ValidationError("30 seconds to 366 days.")
        return seconds


def _check_length(form: forms.Form, mode_field: str, length_field: str) -> None:
    mode, length = form.cleaned_data.get(mode_field), form.cleaned_data.get(length_field)
    if mode in TIMED_MODES and length is None and length_field not in form.errors:
        form.add_error(length_field, f"{mode} needs a length (e.g. 1h).")


class LocksForm(forms.Form):
    """A row per lock type: locked or not, its mode, length (tmute, tban) and reason. Field names:
    <type>_locked, <type>_mode, <type>_length, <type>_reason; `expected_version` the version it was filled from."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput())

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "locks_%s")
        super().__init__(*args, **kwargs)
        for kind in LOCK_TYPES:
            self.fields[f"{kind}_locked"] = forms.BooleanField(
                required=False, label=f"Lock {kind}",
                widget=forms.CheckboxInput(attrs={"aria-describedby": f"locks_{kind}_description"}))
            self.fields[f"{kind}_mode"] = forms.ChoiceField(choices=MODE_CHOICES, initial="delete",
                                                           label=f"Mode for {kind}")
            self.fields[f"{kind}_length"] = LengthField(label=f"Length for {kind}", widget=forms.TextInput(
                attrs={"size": 6, "placeholder": "e.g. 1h"}))
            self.fields[f"{kind}_reason"] = forms.CharField(required=False, max_length=512,
                                                            label=f"Reason for {kind}",
                                                            widget=forms.TextInput(attrs={"size": 24}))

    @staticmethod
    def initial_from(locks: dict, version: int) -> dict:
        initial: dict = {"expected_version": version}
        for kind, lock in locks.items():
            initial[f"{kind}_locked"] = True
            initial[f"{kind}_mode"] = lock.get("mode") or "delete"
            initial[f"{kind}_length"] = lock.get("duration_seconds")
            initial[f"{kind}_reason"] = lock.get("reason") or ""
        return initial

    def clean(self):
        data = super().clean()
        for kind in LOCK_TYPES:
            if data.get(f"{kind}_locked"):
                _check_length(self, f"{kind}_mode", f"{kind}_length")
        return data

    def rows(self) -> list[dict]:
        return [{"kind": kind, "description": LOCK_DESCRIPTIONS.get(kind, ""),
                 "locked": self[f"{kind}_locked"], "mode": self[f"{kind}_mode"], "length": self[f"{kind}_length"],
                 "reason": self[f"{kind}_reason"]} for kind in LOCK_TYPES]

    def changes(self, locks: dict) -> dict:
        """{type: lock | None} for the rows that differ from core's locks."""
        out: dict = {}
        for kind in LOCK_TYPES:
            current = locks.get(kind)
            if not self.cleaned_data.get(f"{kind}_locked"):
                if current is not None:
                    out[kind] = None
                continue
            mode = self.cleaned_data[f"{kind}_mode"]
            wanted = {"mode": mode,
                      "duration_seconds": self.cleaned_data[f"{kind}_length"] if mode in TIMED_MODES else None,
                      "reason": self.cleaned_data[f"{kind}_reason"]}
            if current is None or any((current.get(key) or None) != (value or None) for key, value in wanted.items()):
                out[kind] = wanted
        return out


GROUP_MODE = [("", "The group's blocklist mode")]


class BlocklistAddForm(forms.Form):
    patterns = forms.CharField(max_length=600_000, strip=False, label="Patterns, one a line",
                               widget=forms.Textarea(attrs={"rows": 6}),
                               help_text=escape("A word or phrase a line; * stands for any run of characters within "
                                                "a word (buy*now). Optionally \"pattern | mode | reason\" "
                                                "(e.g. \"free crypto | tban 1d | scam\")."))
    mode = forms.ChoiceField(choices=GROUP_MODE + MODE_CHOICES, required=False, label="Mode",
                             help_text="For the lines that name none")
    length = LengthField(label="Length", help_text=LENGTH_HELP)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "blocklist_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        _check_length(self, "mode", "length")
        if "patterns" in data and not self.errors:
            entries, problems = blocklist_file.parse(data["patterns"], default_mode=data.get("mode") or None,
                                                     default_duration=data.get("length"))
            for problem in problems[:20]:
                self.add_error("patterns", str(problem))
            if not entries and not problems:
                self.add_error("patterns", "No pattern: type one a line.")
            data["entries"] = entries
        return data


class BlocklistImportForm(forms.Form):
    file = forms.FileField(label="Blocklist file (.txt)", help_text="The format the export writes: one pattern a "
                                                                    "line, optionally \"| mode | reason\"",
                           widget=forms.ClearableFileInput(attrs={"accept": ".txt,text/plain"}))

    MAX_BYTES = 1024 * 1024

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "import_%s")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 1 MiB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        entries, problems = blocklist_file.parse(text)
        if problems:
            raise forms.ValidationError([str(problem) for problem in problems[:20]])
        if not entries:
            raise forms.ValidationError("The file holds no entry (only blank lines and comments).")
        return entries


class BlocklistSettingsForm(forms.Form):
    """The group's blocklist settings (core's ProtectionSettings fields, saved through the protection PATCH)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput())
    blocklist_action = forms.ChoiceField(choices=MODE_CHOICES, label="Blocklist mode",
                                         help_text="For the entries that name no mode of their own")
    blocklist_action_duration_seconds = LengthField(label="Length", help_text=LENGTH_HELP)
    blocklist_delete = forms.BooleanField(required=False, label="Delete the offending message")
    blocklist_joiner_names = forms.BooleanField(required=False, label="Check the names of members who join")

    FIELDS = ("blocklist_action", "blocklist_action_duration_seconds", "blocklist_delete", "blocklist_joiner_names")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "blocklist_settings_%s")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        _check_length(self, "blocklist_action", "blocklist_action_duration_seconds")
        return data

    def changes(self, settings: dict) -> dict:
        out = {name: self.cleaned_data[name] for name in self.FIELDS
               if self.cleaned_data.get(name) != settings.get(name)}
        if "blocklist_action_duration_seconds" in out and self.cleaned_data["blocklist_action"] not in TIMED_MODES:
            del out["blocklist_action_duration_seconds"]  # kept as it is for a mode that reads none
        return out


class LockWarnsForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput())
    lock_warns = forms.BooleanField(required=False, label="Tell the member what was locked",
                                    help_text="When a lock deletes a message (delete mode); off: silently")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "lockwarns_%s")
        super().__init__(*args, **kwargs)


REPLY_HELP = escape("Telegram's HTML (<b>, <i>, <u>, <s>, <a href>, <code>, <tg-spoiler>), the placeholders "
                    "{first} {last} {fullname} {username} {mention} {id} {chatname} {count} {rules}, and URL "
                    "buttons one a line: [Label](buttonurl://https://example.com), "
                    "[Next to it](buttonurl://https://example.org:same).")


class ReplyForm(forms.Form):
    """What a filter or a note answers with."""

    text = forms.CharField(required=False, max_length=8192, strip=False, label="Reply", help_text=REPLY_HELP,
                           widget=forms.Textarea(attrs={"rows": 5}))
    media_type = forms.ChoiceField(required=False, label="Media",
                                   choices=[("", "None (text only)")] + [(kind, kind) for kind in MEDIA_TYPES],
                                   help_text="Sent by its Telegram file id, the reply as its caption")
    media_file_id = forms.CharField(required=False, max_length=256, label="Media file id")


def _check_reply(form: forms.Form) -> None:
    data = form.cleaned_data
    if data.get("media_type") and not data.get("media_file_id"):
        form.add_error("media_file_id", "Give the file id of the media.")
    if data.get("media_file_id") and not data.get("media_type"):
        form.add_error("media_type", "Pick the kind of media the file id is.")
    if not (data.get("text") or "").strip() and not data.get("media_type") and "text" not in form.errors:
        form.add_error("text", "A reply needs a text or a media.")


class FilterForm(ReplyForm):
    trigger = forms.CharField(max_length=100, label="Trigger", help_text="A word or phrase, case- and "
                                                                         "accent-insensitive")
    match = forms.ChoiceField(choices=[("word", "The word or phrase anywhere in a message"),
                                       ("prefix", "A message that starts with it"),
                                       ("exact", "A message that is exactly it")], initial="word", label="Matches")
    field_order = ["trigger", "match", "text", "media_type", "media_file_id"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "filter_%s")
        super().__init__(*args, **kwargs)
        assert set(dict(self.fields["match"].choices)) == set(MATCHES)

    def clean(self):
        data = super().clean()
        _check_reply(self)
        return data


class NoteForm(ReplyForm):
    name = forms.RegexField(NOTE_NAME, max_length=64, label="Name",
                            help_text="Letters, digits, _ and -: members get it with #name or /get name",
                            error_messages={"invalid": "Letters, digits, _ and - only (1 to 64)."})
    field_order = ["name", "text", "media_type", "media_file_id"]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "note_%s")
        super().__init__(*args, **kwargs)

    def clean_name(self):
        return self.cleaned_data["name"].lower()

    def clean(self):
        data = super().clean()
        _check_reply(self)
        return data


class TestMessageForm(forms.Form):
    text = forms.CharField(required=False, max_length=4096, strip=False, label="Message",
                           help_text="As a member would type it", widget=forms.Textarea(attrs={"rows": 3}))
    message_json = forms.CharField(required=False, max_length=65536, label="Or a Telegram message (JSON)",
                                   help_text="A Bot API Message object, to test media, forwards, buttons, entities...",
                                   widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "test_%s")
        super().__init__(*args, **kwargs)

    def clean_message_json(self):
        raw = self.cleaned_data["message_json"].strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError(f"Not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("A Telegram message is a JSON object ({...}).")
        return value

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("message_json") and not (data.get("text") or "").strip():
            self.add_error("text", "Type a message to test (or give a Telegram message as JSON).")
        return data
