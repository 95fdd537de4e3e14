import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.challenges.models import Challenge
from apps.challenges.services import CLAIM_LEASE_SECONDS, challenge_create
from apps.groups.models import Membership
from apps.moderation.models import ModerationAction
from apps.protection.services import protection_update
from tests.factories import grant, make_group, make_member, make_user

CHALLENGES = "/api/protection/challenges"
CLAIM = f"{CHALLENGES}/claim-expired"


def enable(group, **settings):
    protection_update(group=group, changes={"captcha_enabled": True, **settings})


@pytest.fixture
def group(db):
    group = make_group()
    enable(group)
    return group


def create(api, group, telegram_user_id=7_000_001, **extra):
    body = {"telegram_chat_id": group.telegram_chat_id, "telegram_user_id": telegram_user_id,
            "username": "newbie", "display_name": "New Member", **extra}
    return api.post(CHALLENGES, body)


def answer(api, challenge, answer, telegram_user_id=None, **extra):
    body = {"telegram_user_id": telegram_user_id or challenge["telegram_user_id"], "answer": str(answer), **extra}
    return api.post(f"{CHALLENGES}/{challenge['id']}/answer", body)


def right_answer(challenge) -> str:
    return Challenge.objects.get(pk=challenge["id"]).answer


def wrong_answer(challenge) -> str:
    return next(str(index) for index in range(len(challenge["options"])) if str(index) != right_answer(challenge))


