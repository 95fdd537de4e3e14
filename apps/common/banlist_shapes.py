"""The ban lists' answers (issue 16) that core serves and web relays: one definition for both roles' OpenAPI schemas.

The same rule as apps.common.shapes (kept apart only for size): plain serializers over dicts that the web role can
import; core's output serializers are these or subclass them, overriding only how a field is read (a source) or
narrowed (its own enums), so a field keeps its place and each answer's fields are listed once.
"""

from rest_framework import serializers

from .shapes import BanListRefSerializer

# The kinds of a list's change (its history): core's Change.Kind, which the shapes test holds equal.
CHANGE_KINDS = ("ban", "unban", "import")
BAN_SOURCES = ("command", "api", "import")


# -- the lists

class BanListUserSerializer(serializers.Serializer):
    id = serializers.CharField()
    telegram_user_id = serializers.IntegerField(allow_null=True)
    username = serializers.CharField(help_text='Their Telegram username ("" when none)')
    display_name = serializers.CharField()


class BanListSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    owner = BanListUserSerializer()
    log_chat_id = serializers.IntegerField(allow_null=True, help_text="The chat the list's changes are posted to")
    version = serializers.IntegerField(help_text="Bumped by every ban, unban and import")
    is_active = serializers.BooleanField(help_text="False once deleted")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    bans_count = serializers.IntegerField(help_text="Bans in force")
    groups_count = serializers.IntegerField(help_text="Groups subscribed to it")
    admins_count = serializers.IntegerField(help_text="Users holding a role on it, its owner aside")


class BanListAdminSerializer(serializers.Serializer):
    user = BanListUserSerializer()
    role = serializers.CharField(help_text="banlist_owner or banlist_admin")
    granted_at = serializers.DateTimeField()
    granted_by = BanListUserSerializer(allow_null=True)


class BanListAdminsSerializer(serializers.Serializer):
    owner = BanListUserSerializer()
    admins = BanListAdminSerializer(many=True, help_text="Every role on the list, the owner's included, highest first")


class BanListAdminAddedSerializer(BanListAdminsSerializer):
    created = serializers.BooleanField(help_text="False: they were an admin (or the owner) already")


class BanListAdminRemovedSerializer(BanListAdminsSerializer):
    removed = serializers.BooleanField(help_text="False: they were not an admin")


class BanListSubscriptionSerializer(serializers.Serializer):
    group_id = serializers.CharField()
    telegram_chat_id = serializers.IntegerField()
    title = serializers.CharField()
    subscribed_at = serializers.DateTimeField()
    subscribed_by = BanListUserSerializer(allow_null=True)


class BanListSubscribedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: the group was subscribed already")
    subscription = BanListSubscriptionSerializer()
    propagations = serializers.IntegerField(help_text="Bans now owed to the group's known members")


class BanListRemovedSerializer(serializers.Serializer):
    removed = serializers.BooleanField(help_text="False: there was nothing to remove")


class BanListFollowsSerializer(serializers.Serializer):
    follows = BanListRefSerializer(many=True, help_text="The lists whose bans this one takes on")
    followers = BanListRefSerializer(many=True, help_text="The lists that take on this one's bans")


class BanListFollowedSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text="False: the list followed the source already")
    source = BanListRefSerializer()
    propagations = serializers.IntegerField(help_text="Bans now owed to the known members of the groups reached")


# -- the bans

class BanSerializer(serializers.Serializer):
    telegram_user_id = serializers.IntegerField()
    user_id = serializers.CharField(allow_null=True, help_text="The core user of this Telegram id, when core knows "
                                                               "them")
    name = serializers.CharField(help_text='Their name as core knows it ("" when unknown)')
    reason = serializers.CharField()
    source = serializers.ChoiceField(choices=BAN_SOURCES)
    banned_by = BanListUserSerializer(allow_null=True)
    banned_at = serializers.DateTimeField()
    active = serializers.BooleanField(help_text="False once unbanned")
    version = serializers.IntegerField(help_text="The list's version at this ban's last change")
    updated_at = serializers.DateTimeField()


class ReachSerializer(serializers.Serializer):
    groups = serializers.IntegerField(help_text="Groups the ban is owed to (a ban, or a notice where exempt); "
                                                "0 when nothing new is owed")
    exempt = serializers.IntegerField(help_text="Of them, those where the user is exempt (an administrator, or "
                                                "approved): their moderators are told instead")


class UnbanReachSerializer(serializers.Serializer):
    groups = serializers.IntegerField(help_text="Groups an unban is owed to")


class BanResultSerializer(serializers.Serializer):
    ban = BanSerializer()
    created = serializers.BooleanField(help_text="False: the user was already banned (the reason was updated, "
                                                 "or nothing changed)")
    version = serializers.IntegerField(help_text="The list's version after the ban")
    propagation = ReachSerializer()


class UnbanResultSerializer(serializers.Serializer):
    ban = BanSerializer(allow_null=True, help_text="The ban as it is now (null: the user was never on the list)")
    removed = serializers.BooleanField(help_text="False: the user was not banned on the list")
    version = serializers.IntegerField()
    propagation = UnbanReachSerializer()


class ChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=CHANGE_KINDS)
    telegram_user_id = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField()
    count = serializers.IntegerField(help_text="1, or an import's bans added and updated")
    actor = BanListUserSerializer(allow_null=True)
    source_service = serializers.CharField()
    details = serializers.DictField()
    created_at = serializers.DateTimeField()


class UserBanSerializer(serializers.Serializer):
    ban_list = BanListRefSerializer()
    reason = serializers.CharField()
    banned_at = serializers.DateTimeField()
    banned_by = BanListUserSerializer(allow_null=True)


class UserBansSerializer(serializers.Serializer):
    telegram_user_id = serializers.IntegerField()
    bans = UserBanSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Users put on the list (new, or unbanned before)")
    updated = serializers.IntegerField(help_text="Active bans whose reason the file changed")
    unchanged = serializers.IntegerField()
    version = serializers.IntegerField(help_text="The list's version after the import (one bump)")
    propagations = serializers.IntegerField(help_text="Bans owed to groups where core knows the user as a current "
                                                      "member")


class PropagationProgressSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    notify = serializers.IntegerField(help_text="Of them, notices to groups where the user is exempt")
