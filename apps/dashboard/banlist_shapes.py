"""The shapes of core's ban-list answers as web relays them (web's OpenAPI): core's JSON passes through unchanged."""

from rest_framework import serializers

from apps.common.shapes import BanListRefSerializer

from .banlists import CHANGE_KINDS


class BanListUserSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    telegram_user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(allow_null=True, allow_blank=True)
    display_name = serializers.CharField(allow_null=True, allow_blank=True)


class BanListSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    owner = BanListUserSerializer(allow_null=True)
    log_chat_id = serializers.IntegerField(allow_null=True, help_text="The chat the list's bans are posted to")
    version = serializers.IntegerField(help_text="Bumped by every ban, unban and import")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    bans_count = serializers.IntegerField()
    groups_count = serializers.IntegerField()
    admins_count = serializers.IntegerField()


class BanListAdminSerializer(serializers.Serializer):
    user = BanListUserSerializer()
    role = serializers.CharField(help_text="banlist_owner or banlist_admin")
    granted_at = serializers.DateTimeField(allow_null=True)
    granted_by = BanListUserSerializer(allow_null=True)


class BanListAdminsSerializer(serializers.Serializer):
    owner = BanListUserSerializer(allow_null=True)
    admins = BanListAdminSerializer(many=True, help_text="Every role on the list, the owner's included")
    created = serializers.BooleanField(required=False, help_text="After a promotion: False when they were one")
    removed = serializers.BooleanField(required=False, help_text="After a demotion: False when they were not one")


class SubscriptionSerializer(serializers.Serializer):
    group_id = serializers.CharField()
    telegram_chat_id = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    subscribed_at = serializers.DateTimeField()
    subscribed_by = BanListUserSerializer(allow_null=True)


class SubscribedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: the group was subscribed already")
    subscription = SubscriptionSerializer()
    propagations = serializers.IntegerField(help_text="Bans now owed to the group's known members")


class FollowedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: the list followed the source already")
    source = BanListRefSerializer()
    propagations = serializers.IntegerField(help_text="Bans now owed to the known members of the groups reached")


class BanListRemovedSerializer(serializers.Serializer):
    removed = serializers.BooleanField(help_text="False: there was nothing to remove")


class FollowsSerializer(serializers.Serializer):
    follows = BanListRefSerializer(many=True, help_text="The lists whose bans this one takes on")
    followers = BanListRefSerializer(many=True, help_text="The lists that take on this one's bans")


class BanSerializer(serializers.Serializer):
    telegram_user_id = serializers.IntegerField()
    user_id = serializers.CharField(allow_null=True)
    name = serializers.CharField(allow_null=True, allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    source = serializers.CharField(help_text="How it came: command, api or import")
    banned_by = BanListUserSerializer(allow_null=True)
    banned_at = serializers.DateTimeField()
    active = serializers.BooleanField()


class BanPropagationSerializer(serializers.Serializer):
    groups = serializers.IntegerField(help_text="Groups the ban (or unban) will reach")
    exempt = serializers.IntegerField(required=False, help_text="Of those, where the user is exempt: the moderators "
                                                                "are told instead")


class BanResultSerializer(serializers.Serializer):
    ban = BanSerializer()
    created = serializers.BooleanField(help_text="False: already banned (its reason updated)")
    version = serializers.IntegerField()
    propagation = BanPropagationSerializer()


class UnbanResultSerializer(serializers.Serializer):
    ban = BanSerializer(allow_null=True)
    removed = serializers.BooleanField(help_text="False: was not banned")
    version = serializers.IntegerField()
    propagation = BanPropagationSerializer()


class ChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=CHANGE_KINDS)
    telegram_user_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    count = serializers.IntegerField(help_text="1, or an import's bans added and updated")
    actor = BanListUserSerializer(allow_null=True, help_text="null: a service (its name in source_service)")
    source_service = serializers.CharField(allow_blank=True)
    details = serializers.DictField(required=False)
    created_at = serializers.DateTimeField()


class ImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    version = serializers.IntegerField()
    propagations = serializers.IntegerField(required=False, help_text="Bans owed to current members of the "
                                                                      "subscribed groups")


class PropagationSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    notify = serializers.IntegerField()


class UserBanSerializer(serializers.Serializer):
    ban_list = BanListRefSerializer()
    reason = serializers.CharField(allow_blank=True)
    banned_at = serializers.DateTimeField()
    banned_by = BanListUserSerializer(allow_null=True)


class UserBansSerializer(serializers.Serializer):
    telegram_user_id = serializers.IntegerField()
    bans = UserBanSerializer(many=True)


class DeletedSerializer(serializers.Serializer):
    id = serializers.CharField()
    is_active = serializers.BooleanField()
