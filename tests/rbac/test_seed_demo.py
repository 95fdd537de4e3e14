import io
import re
import stat

from django.core.management import call_command

from apps.audit.selectors import audit_chain_verify
from apps.common import demo_world
from apps.groups.models import Group, Membership
from apps.rbac.selectors import actor_has_permission
from apps.users.models import User


def test_seed_demo_is_idempotent_and_prints_a_generated_password_once(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    first, second = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    password = re.search(r"admin / (\S+)", first.getvalue()).group(1)
    assert len(password) >= 12
    assert User.objects.get(username="admin").check_password(password)
    assert "admin /" not in second.getvalue()
    assert User.objects.filter(username="admin").count() == 1
    assert audit_chain_verify().intact
    # Kept for `make run`'s banner, readable by its owner only.
    kept = tmp_path / "demo-admin-password"
    assert kept.read_text().strip() == password
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert "manage.py changepassword admin" in first.getvalue()


def test_core_holds_the_sandbox_world(db, settings, tmp_path):
    """The people and groups of the shared demo world, as the sandbox has them, with their roles and words."""
    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    for person in demo_world.PEOPLE:
        user = User.objects.get(telegram_user_id=person.telegram_id)
        assert (user.username, user.telegram_username) == (person.login, person.telegram_username)
    for spec in demo_world.GROUPS:
        group = Group.objects.get(telegram_chat_id=spec.telegram_chat_id)
        assert group.title == spec.title
        members = set(Membership.objects.filter(group=group, status=Membership.Status.MEMBER)
                      .values_list("user__username", flat=True))
        assert members >= {spec.owner, *spec.admins, *spec.members}
    sandbox_group = Group.objects.get(telegram_chat_id=demo_world.GROUPS[0].telegram_chat_id)
    alice, carol, dave = (User.objects.get(username=name) for name in ("alice", "carol", "dave"))
    assert actor_has_permission(user=alice, permission="BAN_USERS", group=sandbox_group)
    assert actor_has_permission(user=carol, permission="BAN_USERS", group=sandbox_group)
    assert not actor_has_permission(user=dave, permission="BAN_USERS", group=sandbox_group)
    bob = User.objects.get(username="bob")
    assert actor_has_permission(user=bob, permission="ADMIN_DASHBOARD", group=None)  # a global grant
    spammer = User.objects.get(username="spammer")
    assert Membership.objects.get(group=sandbox_group, user=spammer).message_count >= 2  # has spoken


def test_core_and_the_sandbox_are_one_world(db, settings, tmp_path):
    """Everyone in the sandbox's demo chats is in core with the same Telegram id and @username, in the group with
    the same chat id and title; and everyone who spoke in the sandbox's history has spoken in core's."""
    from tgsandbox.seed import seed_demo
    from tgsandbox.world import World

    settings.DATA_DIR = tmp_path
    call_command("seed_demo", stdout=io.StringIO())
    world = World()
    seed_demo(world)
    for chat in (chat for chat in world.chats.values() if chat.type != "private"):
        group = Group.objects.get(telegram_chat_id=chat.id)
        assert group.title == chat.title
        for member in chat.members.values():
            person = world.users[member.user_id]
            if person.is_bot:
                continue
            user = User.objects.get(telegram_user_id=person.id)
            assert user.telegram_username == person.username
            membership = Membership.objects.get(group=group, user=user)
            assert membership.is_admin == (member.status in ("creator", "administrator"))
        speakers = {message.from_id for message in chat.messages.values() if message.text}
        assert speakers, chat.title
        for telegram_id in speakers:
            user = User.objects.get(telegram_user_id=telegram_id)
            assert Membership.objects.get(group=group, user=user).message_count >= 1
    assert world.bot().updates == []
