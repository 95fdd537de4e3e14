"""The weekly digest: last week's figures posted to a group's log chat (a group setting, `Group.weekly_digest`).

Nothing schedules it. Every time a bot claims log entries (`apps.logchannel.services.log_entries_claim`, about once
a second per bot), `digests_enqueue_due` looks for groups whose digest is due: the digest on, a log chat set, and a
last digested week (`Group.digest_sent_week`, its Monday) older than the last complete Monday-to-Sunday week in the
group's own clock. For each, the week is claimed with one conditional update (`group_digest_week_claim`) and only
the caller whose update counted writes the entry, in the same transaction: several bot replicas and core replicas
claiming at once post it once. The bot's log poster then posts it like any entry.

Cheap on every claim: the query is narrowed in the database to groups not yet digested for the latest week any
clock has completed (an index on weekly_digest, digest_sent_week), which is no row for most of the week. Around
Monday's midnights (some 26 hours from the first clock's to the last's) groups in clocks still on Sunday qualify
without being due; after such a round this process looks again only `RECHECK_SECONDS` later. A claim writes at
most `DIGESTS_PER_CLAIM` digests (each is a few analytics reads); the next claims write the rest.
"""

import html
import logging
import random
import threading
from datetime import UTC, date, datetime, timedelta

from django.dispatch import receiver
from django.utils import timezone

from apps.common.db import atomic_attempts
from apps.groups.models import Group
from apps.groups.selectors import group_digest_candidates
from apps.groups.services import group_digest_week_claim
from apps.logchannel.models import LogEntry
from apps.logchannel.services import log_entry_write
from apps.logchannel.signals import log_claim_started

from .selectors import Window, group_analytics, group_zone

logger = logging.getLogger(__name__)

TOP_MEMBERS = 5
RECHECK_SECONDS = 30
DIGESTS_PER_CLAIM = 5  # each some group_analytics reads: a claim stays quick when many weeks end at once
_MAX_UTC_OFFSET = timedelta(hours=14)  # the clock furthest ahead (Pacific/Kiritimati)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WORD_JOINER = "\u2060"  # after an "@", it keeps Telegram from making a mention (and notifying someone) of a name


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def last_complete_week(zone, now: datetime) -> date:
    """The Monday of the last Monday-to-Sunday week that has ended in `zone`."""
    return week_start(now.astimezone(zone).date()) - timedelta(days=7)


def latest_complete_week(now: datetime) -> date:
    """The latest of every clock's last complete week: no group is due for a later one."""
    return week_start((now.astimezone(UTC) + _MAX_UTC_OFFSET).date()) - timedelta(days=7)


def plain_name(name: str) -> str:
    """A member's name as text that neither renders as HTML nor pings anyone."""
    return html.escape(name).replace("@", "@" + _WORD_JOINER)


def _percent(rate) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def busiest_hour(heatmap: list[list[int]]) -> int | None:
    """The hour of the day (the group's clock) with most messages over the period; None without messages."""
    by_hour = [sum(day[hour] for day in heatmap) for hour in range(24)]
    best = max(range(24), key=lambda hour: (by_hour[hour], -hour))
    return best if by_hour[best] else None


def busiest_day(heatmap: list[list[int]]) -> int | None:
    by_day = [sum(day) for day in heatmap]
    best = max(range(7), key=lambda day: (by_day[day], -day))
    return best if by_day[best] else None


def moderation_line(moderation: dict) -> str:
    if not moderation["actions"]:
        summary = "none"
    else:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(moderation["by_type"].items()))
        summary = (f"{moderation['actions']} actions ({moderation['automated']} automated, "
                   f"{moderation['manual']} manual): {kinds}")
    return f"<b>Moderation:</b> {summary}; reports by members: {moderation['reports']}"


