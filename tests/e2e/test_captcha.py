"""Join verification through the sandbox: a joiner is restricted and challenged; the right press lifts it and
welcomes them; other members' presses and wrong answers are refused or counted; time running out removes them and
deletes the challenge; a bot restart in the middle of challenges ends each once."""

import itertools
import re
import time

import httpx
import pytest

from apps.challenges.puzzles import EMOJI
from apps.challenges.services import CLAIM_LEASE_SECONDS

from .conftest import BOT
from .processes import TEST_KEY

pytestmark = pytest.mark.e2e

_people = itertools.count(1)
SHORTEST_TIMEOUT = 30  # the contract's bound; the sweeper runs every few seconds after it
EMOJI_BY_NAME = {name: symbol for symbol, name in EMOJI}


def core(platform, method, path, **options) -> dict:
    response = httpx.request(method, f"http://127.0.0.1:{platform.core_port}{path}", headers={"X-API-Key": TEST_KEY},
                             timeout=10, **options)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def configure(platform, chat_id, **changes) -> dict:
    group = platform.api.group_by_chat(chat_id)
    # The bot may hold the group's settings from before (cached when it joined): a join now could meet the old ones.
    return platform.reload_settings(lambda: core(platform, "PATCH", f"/api/groups/{group.id}/protection",
                                                 json=changes))


def action_status(platform, action_id) -> str:
    return core(platform, "GET", f"/api/moderation/actions/{action_id}")["status"]


def newcomer(platform) -> dict:
    number = next(_people)
    return platform.telegram.create_user(f"Newbie{number}", username=f"captcha_newbie_{number}_{int(time.time())}")


