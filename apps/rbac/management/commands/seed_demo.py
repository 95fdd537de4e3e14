"""Demo data for a first look: an admin with a generated password (printed once), groups, users and roles."""

import logging
import random
import secrets
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.common.context import bind_context
from apps.common.db import atomic
from apps.events.services import events_ingest
from apps.groups.models import Membership
from apps.groups.services import group_register, membership_set
from apps.rbac.selectors import role_get
from apps.rbac.services import role_assign
from apps.users.models import User
from apps.users.services import user_create

ADMIN_USERNAME = "admin"

DEMO_GROUPS = [
    (-1001000000001, "Python Developers", "supergroup"),
    (-1001000000002, "Django Users", "supergroup"),
    (-100000000003, "Book Club", "group"),
]
DEMO_USERS = [
    # username, telegram id, telegram username, display name, {group index: role}
    ("alice", 10001, "alice_tg", "Alice Owner", {0: "owner"}),
    ("bob", 10002, "bob_tg", "Bob Admin", {0: "admin", 1: "admin"}),
    ("carol", 10003, "carol_tg", "Carol Moderator", {0: "moderator", 2: "moderator"}),
    ("dave", 10004, "dave_tg", "Dave Helper", {1: "helper"}),
    ("erin", 10005, "erin_tg", "Erin Member", {0: "member", 1: "member", 2: "member"}),
    ("spammer", 10006, "spam_bot_9000", "Totally Not Spam", {}),
]


def _demo_activity(groups) -> list[dict]:
    """Two days of chatter, so the stats endpoints have something to chart."""
    rng = random.Random(7)  # the same demo every time
    now = timezone.now()
    speakers = [telegram_id for _, telegram_id, *_ in DEMO_USERS if telegram_id != 10006]
    events = []
    for number in range(600):
        group = groups[number % len(groups)]
        kind = rng.choices(["message", "command", "join", "leave"], weights=[90, 5, 3, 2])[0]
        events.append({
            "event_id": f"demo-{number}",
            "type": kind,
            "telegram_chat_id": group.telegram_chat_id,
            "telegram_user_id": rng.choice(speakers) if kind in ("message", "command") else 20000 + number,
            "command": "help" if kind == "command" else "",
            "occurred_at": now - timedelta(minutes=rng.randint(1, 48 * 60)),
        })
    return events


class Command(BaseCommand):
    help = "Load demo data once. Does nothing when the demo admin already exists."

    def handle(self, *args, **options):
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write("Demo data already loaded (admin exists); nothing to do.")
            return
        bind_context(service="seed_demo")
        logging.getLogger("apps.audit.services").setLevel(logging.WARNING)  # one line per demo row is noise
        password = secrets.token_urlsafe(12)
        with atomic():
            admin = user_create(username=ADMIN_USERNAME, display_name="Platform Admin", password=password)
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
            role_assign(user=admin, role=role_get(name="owner"), reason="demo platform admin")
            groups = [
                group_register(telegram_chat_id=chat, title=title, type=kind)[0] for chat, title, kind in DEMO_GROUPS
            ]
            for username, telegram_id, telegram_username, display_name, roles in DEMO_USERS:
                user = user_create(username=username, telegram_user_id=telegram_id,
                                   telegram_username=telegram_username, display_name=display_name)
                for group in groups:
                    membership_set(group=group, user=user, status=Membership.Status.MEMBER)
                for index, role_name in roles.items():
                    role_assign(user=user, role=role_get(name=role_name), group=groups[index], actor=None,
                                reason="demo data")
            spammer = User.objects.get(username="spammer")
            membership_set(group=groups[0], user=spammer, status=Membership.Status.BANNED)
            events_ingest(events=_demo_activity(groups))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  Admin login: {ADMIN_USERNAME} / {password}   (shown once; change it in /admin)")
