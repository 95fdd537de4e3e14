"""Rollups of group events, kept by ingest in the events' own transaction (apps.analytics.rollups).

Every day and hour is the group's own (Group.timezone) when the rows are written: an hour row is keyed by the UTC
instant its local hour starts (so zones 30 or 45 minutes off UTC stay exact, and DST's repeated hour is two
rows); a day row by the local date. A change of the group's time zone rebuilds its rollups from the raw events."""

from django.conf import settings
from django.db import models

ACTIVATION_DAYS = 7  # a joiner is activated by a message on the join day or one of the 6 after


class GroupHour(models.Model):
    """One group's counters over one hour of its clock."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+", db_index=False)
    start = models.DateTimeField(help_text="The UTC instant the group's local hour starts")
    messages = models.PositiveIntegerField(default=0)
    commands = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "start"], name="analytics_group_hour")]

    def __str__(self):
        return f"{self.group_id} @ {self.start:%Y-%m-%d %H:%M}Z"


class GroupDay(models.Model):
    """One group's counters over one day of its clock; active_members counts its MemberDay rows, member_count is
    the group's member count after the last batch of that day (null: no batch that day took a snapshot)."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    messages = models.PositiveIntegerField(default=0)
    commands = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    active_members = models.PositiveIntegerField(default=0)
    member_count = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "day"], name="analytics_group_day")]
        # Covering: the overview sums every group's days of a period from this index alone.
        indexes = [models.Index(fields=["day", "group", "messages", "commands", "joins", "leaves", "active_members"],
                                name="analytics_day_totals")]

    def __str__(self):
        return f"{self.group_id} on {self.day}"


class GroupWeek(models.Model):
    """One group's GroupDay rows of one week of its clock (Monday to Sunday) summed: active_members adds the days'
    (member-days). The overview ranks groups over a period from the weeks inside it and the days at its edges."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+", db_index=False)
    week = models.DateField(help_text="The Monday the week starts")
    messages = models.PositiveIntegerField(default=0)
    commands = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    active_members = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "week"], name="analytics_group_week")]
        indexes = [models.Index(fields=["week", "group", "messages", "commands", "joins", "leaves", "active_members"],
                                name="analytics_week_totals")]

    def __str__(self):
        return f"{self.group_id} in the week of {self.week}"


class MemberDay(models.Model):
    """That a member was active (a message or a command) in a group on one day of its clock, and how much."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    messages = models.PositiveIntegerField(default=0)
    commands = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "day", "user"], name="analytics_member_day")]
        # With messages in it, a member's days are read from the index alone: the top members' sums (a group's
        # members in user order, no table lookup per day: 11 to 5 ms over 19,000 member-days) and the cohort days.
        indexes = [models.Index(fields=["group", "user", "day", "messages"], name="analytics_member_days_msgs")]

    def __str__(self):
        return f"{self.user_id} in {self.group_id} on {self.day}"


class MemberTotal(models.Model):
    """A member's lifetime in a group as its events tell it: first and last event, messages, first join. Times are
    milliseconds since the Unix epoch (UTC): ingest compares and writes them for every member of every batch, and
    integers cost nothing to convert (selectors turn them back into datetimes)."""

    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="+", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    first_seen_ms = models.BigIntegerField()
    last_seen_ms = models.BigIntegerField()
    messages = models.PositiveBigIntegerField(default=0)
    commands = models.PositiveBigIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    joined_ms = models.BigIntegerField(null=True, blank=True, help_text="The first join event's time")
    joined_on = models.DateField(null=True, blank=True, help_text="That join's day in the group's clock")
    # The cohort figures' days, kept with joined_on (rollups.py): the first day with a message in the activation
    # window (the join day and the 6 after: ACTIVATION_DAYS), and the first active day at least 7 / 30 days after the
    # join (null: none yet). So a cohort's figures are plain comparisons with the period's end, counted in the
    # database per join day.
    activated_on = models.DateField(null=True, blank=True)
    returned_7d_on = models.DateField(null=True, blank=True)
    returned_30d_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="analytics_member_total")]
        indexes = [models.Index(fields=["group", "joined_on"], name="analytics_member_joined"),
                   models.Index(fields=["user", "group"], name="analytics_member_groups")]

    def __str__(self):
        return f"{self.user_id} in {self.group_id}"


class PlatformDay(models.Model):
    """Every group's GroupDay of one date summed (each group's own calendar, as the overview reads them):
    active_members is the groups' active members added up (member-days, not distinct people)."""

    day = models.DateField(unique=True)
    messages = models.PositiveBigIntegerField(default=0)
    commands = models.PositiveBigIntegerField(default=0)
    joins = models.PositiveBigIntegerField(default=0)
    leaves = models.PositiveBigIntegerField(default=0)
    active_members = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"platform on {self.day}"