def expire(challenge, seconds_ago=1):
    Challenge.objects.filter(pk=challenge["id"]).update(expires_at=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.mark.parametrize(("mode", "options"), [("button", 1), ("math", 4), ("emoji", 6)])
def test_a_join_starts_a_challenge_and_records_the_mute(api, group, mode, options):
    enable(group, captcha_mode=mode, captcha_timeout_seconds=300, captcha_max_attempts=2)
    response = create(api, group)
    assert response.status_code == 201
    body = response.json()["data"]
    assert body["created"] is True
    challenge = body["challenge"]
    assert "answer" not in challenge
    assert (challenge["mode"], len(challenge["options"]), len(set(challenge["options"]))) == (mode, options, options)
    assert (challenge["status"], challenge["attempts"], challenge["max_attempts"]) == ("pending", 0, 2)
    assert (challenge["telegram_chat_id"], challenge["telegram_user_id"]) == (group.telegram_chat_id, 7_000_001)
    expires_in = (timezone.datetime.fromisoformat(challenge["expires_at"]) - timezone.now()).total_seconds()
    assert 290 < expires_in <= 300
    mute = ModerationAction.objects.get(pk=challenge["restrict_action_id"])
    assert (mute.type, mute.rule, mute.status, mute.actor_id) == ("mute", "captcha", "requested", None)
    assert mute.target.telegram_user_id == 7_000_001
    assert AuditEvent.objects.filter(action="challenge.create", group_id=str(group.pk)).count() == 1
    if mode == "math":
        first, second = (int(part) for part in challenge["question"].removeprefix("What is ").rstrip("?").split(" + "))
        assert challenge["options"][int(right_answer(challenge))] == str(first + second)


def test_a_second_create_while_pending_answers_the_same_challenge(api, group):
    first = create(api, group).json()["data"]["challenge"]
    again = create(api, group)
    assert again.status_code == 200
    assert again.json()["data"] == {"created": False, "challenge": first}
    assert Challenge.objects.count() == 1
    assert ModerationAction.objects.filter(rule="captcha").count() == 1


@pytest.mark.parametrize("kind", ["admin", "approved"])
def test_exempt_members_are_refused_and_nothing_is_written(api, group, kind):
    member = make_user(telegram_user_id=7_000_002, telegram_username="newbie", display_name="New Member")
    make_member(member, group)
    if kind == "admin":
        Membership.objects.filter(group=group, user=member).update(is_admin=True)
    else:
        grant(member, "approved", group)
    audits = AuditEvent.objects.count()
    response = create(api, group, telegram_user_id=7_000_002)
    assert response.status_code == 403
    assert (response.json()["error"], response.json()["details"]) == ("exempt_member", {"reason": kind})
    assert not Challenge.objects.exists() and not ModerationAction.objects.exists()
    assert AuditEvent.objects.filter(action__startswith="challenge").count() == 0
    assert AuditEvent.objects.exclude(action="permission.check").count() == audits


def test_captcha_off_refuses_a_join_but_raid_mode_challenges_anyway(api, db):
    group = make_group()
    refused = create(api, group)
    assert (refused.status_code, refused.json()["error"]) == (409, "conflict")
    assert not Challenge.objects.exists()
    raid = create(api, group, reason="raid", mode="emoji")
    assert raid.status_code == 201
    assert (raid.json()["data"]["challenge"]["reason"], raid.json()["data"]["challenge"]["mode"]) == ("raid", "emoji")


def test_another_member_pressing_is_refused(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    response = answer(api, challenge, right_answer(challenge), telegram_user_id=7_999_999)
    assert (response.status_code, response.json()["error"]) == (403, "not_your_challenge")
    stored = Challenge.objects.get(pk=challenge["id"])
    assert (stored.status, stored.attempts) == ("pending", 0)
    assert not AuditEvent.objects.filter(action="challenge.answer").exists()


def test_the_right_answer_solves_it_and_records_the_unmute(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    solved = answer(api, challenge, right_answer(challenge))
    assert solved.status_code == 200
    body = solved.json()["data"]
    assert (body["status"], body["attempts"], body["resolved_at"] is not None) == ("solved", 0, True)
    unmute = ModerationAction.objects.get(pk=body["follow_up_action_id"])
    assert (unmute.type, unmute.rule, unmute.status) == ("unmute", "captcha", "requested")
    again = answer(api, challenge, right_answer(challenge))
    assert (again.status_code, again.json()["error"]) == (409, "conflict")
    event = AuditEvent.objects.get(action="challenge.answer")
    assert (event.result, event.details["correct"], event.details["status"]) == ("success", True, "solved")


@pytest.mark.parametrize("mode", ["math", "emoji"])
def test_wrong_answers_are_counted_up_to_the_limit_then_the_round_fails_with_a_kick(api, group, mode):
    enable(group, captcha_mode=mode, captcha_max_attempts=3)
    challenge = create(api, group).json()["data"]["challenge"]
    wrong = wrong_answer(challenge)
    for attempts in (1, 2):
        body = answer(api, challenge, wrong).json()["data"]
        assert (body["status"], body["attempts"], body["follow_up_action_id"]) == ("pending", attempts, None)
    failed = answer(api, challenge, wrong).json()["data"]
    assert (failed["status"], failed["attempts"]) == ("failed", 3)
    kick = ModerationAction.objects.get(pk=failed["follow_up_action_id"])
    assert (kick.type, kick.rule, kick.status) == ("kick", "captcha", "requested")
    late = answer(api, challenge, right_answer(challenge))
    assert late.status_code == 409
    assert AuditEvent.objects.filter(action="challenge.answer", result="failure").count() == 3


def test_a_group_that_keeps_failures_muted_records_no_kick(api, group):
    enable(group, captcha_mode="math", captcha_max_attempts=1, captcha_failure_action="mute")
    challenge = create(api, group).json()["data"]["challenge"]
    failed = answer(api, challenge, wrong_answer(challenge)).json()["data"]
    assert (failed["status"], failed["failure_action"], failed["follow_up_action_id"]) == ("failed", "mute", None)
    assert list(ModerationAction.objects.values_list("type", flat=True)) == ["mute"]


def test_a_new_join_after_the_end_starts_the_next_round_in_the_same_row(api, group):
    enable(group, captcha_mode="math")
    first = create(api, group).json()["data"]["challenge"]
    answer(api, first, right_answer(first))
    second_response = create(api, group)
    assert second_response.status_code == 201
    second = second_response.json()["data"]["challenge"]
    assert (second["id"], second["round"], second["status"], second["attempts"]) == (first["id"], 2, "pending", 0)
    assert second["restrict_action_id"] != first["restrict_action_id"]
    assert second["follow_up_action_id"] is None and second["message_ids"] == []
    stale = answer(api, second, right_answer(second), round=1)
    assert (stale.status_code, stale.json()["details"]) == (409, {"status": "stale"})
    assert answer(api, second, right_answer(second), round=2).json()["data"]["status"] == "solved"
    rounds = AuditEvent.objects.filter(action="challenge.create").values_list("details", flat=True)
    assert sorted(details["round"] for details in rounds) == [1, 2]


def test_an_answer_after_the_time_ran_out_is_refused(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    expire(challenge)
    response = answer(api, challenge, right_answer(challenge))
    assert (response.status_code, response.json()["details"]) == (409, {"status": "expired"})
    assert Challenge.objects.get(pk=challenge["id"]).status == "pending"  # the sweeper's to end


def test_expired_rounds_are_claimed_once_with_the_kick_recorded(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    other = create(api, group, telegram_user_id=7_000_009).json()["data"]["challenge"]
    expire(challenge)
    claimed = api.post(CLAIM, {"limit": 10}).json()["data"]["items"]
    assert [item["challenge"]["id"] for item in claimed] == [challenge["id"]]
    item = claimed[0]
    assert item["challenge"]["status"] == "expired"
    assert (item["action"]["type"], item["action"]["rule"], item["action"]["status"]) == ("kick", "captcha",
                                                                                         "requested")
    assert item["challenge"]["follow_up_action_id"] == item["action"]["id"]
    assert api.post(CLAIM, {}).json()["data"]["items"] == []
    assert Challenge.objects.get(pk=other["id"]).status == "pending"
    assert AuditEvent.objects.filter(action="challenge.expire").count() == 1


def lapse(challenge, action_id):
    """As if the round's follow-up was recorded (and the round handed out) longer than the lease ago."""
    lapsed = timezone.now() - timedelta(seconds=CLAIM_LEASE_SECONDS + 1)
    ModerationAction.objects.filter(pk=action_id).update(created_at=lapsed)
    Challenge.objects.filter(pk=challenge["id"]).exclude(claimed_at=None).update(claimed_at=lapsed)


def test_an_unfinished_kick_is_handed_out_again_after_the_lease(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    expire(challenge)
    first = api.post(CLAIM, {}).json()["data"]["items"]
    assert len(first) == 1
    kick_id = first[0]["action"]["id"]
    assert api.post(CLAIM, {}).json()["data"]["items"] == []  # the lease holds
    lapse(challenge, kick_id)
    again = api.post(CLAIM, {}).json()["data"]["items"]
    assert [item["action"]["id"] for item in again] == [kick_id]  # the same kick, not a second one
    assert api.post(CLAIM, {}).json()["data"]["items"] == []  # handed out: a new lease
    api.post(f"/api/moderation/actions/{kick_id}/complete", {"status": "executed"})
    lapse(challenge, kick_id)
    assert api.post(CLAIM, {}).json()["data"]["items"] == []  # done: never again
    assert ModerationAction.objects.filter(type="kick").count() == 1


def test_a_solved_round_whose_unmute_was_not_carried_out_is_handed_out_again(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    unmute_id = answer(api, challenge, right_answer(challenge)).json()["data"]["follow_up_action_id"]
    assert api.post(CLAIM, {}).json()["data"]["items"] == []  # the bot is carrying it out
    lapse(challenge, unmute_id)
    (item,) = api.post(CLAIM, {}).json()["data"]["items"]
    assert (item["challenge"]["status"], item["action"]["id"], item["action"]["type"]) == ("solved", unmute_id,
                                                                                          "unmute")
    assert api.post(CLAIM, {}).json()["data"]["items"] == []
    api.post(f"/api/moderation/actions/{unmute_id}/complete", {"status": "failed", "error": "Bad Request: x"})
    lapse(challenge, unmute_id)
    assert api.post(CLAIM, {}).json()["data"]["items"] == []  # completed, even as failed: Telegram said no


def test_a_group_that_keeps_them_muted_gets_no_action_on_expiry(api, group):
    enable(group, captcha_failure_action="mute")
    challenge = create(api, group).json()["data"]["challenge"]
    expire(challenge)
    (item,) = api.post(CLAIM, {}).json()["data"]["items"]
    assert (item["challenge"]["status"], item["action"]) == ("expired", None)


def test_message_ids_are_added_once_and_belong_to_the_round(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    path = f"{CHALLENGES}/{challenge['id']}/messages"
    assert api.post(path, {"message_ids": [11, 12]}).json()["data"]["message_ids"] == [11, 12]
    assert api.post(path, {"message_ids": [12, 13], "round": 1}).json()["data"]["message_ids"] == [11, 12, 13]
    assert api.post(path, {"message_ids": [14], "round": 2}).status_code == 409


def test_challenges_are_listed_by_chat_and_status(api, group):
    pending = create(api, group).json()["data"]["challenge"]
    solved = create(api, group, telegram_user_id=7_000_003).json()["data"]["challenge"]
    answer(api, solved, right_answer(solved))
    listed = api.get(f"{CHALLENGES}?telegram_chat_id={group.telegram_chat_id}").json()["data"]
    assert listed["total"] == 2
    only_pending = api.get(f"{CHALLENGES}?group_id={group.pk}&status=pending").json()["data"]["items"]
    assert [item["id"] for item in only_pending] == [pending["id"]]
    assert api.get(f"{CHALLENGES}?telegram_chat_id=-1009").status_code == 404
    assert api.get(CHALLENGES).status_code == 400


@pytest.mark.parametrize("body", [
    {"telegram_user_id": "7000001"},
    {"telegram_user_id": True},
    {"mode": "riddle"},
    {"reason": "boredom"},
    {"colour": "blue"},
])
def test_bad_creates_are_refused_and_write_nothing(api, group, body):
    audits = AuditEvent.objects.count()
    response = api.post(CHALLENGES, {"telegram_chat_id": group.telegram_chat_id, "telegram_user_id": 7_000_001,
                                     **body})
    assert (response.status_code, response.json()["error"]) == (400, "validation_error")
    assert not Challenge.objects.exists() and AuditEvent.objects.count() == audits


def test_bad_answers_are_refused_and_change_nothing(api, group):
    challenge = create(api, group).json()["data"]["challenge"]
    for body in ({"telegram_user_id": 7_000_001, "answer": 0}, {"telegram_user_id": 7_000_001},
                 {"telegram_user_id": 7_000_001, "answer": "0", "round": 0}):
        response = api.post(f"{CHALLENGES}/{challenge['id']}/answer", body)
        assert response.status_code == 400, body
    assert api.post(f"{CHALLENGES}/999999/answer", {"telegram_user_id": 1, "answer": "0"}).status_code in (400, 404)
    assert Challenge.objects.get(pk=challenge["id"]).attempts == 0


def _simultaneously(target, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected and asserted by the caller
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_simultaneous_creates_give_one_challenge(transactional_db):
    group, member = make_group(), make_user(telegram_user_id=7_000_005)
    enable(group)
    results, errors = _simultaneously(lambda: challenge_create(group=group, user=member), count=4)
    assert errors == []
    assert sorted(created for _challenge, created in results) == [False, False, False, True]
    assert len({challenge.pk for challenge, _created in results}) == 1
    assert Challenge.objects.count() == 1
    assert ModerationAction.objects.filter(rule="captcha", type="mute").count() == 1
    assert AuditEvent.objects.filter(action="challenge.create").count() == 1


def test_simultaneous_rejoins_start_one_next_round(transactional_db):
    group, member = make_group(), make_user(telegram_user_id=7_000_006)
    enable(group)
    first, _ = challenge_create(group=group, user=member)
    Challenge.objects.filter(pk=first.pk).update(status="solved")
    results, errors = _simultaneously(lambda: challenge_create(group=group, user=member), count=4)
    assert errors == []
    assert sorted(created for _challenge, created in results) == [False, False, False, True]
    assert Challenge.objects.get(pk=first.pk).round == 2
    assert ModerationAction.objects.filter(rule="captcha", type="mute").count() == 2
