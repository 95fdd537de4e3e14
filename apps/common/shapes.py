"""Response shapes that core serves and web passes on: one definition for both roles' OpenAPI schemas.

Plain serializers over dicts, with no model behind them, so the web role (which has no core apps installed)
can import them too.
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
    moderation_actions_24h = serializers.IntegerField(help_text="Executed moderation actions")
    generated_at = serializers.DateTimeField()


class StatsTotalsSerializer(serializers.Serializer):
    messages = serializers.IntegerField()
    joins = serializers.IntegerField()
    leaves = serializers.IntegerField()
    commands = serializers.IntegerField()
    active_members = serializers.IntegerField(help_text="Distinct members who spoke")
    moderation = serializers.DictField(child=serializers.IntegerField(), help_text="Executed actions by type")


class StatsPointSerializer(StatsTotalsSerializer):
    start = serializers.DateTimeField(help_text="Start of the bucket (UTC)")


class GroupStatsSerializer(serializers.Serializer):
    group_id = ObjectIdField()
    bucket = serializers.CharField()
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    series = StatsPointSerializer(many=True)
    totals = StatsTotalsSerializer()
