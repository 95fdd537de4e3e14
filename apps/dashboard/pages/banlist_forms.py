"""The ban-list pages' forms. Shapes only (types, lengths): the rules are core's, and its messages land on the fields
they name (apply_core_errors)."""

import json

from django import forms

from apps.dashboard import banlist_apis, banlists
from apps.dashboard.pages.forms import DateTimeLocalInput

INT64 = 2**63 - 1
KIND_LABELS = {"ban": "Ban", "unban": "Unban", "import": "Import"}
FORMAT_CHOICES = [("csv", "CSV (telegram_user_id,reason,date)"), ("json", "JSON (a list of ids or of objects)")]


class TelegramIdField(forms.IntegerField):
    """A Telegram id, typed as text (no spinner for a 10-digit id), read as a whole number."""

    widget = forms.TextInput

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", -INT64 - 1)
        kwargs.setdefault("max_value", INT64)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"})

    def widget_attrs(self, widget):
        return {}  # no min/max/step: they are number-input attributes


class BanListNameForm(forms.Form):
    name = forms.CharField(max_length=banlist_apis.MAX_NAME, label="Name", help_text="1 to 64 characters")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "create_%s")
        super().__init__(*args, **kwargs)


class BanListSettingsForm(forms.Form):
    name = forms.CharField(max_length=banlist_apis.MAX_NAME, label="Name", help_text="1 to 64 characters")
    log_chat_id = TelegramIdField(required=False, label="Log chat id",
                                  help_text="The Telegram chat every ban, unban and import is posted to (the bot "
                                            "must be in it); empty: none")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "settings_%s")
        super().__init__(*args, **kwargs)


class BanForm(forms.Form):
    telegram_user_id = TelegramIdField(label="Telegram user id", min_value=1,
                                       help_text="The numeric id (/id in a chat shows it)")
    reason = forms.CharField(required=False, max_length=banlist_apis.MAX_REASON, label="Reason",
                             help_text="Shown in the groups and on the list")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "ban_%s")
        super().__init__(*args, **kwargs)


class PromoteForm(forms.Form):
    telegram_user_id = TelegramIdField(label="Telegram user id", min_value=1,
                                       help_text="Of someone who has used the bot or is in one of the groups")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "promote_%s")
        super().__init__(*args, **kwargs)


class SubscribeForm(forms.Form):
    group = forms.RegexField(r"^-?[0-9]{1,20}$", max_length=21, label="Group",
                             help_text="The group's id (from its page here) or its Telegram chat id (negative, "
                                       "e.g. -1001234567890)",
                             error_messages={"invalid": "A group's id or a Telegram chat id (digits, - first for "
                                                        "a chat id)."})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "subscribe_%s")
        super().__init__(*args, **kwargs)

    def target(self) -> dict:
        value = self.cleaned_data["group"]
        if value.startswith("-"):
            return {"telegram_chat_id": int(value)}
        return {"group_id": value}


class FollowForm(forms.Form):
    source_id = forms.CharField(max_length=64, label="Ban list id", help_text="The list whose bans this one takes "
                                                                             "on (its id, as /fedinfo shows it)")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "follow_%s")
        super().__init__(*args, **kwargs)


class ImportForm(forms.Form):
    file = forms.FileField(label="File (.csv or .json)",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,.txt,text/csv,"
                                                                            "application/json,text/plain"}))
    format = forms.ChoiceField(choices=FORMAT_CHOICES, label="Format", widget=forms.RadioSelect,
                               initial="csv")

    MAX_BYTES = banlist_apis.MAX_IMPORT_CHARS

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "import_%s")
        super().__init__(*args, **kwargs)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError("The file is larger than 32 MB.")
        try:
            text = b"".join(upload.chunks()).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None
        if not text.strip():
            raise forms.ValidationError("The file is empty.")
        return text

    def clean(self):
        data = super().clean()
        if data.get("format") == "json" and "file" in data:
            try:
                json.loads(data["file"])
            except ValueError as exc:
                self.add_error("file", f"Not JSON: {exc}")
        return data


class HistoryFilterForm(forms.Form):
    """The history's filters, read (and refused) by the API's serializer; this renders them."""

    kind = forms.ChoiceField(required=False, label="Kind",
                             choices=[("", "Any")] + [(kind, KIND_LABELS[kind]) for kind in banlists.CHANGE_KINDS])
    telegram_user_id = forms.IntegerField(required=False, label="Telegram user id")
    actor_user_id = forms.CharField(required=False, max_length=64, label="By (user id)")
    since = forms.DateTimeField(required=False, label="From", widget=DateTimeLocalInput())
    until = forms.DateTimeField(required=False, label="Until", widget=DateTimeLocalInput())
