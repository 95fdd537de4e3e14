"""Join verification: a round starts (the member muted, on the record), is answered, and ends solved, failed or
expired; each step is audited in the transaction of its change. The round's end records what follows it (the
unmute, or the kick) for the bot to carry out and complete."""

import hmac
from datetime import timedelta

from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, DomainError, ErrorCode
from apps.groups.models import Group
from apps.moderation.models import ModerationAction
from apps.moderation.services import moderation_action_record
from apps.protection.models import ProtectionSettings
from apps.protection.selectors import exemption, protection_row
from apps.protection.services import ExemptMemberError
from apps.users.models import User

from . import puzzles
from .models import Challenge

RULE = "captcha"
# An expired round handed to the bot is handed again after this long when its kick is still not completed: the
# bot stopped between taking it and acting.
CLAIM_LEASE_SECONDS = 60


class NotYourChallengeError(DomainError):
    code = ErrorCode.NOT_YOUR_CHALLENGE
    default_message = "This challenge is for another member"


class _LostRace(Exception):
    """Another request started the round first."""


def _record(type: str, challenge: Challenge, reason: str) -> ModerationAction:
    action, _ = moderation_action_record(
        type=type, group=challenge.group, actor=None, target=challenge.user, reason=reason, rule=RULE,
        details={"rule": RULE, "challenge_id": str(challenge.pk), "round": challenge.round},
    )
    return action


def challenge_create(*, group: Group, user: User, mode: str | None = None,
                     reason: str = Challenge.Reason.JOIN) -> tuple[Challenge, bool]:
    """A new round for this member, muted on the record (type mute, rule captcha): (challenge, True); the pending
    one when a round is already running (never two): (challenge, False). Exempt members: 403 exempt_member;
    captcha off in the group (for a join; raid mode challenges anyway): 409 conflict; nothing written."""
    exempt = exemption(group=group, user=user)
    if exempt is not None:
        raise ExemptMemberError(f"The member is exempt from join verification here ({exempt})",
                                details={"reason": exempt})
    settings = protection_row(group=group)
    if reason == Challenge.Reason.JOIN and not settings.captcha_enabled:
        # Raid mode's challenges (reason raid) run whatever the captcha switch says.
        raise ConflictError("Join verification is off in this group", details={"captcha_enabled": False})
    mode = mode or settings.captcha_mode
    try:
        for attempt in atomic_attempts():
            with attempt:
                challenge, created = _start_round(group, user, mode, reason, settings)
    except (IntegrityError, _LostRace):  # a concurrent create inserted or restarted the row first
        return Challenge.objects.select_related("group", "user").get(group=group, user=user), False
    return challenge, created


def _start_round(group: Group, user: User, mode: str, reason: str, settings: ProtectionSettings):
    existing = Challenge.objects.filter(group=group, user=user).first()
    if existing is not None and existing.status == Challenge.Status.PENDING:
        existing.group, existing.user = group, user
        return existing, False
    now = _milliseconds(timezone.now())  # as MongoDB keeps it: the answer shows what a later read shows
    puzzle = puzzles.make(mode)
    fields = {
        "mode": mode, "reason": reason, "question": puzzle.question, "options": puzzle.options,
        "answer": str(puzzle.answer), "attempts": 0, "max_attempts": settings.captcha_max_attempts,
        "status": Challenge.Status.PENDING, "failure_action": settings.captcha_failure_action,
        "expires_at": now + timedelta(seconds=settings.captcha_timeout_seconds), "message_ids": [],
        "restrict_action": None, "follow_up_action": None, "started_at": now, "resolved_at": None,
        "claimed_at": None,
    }
    if existing is None:
        challenge = Challenge.objects.create(group=group, user=user, **fields)
    else:
        # Conditional on the round it read: of two concurrent restarts one moves the row to the next round.
        restarted = (Challenge.objects.filter(pk=existing.pk, round=existing.round)
                     .exclude(status=Challenge.Status.PENDING).update(round=F("round") + 1, **fields))
        if not restarted:
            raise _LostRace
        challenge = Challenge.objects.get(pk=existing.pk)
    challenge.group, challenge.user = group, user
    challenge.restrict_action = _record(ModerationAction.Type.MUTE, challenge, "join verification")
    challenge.save(update_fields=["restrict_action"])
    audit_change(action=actions.CHALLENGE_CREATE, actor=None, target_type="user", target_id=user.pk, group=group,
                 details={"rule": RULE, "challenge_id": str(challenge.pk), "round": challenge.round, "mode": mode,
                          "reason": reason, "expires_at": challenge.expires_at.isoformat(),
                          "action_id": str(challenge.restrict_action.pk)})
    return challenge, True


