"""The /fed... commands' arguments and answers (apps/botgateway/federations/texts.py): a list id as core writes it on
either storage profile, names within core's rule, /fbanlist's arguments in either order; every answer is HTML
Telegram accepts (parsed by the sandbox's HTML parser, as Telegram parses it) with names and reasons escaped, split
under Telegram's 4,096 characters; /fbanlist's file is the export's CSV or JSON, read back to the same rows."""

import csv
import io
import json

import pytest

from apps.botgateway.federations import commands, texts
from apps.botgateway.parsing import UsageError
from tgsandbox.markup import parse_html

HOSTILE = "<script>alert(1)</script> & <b>bold"
LIST = {"id": "7", "name": HOSTILE, "owner": {"id": "1", "telegram_user_id": 42, "username": "own",
                                              "display_name": "Owner <x>"},
        "log_chat_id": None, "version": 3, "bans_count": 2, "groups_count": 3, "admins_count": 1}


def accepted(text: str) -> str:
    """The text Telegram shows for this HTML (raises like Telegram's "can't parse entities" when it is not valid)."""
    assert len(text) <= texts.TELEGRAM_TEXT
    plain, _ = parse_html(text)
    return plain


@pytest.mark.parametrize("token", ["7", "123456789", "65f0c0ffee0123456789abcd", "65F0C0FFEE0123456789ABCD"])
def test_list_ids_of_both_profiles_are_read(token):
    assert texts.is_list_id(token)
    assert texts.list_id(token, "usage") == token.lower()


@pytest.mark.parametrize("token", ["", "abc", "-5", "65f0c0ffee0123456789abc", "@someone", "7x", "1" * 20])
def test_other_words_are_not_list_ids(token):
    assert not texts.is_list_id(token)
    with pytest.raises(UsageError):
        texts.list_id(token, "usage")


def test_a_name_is_one_line_of_at_most_64_characters():
    assert texts.fed_name("  Spam   watch\nnet ", "usage") == "Spam watch net"
    assert texts.fed_name("x" * 64, "usage") == "x" * 64
    with pytest.raises(UsageError, match="64"):
        texts.fed_name("x" * 65, "usage")
    with pytest.raises(UsageError, match="usage"):
        texts.fed_name("  \n ", "usage")


@pytest.mark.parametrize(("args", "expected"), [
    ([], (None, "csv")), (["json"], (None, "json")), (["7"], ("7", "csv")), (["7", "JSON"], ("7", "json")),
    (["csv", "65f0c0ffee0123456789abcd"], ("65f0c0ffee0123456789abcd", "csv")),
])
def test_fbanlist_takes_an_id_and_a_format_in_either_order(args, expected):
    assert texts.fbanlist_args(args, "usage") == expected


@pytest.mark.parametrize("args", [["xml"], ["7", "8"], ["json", "csv"], ["7", "json", "extra"]])
def test_fbanlist_refuses_anything_else(args):
    with pytest.raises(UsageError):
        texts.fbanlist_args(args, "usage")


def test_fban_answer_escapes_names_and_reason_and_says_how_far_it_reaches():
    answer = {"ban": {"reason": HOSTILE}, "created": True, "version": 4, "propagation": {"groups": 3, "exempt": 1}}
    text = texts.fban_done(LIST, "<a href=\"tg://user?id=42\">Owner</a>", "&lt;target&gt;", 555, answer, HOSTILE)
    plain = accepted(text)
    assert plain.startswith("New FedBan")
    assert f"Fed: {HOSTILE}" in plain and f"Reason: {HOSTILE}" in plain
    assert "User ID: 555" in plain
    assert "3 chats" in plain and "1 where they are exempt" in plain


def test_a_second_fban_says_the_reason_was_updated_and_reaches_nobody_again():
    answer = {"ban": {"reason": "new"}, "created": False, "propagation": {"groups": 0}}
    plain = accepted(texts.fban_done(LIST, "x", "y", 1, answer, "new"))
    assert plain.startswith("FedBan reason updated") and "Banning them" not in plain


def test_unfban_of_someone_not_banned_says_so():
    plain = accepted(texts.unfban_done(LIST, "x", "<b>y</b>", 1, {"removed": False}, ""))
    assert plain == f"y is not banned in {HOSTILE} (7)."
    plain = accepted(texts.unfban_done(LIST, "x", "y", 1, {"removed": True, "propagation": {"groups": 1}}, "sorry"))
    assert "1 chat of" in plain and "Reason: sorry" in plain