def render_digest(group: Group, week: date) -> str:
    """The digest of the week starting on Monday `week`, in the group's clock: Telegram HTML."""
    figures = group_analytics(group=group, window=Window(zone=group_zone(group), first=week,
                                                         last=week + timedelta(days=6), bucket="day"))
    totals, activity = figures["totals"], figures["activity"]
    lines = [f"<b>{html.escape(group.title)}</b> [<code>{group.telegram_chat_id}</code>]", "#DIGEST",
             f"<b>Week:</b> {week:%a %d %b} to {week + timedelta(days=6):%a %d %b %Y} "
             f"({html.escape(group.timezone)})",
             f"<b>Messages:</b> {totals['messages']} from {totals['active_members']} active members",
             f"<b>Daily active:</b> {activity['dau']:.1f} on average; monthly active {activity['mau']}; "
             f"stickiness (DAU/MAU) {_percent(activity['stickiness'])}",
             f"<b>Members:</b> {totals['joins']} joined, {totals['leaves']} left, net "
             f"{_signed(totals['net_growth'])}"
             + (f"; {totals['member_count_end']} now" if totals["member_count_end"] is not None else "")]
    hour, day = busiest_hour(figures["heatmap"]), busiest_day(figures["heatmap"])
    if hour is not None:
        lines.append(f"<b>Busiest day:</b> {_WEEKDAYS[day]}; <b>hour:</b> {hour:02d}:00-{(hour + 1) % 24:02d}:00")
    top = figures["top_members"][:TOP_MEMBERS]
    if top:
        lines.append("<b>Top members:</b>")
        lines += [f"{rank}. {plain_name(member['display_name'] or member['username'])}: {member['messages']} "
                  f"({_percent(member['share'])})" for rank, member in enumerate(top, 1)]
    lines.append(moderation_line(figures["moderation"]))
    return "\n".join(lines)


def digests_enqueue_due(*, now: datetime | None = None, limit: int = DIGESTS_PER_CLAIM
                        ) -> tuple[list[LogEntry], int]:
    """Writes the digest entry of up to `limit` groups whose digest is due (see the module's docstring); the rest
    are left to the next claims, so that a claim answers in a bounded time when many groups' week ends at once.
    The due groups are taken in random order: concurrent claimers mostly render different ones. Answers the entries
    this caller wrote, and how many groups qualified without being written: not due yet in their own clock, or
    failing to render (logged; tried again after the pause)."""
    now = now or timezone.now()
    candidates = group_digest_candidates(before=latest_complete_week(now))
    random.shuffle(candidates)
    written, waiting, tried = [], 0, 0
    for group in candidates:
        week = last_complete_week(group_zone(group), now)
        if group.digest_sent_week is not None and group.digest_sent_week >= week:
            waiting += 1
            continue
        if tried >= limit:
            continue
        tried += 1
        try:
            entry = _digest_enqueue(group, week)
        except Exception:  # one group's failure must not hold back the others' digests
            logger.exception("weekly digest not enqueued", extra={"group_id": str(group.pk), "week": str(week)})
            waiting += 1
            continue
        if entry is not None:
            written.append(entry)
    return written, waiting


def _digest_enqueue(group: Group, week: date) -> LogEntry | None:
    text = render_digest(group, week)  # before the transaction: a loser's render is wasted, no lock held by it
    for attempt in atomic_attempts():
        with attempt:
            entry = None
            if group_digest_week_claim(group=group, week=week):
                fresh = Group.objects.get(pk=group.pk)  # the log chat as it is in this transaction
                entry = log_entry_write(group=fresh, kind=LogEntry.Kind.DIGEST, text=text)
    return entry


class _Recheck:
    """This process's pause after a round that found only groups not yet due (a clock still on Sunday)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.not_before: datetime | None = None

    def due(self, now: datetime) -> bool:
        with self.lock:
            return self.not_before is None or now >= self.not_before

    def pause(self, now: datetime, waiting: int) -> None:
        with self.lock:
            self.not_before = now + timedelta(seconds=RECHECK_SECONDS) if waiting else None


_recheck = _Recheck()


@receiver(log_claim_started, dispatch_uid="analytics.digests")
def _log_claim_started(sender, *, now, **kwargs):
    if not _recheck.due(now):
        return
    try:
        written, waiting = digests_enqueue_due(now=now)
    except Exception:  # the claim must go on: the digests are tried again on the next one
        logger.exception("weekly digests not enqueued")
        return
    _recheck.pause(now, waiting if not written else 0)
    if written:
        logger.info("weekly digests enqueued", extra={"entries": len(written)})