def _milliseconds(moment):
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def challenge_messages_add(*, challenge: Challenge, message_ids: list[int], round: int | None = None) -> Challenge:
    """The bot's messages of this round (deleted when it ends). Added to those already known."""
    for attempt in atomic_attempts():
        with attempt:
            current = Challenge.objects.select_related("group", "user").get(pk=challenge.pk)
            if round is not None and round != current.round:
                raise ConflictError(f"Challenge {challenge.pk} is in round {current.round}, not {round}")
            merged = [*current.message_ids, *(mid for mid in message_ids if mid not in current.message_ids)]
            if merged != current.message_ids:
                Challenge.objects.filter(pk=current.pk, round=current.round).update(message_ids=merged)
                current.message_ids = merged
    return current


def challenge_answer(*, challenge: Challenge, telegram_user_id: int, answer: str,
                     round: int | None = None) -> Challenge:
    """The member's answer. Right: solved, the unmute recorded. Wrong: counted; at max_attempts the round fails,
    and the kick is recorded when the group kicks. Another member: 403 not_your_challenge; a round that is over
    (or whose time ran out, or an older round's button): 409 conflict. Nothing is written when refused."""
    if challenge.user.telegram_user_id != telegram_user_id:
        raise NotYourChallengeError("Only the member who joined can answer this challenge")
    for attempt in atomic_attempts():
        with attempt:
            current = Challenge.objects.select_related("group", "user").get(pk=challenge.pk)
            _require_open(current, round)
            correct = hmac.compare_digest(answer.encode(), current.answer.encode())
            attempts = current.attempts + (0 if correct else 1)
            status = Challenge.Status.PENDING
            if correct:
                status = Challenge.Status.SOLVED
            elif attempts >= current.max_attempts:
                status = Challenge.Status.FAILED
            changed = Challenge.objects.filter(pk=current.pk, round=current.round, attempts=current.attempts,
                                               status=Challenge.Status.PENDING)
            updates = {"attempts": attempts, "status": status}
            if status != Challenge.Status.PENDING:
                updates["resolved_at"] = timezone.now()
            if not changed.update(**updates):
                raise ConflictError(f"Challenge {current.pk} was answered at the same time; answer again")
            for name, value in updates.items():
                setattr(current, name, value)
            follow_up = None
            if status == Challenge.Status.SOLVED:
                follow_up = _record(ModerationAction.Type.UNMUTE, current, "join verification passed")
            elif status == Challenge.Status.FAILED and _kicks(current):
                follow_up = _record(ModerationAction.Type.KICK, current, "join verification failed")
            if follow_up is not None:
                current.follow_up_action = follow_up
                current.save(update_fields=["follow_up_action"])
            audit_change(action=actions.CHALLENGE_ANSWER, actor=None, target_type="user", target_id=current.user_id,
                         group=current.group, result="success" if correct else "failure",
                         details={"rule": RULE, "challenge_id": str(current.pk), "round": current.round,
                                  "correct": correct, "attempts": attempts, "status": status,
                                  "action_id": str(follow_up.pk) if follow_up else None})
    return current


def _kicks(challenge: Challenge) -> bool:
    """Whether the round's end kicks: the group kicks, and the member did not become exempt meanwhile (an admin
    promoted them, or approved them, while they were being asked)."""
    return (challenge.failure_action == Challenge.FailureAction.KICK
            and exemption(group=challenge.group, user=challenge.user) is None)


