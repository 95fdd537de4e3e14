"""Response shapes that core serves and web passes on: one definition for both roles' OpenAPI schemas.

Plain serializers over dicts, with no model behind them, so the web role (which has no core apps installed)
can import them too. Web relays core's objects in these shapes; core's output serializers subclass them and
override only how a field is read from its models (source, a method) or narrowed (ids, its enums), so a field
keeps its place and each object's fields are listed once.
"""

from rest_framework import serializers

from .fields import ObjectIdField


class SystemStatsSerializer(serializers.Serializer):
    users = serializers.IntegerField()
    active_users = serializers.IntegerField()
    groups = serializers.IntegerField()
    active_groups = serializers.IntegerField()
    roles = serializers.IntegerField()
    active_assignments = serializers.IntegerField()
    checks_24h = serializers.IntegerField()
    denials_24h = serializers.IntegerField()
    audit_events = serializers.IntegerField()
    messages_24h = serializers.IntegerField()
    joins_24h = serializers.IntegerField()
    leaves_24h = serializers.IntegerField()
    commands_24h = serializers.IntegerField()
    moderation_actions_24h = serializers.IntegerField(help_text="Executed moderation actions (members' reports not "
                                                                "included)")
    manual_actions_24h = serializers.IntegerField(help_text="Executed moderation actions a person asked for")
    automated_actions_24h = serializers.IntegerField(
        help_text="Executed moderation actions an automated protection asked for (actor system:<rule>)")
    reports_24h = serializers.IntegerField(help_text="Members' reports (/report), not moderation actions")
    generated_at = serializers.DateTimeField()


class StatsTotalsSerializer(serializers.Serializer):
    messages = serializers.IntegerField()
    joins = serializers.IntegerField()
    leaves = serializers.IntegerField()
    commands = serializers.IntegerField()
    active_members = serializers.IntegerField(help_text="Distinct members who spoke")
    moderation = serializers.DictField(child=serializers.IntegerField(),
                                       help_text="Executed actions by type (members' reports not included)")
    automated = serializers.DictField(child=serializers.IntegerField(),
                                      help_text="Executed automated actions (part of moderation) by rule")
    reports = serializers.IntegerField(help_text="Members' reports (/report), not moderation actions")


class StatsPointSerializer(StatsTotalsSerializer):
    start = serializers.DateTimeField(help_text="Start of the bucket (UTC)")


class GroupStatsSerializer(serializers.Serializer):
    group_id = ObjectIdField()
    bucket = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    series = StatsPointSerializer(many=True)
    totals = StatsTotalsSerializer()


def _nullable(field_class, **kwargs):
    return field_class(allow_null=True, **kwargs)


class GroupSerializer(serializers.Serializer):
    id = serializers.CharField()
    telegram_chat_id = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.CharField()
    is_active = serializers.BooleanField()
    warn_limit = serializers.IntegerField()
    warn_action = serializers.CharField()
    warn_action_duration_seconds = _nullable(serializers.IntegerField)
    warn_expiry_seconds = _nullable(serializers.IntegerField)
    welcome_text = serializers.CharField()
    rules_text = serializers.CharField()
    log_chat_id = _nullable(serializers.IntegerField)
    timezone = serializers.CharField(help_text="IANA time zone name: the group's days, hours and weekdays in its "
                                               "analytics")
    weekly_digest = serializers.BooleanField(help_text="A weekly analytics digest is posted to the log chat")
    digest_sent_week = _nullable(serializers.DateField, help_text="The Monday of the last week digested")
    member_count = serializers.IntegerField()
    message_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class MemberSerializer(serializers.Serializer):
    group_id = serializers.CharField()
    user_id = serializers.CharField()
    username = serializers.CharField()
    telegram_user_id = _nullable(serializers.IntegerField)
    telegram_username = serializers.CharField()
    display_name = serializers.CharField()
    status = serializers.CharField()
    is_admin = serializers.BooleanField()
    custom_title = serializers.CharField()
    joined_at = serializers.DateTimeField()
    left_at = _nullable(serializers.DateTimeField)
    restricted_until = _nullable(serializers.DateTimeField)
    message_count = serializers.IntegerField()
    last_seen_at = _nullable(serializers.DateTimeField)