def test_fedinfo_shows_the_list_and_what_it_follows():
    follows = {"follows": [{"id": "9", "name": "<Source>"}], "followers": [{"id": "10", "name": "f"}]}
    plain = accepted(texts.fed_info({**LIST, "log_chat_id": -1001}, follows))
    assert f"Name: {HOSTILE}" in plain and "Creator: Owner <x>" in plain
    assert "Number of bans: 2" in plain and "Log chat: -1001" in plain
    assert "Subscribed to: <Source> (9)" in plain and "Subscribers: 1" in plain


def test_long_listings_are_split_under_telegrams_length_between_lines():
    admins = {"owner": LIST["owner"], "admins": [
        {"user": {"telegram_user_id": 1000 + n, "display_name": f"{HOSTILE} {n}"}, "role": "banlist_admin"}
        for n in range(400)]}
    parts = texts.fed_admins(LIST, admins)
    assert len(parts) > 1
    shown = "\n".join(accepted(part) for part in parts)
    assert shown.count(HOSTILE) == 401  # the list's name in the heading and every admin, none lost at a split
    assert "(owner)" in shown


def test_fedchats_and_myfeds_and_fedsubs_are_valid_html():
    chats = [{"telegram_chat_id": -100 - n, "title": f"<Group> {n}"} for n in range(300)]
    for part in texts.fed_chats(LIST, chats, 301):
        accepted(part)
    assert "1 more" in accepted(texts.fed_chats(LIST, chats, 301)[-1])
    assert "/joinfed 7" in accepted(texts.fed_chats(LIST, [], 0)[0])
    mine = accepted(texts.my_feds([LIST, {**LIST, "id": "8", "owner": {"telegram_user_id": 1}}], 42)[0])
    assert "owner, 2 bans, 3 chats" in mine and "admin, 2 bans" in mine
    assert "/newfed <name>" in accepted(texts.my_feds([], 42)[0])
    subs = accepted(texts.fed_subs(LIST, {"follows": [], "followers": [{"id": "3", "name": "<f>"}]})[0])
    assert "no other federation" in subs and "<f> (3)" in subs


def test_fedstat_lists_every_ban_or_the_one_asked_about():
    answer = {"bans": [{"ban_list": {"id": "7", "name": "<A>"}, "reason": "spam & scam", "banned_at": "2026-01-01"},
                       {"ban_list": {"id": "8", "name": "B"}, "reason": ""}]}
    plain = accepted(texts.fed_stat("<b>x</b>", answer)[0])
    assert plain.startswith("x is banned in 2 federations") and "<A> (7): spam & scam" in plain
    one = accepted(texts.fed_stat("x", answer, "7")[0])
    assert "Reason: spam & scam" in one and "Date: 2026-01-01" in one
    assert "not banned in the federation 9" in accepted(texts.fed_stat("x", answer, "9")[0])
    assert "not banned in any" in accepted(texts.fed_stat("x", {"bans": []})[0])


def test_the_candidates_reply_names_each_list_and_the_syntax():
    lists = [{"id": str(n), "name": f"<L{n}>"} for n in range(25)]
    plain = accepted(texts.candidates(commands.USAGE["fban"], lists))
    assert plain.startswith("Which federation? Use /fban <user> <fed id> [reason]")
    assert "<L0> (0)" in plain and "<L19> (19)" in plain and "and 5 more" in plain


def test_the_file_is_the_exports_csv_or_json():
    bans = [{"telegram_user_id": 5, "reason": 'says "hi", then\nspams', "banned_at": "2026-01-01T00:00:00Z"},
            {"telegram_user_id": 6, "reason": None, "banned_at": None}]
    rows = texts.ban_rows(bans)
    read = list(csv.DictReader(io.StringIO(texts.ban_file(rows, "csv").decode())))
    assert read == [{"telegram_user_id": "5", "reason": 'says "hi", then\nspams', "date": "2026-01-01T00:00:00Z"},
                    {"telegram_user_id": "6", "reason": "", "date": ""}]
    assert json.loads(texts.ban_file(rows, "json")) == rows


def test_every_usage_and_help_line_is_valid_html_once_escaped():
    import html

    for usage in commands.USAGE.values():
        accepted(html.escape(usage))
    for line in commands.HELP_LINES:
        accepted(f"{html.escape(line.usage)}: {html.escape(line.text)}")
    names = {handler.commands and next(iter(handler.commands)) for handler in commands.handlers()
             if hasattr(handler, "commands")}
    for usage in commands.USAGE:
        assert usage in names