def _require_open(challenge: Challenge, round: int | None) -> None:
    if round is not None and round != challenge.round:
        raise ConflictError("That button belongs to an earlier challenge", details={"status": "stale"})
    if challenge.status != Challenge.Status.PENDING:
        raise ConflictError(f"The challenge is already {challenge.status}", details={"status": challenge.status})
    if challenge.expires_at <= timezone.now():
        raise ConflictError("The challenge's time ran out", details={"status": "expired"})


def challenges_claim_expired(*, limit: int = 100) -> list[tuple[Challenge, ModerationAction | None]]:
    """Rounds whose time ran out, each taken by exactly one caller (a conditional update pending -> expired), with
    its follow-up recorded: the kick, or None when the group keeps them muted. Then any ended round whose follow-up
    (kick or unmute) is still not completed CLAIM_LEASE_SECONDS after it was recorded or handed out: handed out again,
    with that action (the bot stopped before acting on it)."""
    now = timezone.now()
    due = list(Challenge.objects.filter(status=Challenge.Status.PENDING, expires_at__lte=now)
               .order_by("expires_at").values_list("pk", flat=True)[:limit])
    claimed = []
    for pk in due:
        for attempt in atomic_attempts():
            with attempt:
                taken = _expire(pk, now)
        if taken is not None:
            claimed.append(taken)
    if len(claimed) < limit:
        claimed += _take_unfinished(now, limit - len(claimed))
    return claimed


def _expire(pk, now) -> tuple[Challenge, ModerationAction | None] | None:
    if not Challenge.objects.filter(pk=pk, status=Challenge.Status.PENDING, expires_at__lte=now).update(
            status=Challenge.Status.EXPIRED, resolved_at=now, claimed_at=now):
        return None  # taken by another caller
    challenge = Challenge.objects.select_related("group", "user").get(pk=pk)
    action = None
    if _kicks(challenge):
        action = _record(ModerationAction.Type.KICK, challenge, "join verification timed out")
        challenge.follow_up_action = action
        challenge.save(update_fields=["follow_up_action"])
    audit_change(action=actions.CHALLENGE_EXPIRE, actor=None, target_type="user", target_id=challenge.user_id,
                 group=challenge.group,
                 details={"rule": RULE, "challenge_id": str(challenge.pk), "round": challenge.round,
                          "attempts": challenge.attempts, "action_id": str(action.pk) if action else None})
    return challenge, action


def _take_unfinished(now, limit: int) -> list[tuple[Challenge, ModerationAction | None]]:
    """Ended rounds whose follow-up (the unmute of a solved round, the kick of a failed or expired one) is still not
    completed a lease after it was recorded or last handed out: the bot stopped between core's answer and Telegram.
    Looked up from the actions' side (requested captcha follow-ups of the last day, on the time index), so rounds
    long settled are never scanned again."""
    stale = now - timedelta(seconds=CLAIM_LEASE_SECONDS)
    waiting = list(ModerationAction.objects.filter(
        created_at__gte=now - timedelta(days=1), created_at__lte=stale, rule=RULE,
        status=ModerationAction.Status.REQUESTED, type__in=[ModerationAction.Type.KICK, ModerationAction.Type.UNMUTE],
    ).values_list("pk", flat=True)[: limit * 4])
    if not waiting:
        return []
    lease_over = Q(claimed_at__isnull=True) | Q(claimed_at__lte=stale)
    candidates = list(Challenge.objects.filter(lease_over, follow_up_action_id__in=waiting)
                      .exclude(status=Challenge.Status.PENDING).order_by("resolved_at")[:limit])
    taken = []
    for challenge in candidates:
        unclaimed = (Q(claimed_at__isnull=True) if challenge.claimed_at is None
                     else Q(claimed_at=challenge.claimed_at))
        if Challenge.objects.filter(unclaimed, pk=challenge.pk, round=challenge.round).update(claimed_at=now):
            fresh = Challenge.objects.select_related("group", "user").get(pk=challenge.pk)
            taken.append((fresh, ModerationAction.objects.get(pk=fresh.follow_up_action_id)))
    return taken