def challenge_message(platform, chat_id, user, since_id=0, timeout=10.0) -> dict:
    """The bot's challenge for `user`: its message with the buttons."""
    def found():
        for message in platform.telegram.messages(chat_id, since_id=since_id, sender=BOT, count=100):
            buttons = [b for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
            mentioned = [entity.get("user", {}).get("id") for entity in message.get("entities", [])]
            if buttons and buttons[0]["callback_data"].startswith("cap:") and user["id"] in mentioned:
                return message
        return None
    return platform.wait_for(found, "the challenge message", timeout=timeout)


def buttons(message) -> list[dict]:
    return [button for row in message["reply_markup"]["inline_keyboard"] for button in row]


def press(platform, chat_id, message, user, button) -> str:
    """Presses and returns the bot's answer to the press (it always answers one)."""
    query = platform.telegram.press_button(chat_id, message["message_id"], user["id"], button["callback_data"])
    answer = platform.wait_for(lambda: platform.telegram.callback_answer(query["id"], wait=1)["answer"],
                               "the bot to answer the press", timeout=10)
    return answer["text"]


def status(platform, chat_id, user) -> str:
    return platform.telegram.member(chat_id, user["id"])["status"]


def message_exists(platform, chat_id, message_id) -> bool:
    return any(message["message_id"] == message_id
               for message in platform.telegram.messages(chat_id, since_id=message_id - 1, count=100))


def core_challenge(platform, chat_id, user) -> dict:
    items = platform.api.challenges(telegram_chat_id=chat_id, limit=100)["items"]
    return next(item for item in items if item["telegram_user_id"] == user["id"])


def right_button(message) -> dict:
    text, options = message["text"], buttons(message)
    if len(options) == 1:
        return options[0]
    sum_question = re.search(r"What is (\d+) \+ (\d+)\?", text)
    if sum_question:
        total = str(int(sum_question[1]) + int(sum_question[2]))
        return next(button for button in options if button["text"] == total)
    name = re.search(r"Press the (\w+)\.", text)[1]
    return next(button for button in options if button["text"] == EMOJI_BY_NAME[name])


def wrong_button(message) -> dict:
    right = right_button(message)
    return next(button for button in buttons(message) if button["callback_data"] != right["callback_data"])


def test_a_joiner_is_restricted_challenged_and_welcomed_once_they_press(any_platform):
    platform = any_platform
    chat = platform.new_group()
    configure(platform, chat["id"], captcha_enabled=True, captcha_mode="button", welcome_enabled=True,
              welcome_text="Glad you are here, {first}!")
    user = newcomer(platform)
    mark = platform.call_mark()
    platform.telegram.add_member(chat["id"], user["id"])  # told twice: a chat_member update and a service message
    message = challenge_message(platform, chat["id"], user)
    assert status(platform, chat["id"], user) == "restricted"
    assert platform.telegram.member(chat["id"], user["id"])["can_send_messages"] is False
    assert len(message["reply_markup"]["inline_keyboard"][0]) == 1
    # Another member's press is refused, and changes nothing.
    assert press(platform, chat["id"], message, {"id": 2000003}, buttons(message)[0]) == \
        "This challenge is for someone else."
    assert status(platform, chat["id"], user) == "restricted"
    assert "verified" in press(platform, chat["id"], message, user, buttons(message)[0])
    platform.wait_for(lambda: status(platform, chat["id"], user) == "member", "the restriction to be lifted")
    platform.wait_for(lambda: not message_exists(platform, chat["id"], message["message_id"]),
                      "the challenge to be deleted")
    welcome = platform.wait_for(
        lambda: [m for m in platform.telegram.messages(chat["id"], since_id=message["message_id"], sender=BOT,
                                                       count=100) if "Glad you are here" in m.get("text", "")],
        "the welcome")
    assert len(welcome) == 1 and user["first_name"] in welcome[0]["text"]
    challenge = core_challenge(platform, chat["id"], user)
    assert (challenge["status"], challenge["attempts"]) == ("solved", 0)
    challenges_sent = [call for call in platform.calls("sendMessage", since=mark)
                       if "cap:" in str(call["params"].get("reply_markup"))]
    assert len(challenges_sent) == 1  # one join, one challenge
    platform.wait_for(lambda: action_status(platform, challenge["follow_up_action_id"]) == "executed",
                      "the unmute to be completed")
    assert action_status(platform, challenge["restrict_action_id"]) == "executed"


@pytest.mark.parametrize("mode", ["math", "emoji"])
def test_wrong_answers_are_counted_and_the_last_one_removes_the_member(platform, mode):
    chat = platform.new_group()
    configure(platform, chat["id"], captcha_enabled=True, captcha_mode=mode, captcha_max_attempts=2)
    user = newcomer(platform)
    platform.telegram.add_member(chat["id"], user["id"])
    message = challenge_message(platform, chat["id"], user)
    assert len(buttons(message)) == (4 if mode == "math" else 6)
    wrong = wrong_button(message)
    assert press(platform, chat["id"], message, user, wrong) == "Wrong answer. 1 try left."
    assert status(platform, chat["id"], user) == "restricted"
    assert press(platform, chat["id"], message, user, wrong) == "Wrong answer, and no tries left."
    platform.wait_for(lambda: status(platform, chat["id"], user) == "left", "the member to be kicked")
    platform.wait_for(lambda: not message_exists(platform, chat["id"], message["message_id"]),
                      "the challenge to be deleted")
    challenge = core_challenge(platform, chat["id"], user)
    assert (challenge["status"], challenge["attempts"]) == ("failed", 2)
    platform.wait_for(lambda: action_status(platform, challenge["follow_up_action_id"]) == "executed",
                      "the kick to be completed")


def test_a_member_who_does_not_answer_in_time_is_removed_and_the_challenge_deleted(platform):
    chat = platform.new_group()
    configure(platform, chat["id"], captcha_enabled=True, captcha_timeout_seconds=SHORTEST_TIMEOUT)
    user = newcomer(platform)
    platform.telegram.add_member(chat["id"], user["id"])
    message = challenge_message(platform, chat["id"], user)
    time.sleep(SHORTEST_TIMEOUT - 8)
    assert status(platform, chat["id"], user) == "restricted"  # not before its time
    platform.wait_for(lambda: status(platform, chat["id"], user) == "left", "the member to be kicked", timeout=25)
    platform.wait_for(lambda: not message_exists(platform, chat["id"], message["message_id"]),
                      "the challenge to be deleted")
    challenge = core_challenge(platform, chat["id"], user)
    assert challenge["status"] == "expired"
    platform.wait_for(lambda: action_status(platform, challenge["follow_up_action_id"]) == "executed",
                      "the kick to be completed")


def test_admins_and_approved_members_skip_it(platform):
    chat = platform.new_group(members=("carol", "dave"))
    configure(platform, chat["id"], captcha_enabled=True, welcome_enabled=True, welcome_text="Hi {first}")
    approved = newcomer(platform)
    platform.api.approval_grant(telegram_chat_id=chat["id"], actor_telegram_user_id=2000001,
                                target_telegram_user_id=approved["id"])
    mark = platform.call_mark()
    platform.telegram.leave(chat["id"], "bob_mod")
    platform.telegram.add_member(chat["id"], "bob_mod", by="alice", status="administrator",
                                 rights={"can_restrict_members": True})
    platform.telegram.add_member(chat["id"], approved["id"])
    for name in ("Bob", approved["first_name"]):
        platform.wait_for(lambda n=name: [m for m in platform.telegram.messages(chat["id"], sender=BOT, count=100)
                                          if m.get("text", "") == f"Hi {n}"], f"{name}'s welcome")
    assert platform.calls("restrictChatMember", since=mark) == []
    assert status(platform, chat["id"], approved) == "member"
    assert platform.api.challenges(telegram_chat_id=chat["id"])["total"] == 0


def test_raid_mode_with_the_captcha_action_challenges_joiners_with_captcha_off(platform):
    chat = platform.new_group()
    configure(platform, chat["id"], raid_detection=True, raid_join_limit=2, raid_window_seconds=60,
              raid_action="captcha")
    first, second, third = newcomer(platform), newcomer(platform), newcomer(platform)
    platform.telegram.add_member(chat["id"], first["id"])
    platform.wait_for(platform.settled, "the bot to handle the first join")  # one join: no raid, no challenge
    for user in (second, third):  # the second join makes it a raid
        platform.telegram.add_member(chat["id"], user["id"])
    for user in (second, third):
        challenge_message(platform, chat["id"], user)
        assert status(platform, chat["id"], user) == "restricted"
    assert status(platform, chat["id"], first) == "member"
    challenges = platform.api.challenges(telegram_chat_id=chat["id"])["items"]
    assert sorted((item["telegram_user_id"], item["reason"]) for item in challenges) == [
        (second["id"], "raid"), (third["id"], "raid")]


def test_a_muted_member_who_leaves_and_rejoins_is_not_asked_and_stays_muted(platform):
    chat = platform.new_group(members=("carol", "dave"))
    configure(platform, chat["id"], captcha_enabled=True)
    platform.telegram.restrict(chat["id"], "dave", by="alice")  # read-only
    platform.telegram.leave(chat["id"], "dave")
    mark = platform.call_mark()
    platform.telegram.add_member(chat["id"], "dave")
    platform.wait_for(platform.settled, "the bot to handle the join")
    assert [call for call in platform.calls("sendMessage", since=mark)
            if "cap:" in str(call["params"].get("reply_markup"))] == []
    assert platform.calls("restrictChatMember", since=mark) == []
    assert status(platform, chat["id"], {"id": 2000004}) == "restricted"
    assert platform.api.challenges(telegram_chat_id=chat["id"])["total"] == 0


def test_a_bot_restart_in_the_middle_of_challenges_ends_each_once(platform):
    """One member presses while the bot is stopped, another one's time runs out meanwhile, and a third one's press
    was answered by core just before the bot stopped (it never acted on it): after the restart the press is answered
    and the first one let in, the second one removed, the third one let in once core hands the round out again,
    each exactly once."""
    pressing_chat, waiting_chat = platform.new_group(), platform.new_group()
    configure(platform, pressing_chat["id"], captcha_enabled=True)
    configure(platform, waiting_chat["id"], captcha_enabled=True, captcha_timeout_seconds=SHORTEST_TIMEOUT)
    presser, waiter, cut_short = newcomer(platform), newcomer(platform), newcomer(platform)
    platform.telegram.add_member(waiting_chat["id"], waiter["id"])
    platform.telegram.add_member(pressing_chat["id"], presser["id"])
    platform.telegram.add_member(pressing_chat["id"], cut_short["id"])
    unanswered = challenge_message(platform, waiting_chat["id"], waiter)
    pressed = challenge_message(platform, pressing_chat["id"], presser)
    cut_short_message = challenge_message(platform, pressing_chat["id"], cut_short)
    mark = platform.call_mark()
    platform.bot.stop()
    try:
        # What the bot had asked of core for the third member's press when it stopped: solved, the unmute recorded.
        answered = platform.api.challenge_answer(core_challenge(platform, pressing_chat["id"], cut_short)["id"],
                                                 telegram_user_id=cut_short["id"], answer="0")
        assert answered["status"] == "solved"
        query = platform.telegram.press_button(pressing_chat["id"], pressed["message_id"], presser["id"],
                                               buttons(pressed)[0]["callback_data"])
        time.sleep(SHORTEST_TIMEOUT + 1)  # the waiter's time runs out while the bot is away
        assert status(platform, waiting_chat["id"], waiter) == "restricted"
    finally:
        platform.bot.start()
    platform.wait_for(lambda: status(platform, pressing_chat["id"], presser) == "member",
                      "the press after the restart", timeout=20)
    platform.wait_for(lambda: status(platform, waiting_chat["id"], waiter) == "left", "the expiry after the restart",
                      timeout=20)
    assert "verified" in platform.telegram.callback_answer(query["id"])["answer"]["text"]
    # The third: handed out again a lease (CLAIM_LEASE_SECONDS) after core recorded the unmute.
    platform.wait_for(lambda: status(platform, pressing_chat["id"], cut_short) == "member",
                      "the unfinished round to be handed out again", timeout=CLAIM_LEASE_SECONDS)
    platform.wait_for(lambda: action_status(platform, answered["follow_up_action_id"]) == "executed",
                      "the unmute to be completed")
    for chat, message in ((pressing_chat, pressed), (waiting_chat, unanswered), (pressing_chat, cut_short_message)):
        platform.wait_for(lambda c=chat, m=message: not message_exists(platform, c["id"], m["message_id"]),
                          "the challenges to be deleted")
    time.sleep(4)  # another sweep or two: nothing is done twice
    lifts = [call for call in platform.calls("restrictChatMember", since=mark)
             if str(call["params"].get("user_id")) in (str(presser["id"]), str(cut_short["id"]))]
    bans = [call for call in platform.calls("banChatMember", since=mark)
            if str(call["params"].get("user_id")) == str(waiter["id"])]
    answers = [call for call in platform.calls("answerCallbackQuery", since=mark)
               if str(call["params"].get("callback_query_id")) == str(query["id"])]
    assert (len(lifts), len(bans), len(answers)) == (2, 1, 1)
    assert core_challenge(platform, pressing_chat["id"], presser)["status"] == "solved"
    expired = core_challenge(platform, waiting_chat["id"], waiter)
    assert expired["status"] == "expired"
    assert action_status(platform, expired["follow_up_action_id"]) == "executed"
