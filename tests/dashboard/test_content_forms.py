"""The content rules pages' forms on their own: the locks table's changes against core's locks, a restriction's length
as typed, core's refusals put on the rows they name, and the command list of the Protection section."""

import pytest

from apps.common.contentrules import LOCK_TYPES
from apps.coreclient import CoreError
from apps.dashboard.pages import content, content_forms, content_preview
from apps.dashboard.pages.forms import ProtectionForm


def locks_form(**ticked) -> content_forms.LocksForm:
    data = {"expected_version": "3"}
    for kind in LOCK_TYPES:
        data[f"{kind}_mode"] = "delete"
    data.update(ticked)
    form = content_forms.LocksForm(data)
    assert form.is_valid(), form.errors
    return form


def test_the_locks_table_sends_only_what_differs_from_core_s_locks():
    current = {"sticker": {"mode": "delete", "duration_seconds": None, "reason": ""},
               "poll": {"mode": "warn", "duration_seconds": None, "reason": "no polls"}}
    form = locks_form(sticker_locked="on", poll_locked="on", poll_mode="warn", poll_reason="no polls",
                      url_locked="on", url_mode="tban", url_length="2d", dice_locked="on", dice_mode="ban",
                      dice_length="1h")
    assert form.changes(current) == {
        "url": {"mode": "tban", "duration_seconds": 172800, "reason": ""},
        "dice": {"mode": "ban", "duration_seconds": None, "reason": ""},  # a length for ban is not sent
    }
    assert locks_form().changes(current) == {"sticker": None, "poll": None}


@pytest.mark.parametrize(("typed", "seconds", "error"), [
    ("", None, None), ("90", 90, None), ("30m", 1800, None), ("2H", 7200, None), ("1w", 604800, None),
    ("10s", None, "30 seconds to 366 days."), ("400d", None, "30 seconds to 366 days."),
    ("soon", None, "A length: 30m, 2h, 1d, 1w, or seconds."),
    ("1" * 17, None, "A length: 30m, 2h, 1d, 1w, or seconds."),
])
def test_a_length_as_typed(typed, seconds, error):
    field = content_forms.LengthField()
    if error is None:
        assert field.clean(typed) == seconds
    else:
        with pytest.raises(Exception, match=error):
            field.clean(typed)
    assert field.prepare_value(86400) == "1d"


def test_core_s_refusal_of_a_lock_lands_on_its_row():
    form = locks_form(sticker_locked="on")
    status = content._lock_errors(form, CoreError("validation_error", "locks.sticker.reason: too long", 400,
                                                  {"locks.sticker.reason": ["Text of at most 512 characters."]}))
    assert status == 400 and form.errors["sticker_reason"] == ["Text of at most 512 characters."]
    other = locks_form()
    content._lock_errors(other, CoreError("validation_error", "Something else", 400, {}))
    assert other.non_field_errors() == ["Something else"]


def test_the_disabled_commands_are_typed_as_a_list():
    field = ProtectionForm().fields["disabled_commands"]
    assert field.clean("/Rules notes,  report rules") == ["notes", "report", "rules"]
    assert field.clean("") == [] and field.clean("[]") == []
    assert field.prepare_value(["notes", "rules"]) == "notes rules"
    with pytest.raises(Exception, match="Not a command name: no-dash"):
        field.clean("ok no-dash")


def test_buttons_are_typed_back_as_rose_writes_them():
    rows = [[{"text": "A", "url": "https://a.example"}, {"text": "B", "url": "https://b.example"}],
            [{"text": "C", "url": "tg://resolve?domain=c"}]]
    typed = content_preview.unparse_buttons("Hello", rows)
    assert typed == ("Hello\n[A](buttonurl://https://a.example)\n[B](buttonurl://https://b.example:same)\n"
                     "[C](buttonurl://tg://resolve?domain=c)")
    preview = content_preview.preview(typed, group={"title": "G"}, profile=None)
    assert [[button["text"] for button in row] for row in preview.rows] == [["A", "B"], ["C"]]
    assert preview.html == "Hello"