class UserSerializer(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()
    telegram_user_id = _nullable(serializers.IntegerField)
    telegram_username = serializers.CharField()
    display_name = serializers.CharField()
    is_active = serializers.BooleanField()
    is_staff = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


class RoleSerializer(serializers.Serializer):
    name = serializers.CharField()
    rank = serializers.IntegerField()
    description = serializers.CharField()
    is_builtin = serializers.BooleanField()
    permissions = serializers.ListField(child=serializers.CharField())


class AssignmentSerializer(serializers.Serializer):
    id = serializers.CharField()
    user_id = serializers.CharField()
    role = serializers.CharField()
    group_id = _nullable(serializers.CharField)
    telegram_chat_id = _nullable(serializers.IntegerField)
    scope = serializers.CharField()
    status = serializers.CharField(help_text="active, expired or revoked")
    source = serializers.CharField()
    reason = serializers.CharField()
    granted_by_user_id = _nullable(serializers.CharField)
    created_at = serializers.DateTimeField()
    expires_at = _nullable(serializers.DateTimeField)
    revoked_at = _nullable(serializers.DateTimeField)
    revoked_by_user_id = _nullable(serializers.CharField)
    revoke_reason = serializers.CharField()


class AuditEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    sequence = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    service = serializers.CharField()
    request_id = serializers.CharField()
    actor_user_id = _nullable(serializers.CharField)
    action = serializers.CharField()
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    group_id = _nullable(serializers.CharField)
    result = serializers.CharField()
    reason = serializers.CharField()
    details = serializers.JSONField()
    previous_hash = serializers.CharField()
    hash = serializers.CharField()


class ModerationActionSerializer(serializers.Serializer):
    id = serializers.CharField()
    type = serializers.CharField()
    group_id = serializers.CharField()
    actor_user_id = _nullable(serializers.CharField)
    target_user_id = _nullable(serializers.CharField)
    reason = serializers.CharField()
    until = _nullable(serializers.DateTimeField)
    telegram_message_id = _nullable(serializers.IntegerField)
    source_service = serializers.CharField()
    status = serializers.CharField()
    error = serializers.CharField()
    details = serializers.JSONField()
    rule = serializers.CharField(help_text='"" for a manual action; else the automated protection that asked for it '
                                           '(antiflood, antiraid, captcha, locks, blocklist): its actor is '
                                           '"system:<rule>"')
    created_at = serializers.DateTimeField()
    completed_at = _nullable(serializers.DateTimeField)


class ButtonSerializer(serializers.Serializer):
    text = serializers.CharField()
    url = serializers.CharField(help_text="http(s):// or tg://")


class LockSerializer(serializers.Serializer):
    """How a locked content type is enforced; every mode also deletes the message."""

    mode = serializers.CharField(help_text="delete, warn, mute, tmute, kick, ban or tban")
    duration_seconds = _nullable(serializers.IntegerField, help_text="For tmute and tban")
    reason = serializers.CharField()


class BanListRefSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class BlocklistEntrySerializer(serializers.Serializer):
    id = serializers.CharField()
    pattern = serializers.CharField(help_text="Literal text, * for any run of characters within a word")
    mode = _nullable(serializers.CharField, help_text="null: the group's blocklist_action")
    duration_seconds = _nullable(serializers.IntegerField, help_text="For tmute and tban")
    reason = serializers.CharField()


class ChatFilterSerializer(serializers.Serializer):
    """An auto-reply: a message matching `trigger` is answered with the text, media and buttons."""

    id = serializers.CharField()
    trigger = serializers.CharField()
    match = serializers.CharField(help_text="word (a word or phrase in the message), prefix (the message starts "
                                            "with it) or exact (the whole message)")
    text = serializers.CharField(help_text="Telegram HTML")
    media_type = _nullable(serializers.CharField,
                           help_text="photo, sticker, document, animation, video, audio or voice")
    media_file_id = serializers.CharField()
    buttons = serializers.ListField(child=serializers.ListField(child=ButtonSerializer()),
                                    help_text="Rows of URL buttons")


class NoteSerializer(serializers.Serializer):
    """A saved answer, asked for by #name or /get name."""

    name = serializers.CharField()
    text = serializers.CharField(help_text="Telegram HTML")
    media_type = _nullable(serializers.CharField,
                           help_text="photo, sticker, document, animation, video, audio or voice")
    media_file_id = serializers.CharField()
    buttons = serializers.ListField(child=serializers.ListField(child=ButtonSerializer()),
                                    help_text="Rows of URL buttons")
    updated_at = serializers.DateTimeField()


class ProtectionSettingsSerializer(serializers.Serializer):
    """A group's protection settings, one shape everywhere (core, the bot's cache, the dashboard). Every protection
    is off by default. `version` is bumped by every change to the group's settings."""

    group_id = serializers.CharField()
    telegram_chat_id = serializers.IntegerField()
    title = serializers.CharField()
    version = serializers.IntegerField(help_text="The group's settings version: bumped by every change")
    welcome_enabled = serializers.BooleanField()
    welcome_text = serializers.CharField(help_text='"": the bot\'s default text')
    goodbye_enabled = serializers.BooleanField()
    goodbye_text = serializers.CharField()
    clean_welcome = serializers.BooleanField(help_text="Delete the previous welcome when sending a new one")
    clean_service = serializers.BooleanField(help_text="Delete join/leave service messages")
    rules_text = serializers.CharField()
    rules_private = serializers.BooleanField(help_text="/rules answers with a button to private chat (else the text)")
    captcha_enabled = serializers.BooleanField()
    captcha_mode = serializers.CharField(help_text="button, math or emoji")
    captcha_timeout_seconds = serializers.IntegerField()
    captcha_failure_action = serializers.CharField(help_text="kick, or mute (the member stays muted)")
    captcha_max_attempts = serializers.IntegerField()
    flood_limit = serializers.IntegerField(help_text="0: antiflood off; else N messages")
    flood_window_seconds = _nullable(serializers.IntegerField, help_text="null: N consecutive messages; else N "
                                                                         "within this many seconds")
    flood_action = serializers.CharField(help_text="delete, warn, mute, tmute, kick, ban or tban")
    flood_action_duration_seconds = _nullable(serializers.IntegerField, help_text="For tmute and tban")
    flood_delete_messages = serializers.BooleanField()
    raid_detection = serializers.BooleanField()
    raid_join_limit = serializers.IntegerField()
    raid_window_seconds = serializers.IntegerField()
    raid_duration_minutes = serializers.IntegerField()
    raid_action = serializers.CharField(help_text="What raid mode does to joiners: captcha, mute, kick or ban")
    raid_until = _nullable(serializers.DateTimeField, help_text="While raid mode is on: when it ends")
    log_chat_id = _nullable(serializers.IntegerField)
    lock_warns = serializers.BooleanField(help_text="A delete-mode lock tells the member what was locked (off: "
                                                    "silent)")
    blocklist_action = serializers.CharField(help_text="What a blocklist entry without a mode of its own does: "
                                                       "delete, warn, mute, tmute, kick, ban or tban")
    blocklist_action_duration_seconds = _nullable(serializers.IntegerField, help_text="For tmute and tban")
    blocklist_delete = serializers.BooleanField(help_text="Delete the message that matched the blocklist")
    blocklist_joiner_names = serializers.BooleanField(help_text="The blocklist also applies to joiners' names")
    private_notes = serializers.BooleanField(help_text="#name and /get answer with a button to private chat")
    disabled_commands = serializers.ListField(child=serializers.CharField(),
                                              help_text="Commands members may not use (lowercase, without /); "
                                                        "admins still can")
    disabled_delete = serializers.BooleanField(help_text="Delete a member's disabled command")
    clean_commands = serializers.BooleanField(help_text="Delete command messages once handled")
    denials_private = serializers.BooleanField(help_text="Answer a refused command in private chat")
    reports_enabled = serializers.BooleanField(help_text="Members may /report")
    locks = serializers.DictField(child=LockSerializer(), help_text="Locked content types -> how")
    blocklist = BlocklistEntrySerializer(many=True)
    filters = ChatFilterSerializer(many=True)
    notes = serializers.ListField(child=serializers.CharField(), help_text="The names of the group's notes")
    ban_lists = BanListRefSerializer(many=True, help_text="The ban lists whose bans hold here: subscribed, and "
                                                          "those they follow")


class ApprovalSerializer(serializers.Serializer):
    """A member approved in a group: exempt from automated protection (never from manual moderation)."""

    user_id = serializers.CharField()
    telegram_user_id = _nullable(serializers.IntegerField)
    display_name = serializers.CharField()
    approved = serializers.BooleanField()


class VerdictSerializer(serializers.Serializer):
    """What the bot would do about a message: the rule that fires, on what, how, and why (a sentence)."""

    rule = serializers.CharField(help_text="locks or blocklist")
    kind = serializers.CharField(help_text="The lock type, or the blocklist pattern as typed")
    mode = serializers.CharField(help_text="delete, warn, mute, tmute, kick, ban or tban (each also deletes)")
    duration_seconds = _nullable(serializers.IntegerField)
    reason = serializers.CharField()
    why = serializers.CharField()


class ProtectionTestSerializer(serializers.Serializer):
    """A message tested against a group's current content rules (nothing is done, nothing recorded)."""

    version = serializers.IntegerField(help_text="The settings version the rules are from")
    verdict = VerdictSerializer(allow_null=True, help_text="null: no lock nor blocklist entry fires")
    locks = serializers.ListField(child=serializers.CharField(), help_text="Every locked type the message is")
    blocklist = serializers.ListField(child=serializers.CharField(), help_text="Every blocklist pattern it matches")
    filter = _nullable(serializers.CharField, help_text="The trigger of the filter that would answer")
    note = _nullable(serializers.CharField, help_text="The note a #name at its start asks for")
