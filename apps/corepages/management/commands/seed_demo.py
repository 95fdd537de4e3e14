"""Demo data for a first look: an admin with a generated password, and the demo world the Telegram sandbox has too
(apps/common/demo_world.py): the same people with the same Telegram ids and @usernames, in the same groups, with
their roles, and what they said before the first command."""

import logging
import os
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.common import demo_world
from apps.common.context import bind_context
from apps.common.db import atomic
from apps.events.services import events_ingest
from apps.groups.models import Membership
from apps.groups.services import group_register, membership_set
from apps.rbac.models import RoleAssignment
from apps.rbac.selectors import role_get
from apps.rbac.services import role_assign
from apps.users.models import User
from apps.users.services import user_create

ADMIN_USERNAME = "admin"
ADMIN_LOGIN_FILE = "demo-admin-password"
RESET_HINT = "manage.py changepassword admin"


def _history_events(now) -> list[dict]:
    """What everyone said before the first command, a minute apart, ending a few minutes ago."""
    chat_ids = {group.title: group.telegram_chat_id for group in demo_world.GROUPS}
    count = len(demo_world.HISTORY)
    events = []
    for number, (title, login, _text) in enumerate(demo_world.HISTORY):
        person = demo_world.PERSON[login]
        events.append({
            "event_id": f"demo-history-{number}", "type": "message", "telegram_chat_id": chat_ids[title],
            "telegram_user_id": person.telegram_id, "username": person.telegram_username,
            "display_name": person.display_name, "occurred_at": now - timedelta(minutes=5 + count - number),
        })
    return events


def _demo_activity(now) -> list[dict]:
    """Two days of chatter, so the stats endpoints have something to chart."""
    rng = random.Random(7)  # the same demo every time
    speakers = [person.telegram_id for person in demo_world.PEOPLE if person.login != "spammer"]
    events = []
    for number in range(600):
        group = demo_world.GROUPS[number % len(demo_world.GROUPS)]
        kind = rng.choices(["message", "command", "join", "leave"], weights=[90, 5, 3, 2])[0]
        events.append({
            "event_id": f"demo-{number}",
            "type": kind,
            "telegram_chat_id": group.telegram_chat_id,
            "telegram_user_id": rng.choice(speakers) if kind in ("message", "command") else 20000 + number,
            "command": "help" if kind == "command" else "",
            "occurred_at": now - timedelta(minutes=rng.randint(60, 48 * 60)),
        })
    return events


def _keep_password(password: str):
    """The generated password in DATA_DIR, readable by its owner only, so `make run` can show it again."""
    path = settings.DATA_DIR / ADMIN_LOGIN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return path


class Command(BaseCommand):
    help = "Load the demo data once (the Telegram sandbox's demo world). Does nothing when the demo admin exists."

    def handle(self, *args, **options):
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write("Demo data already loaded (admin exists); nothing to do.")
            return
        bind_context(service="seed_demo")
        logging.getLogger("apps.audit.services").setLevel(logging.WARNING)  # one line per demo row is noise
        password = secrets.token_urlsafe(12)
        now = timezone.now()
        with atomic():
            admin = user_create(username=ADMIN_USERNAME, display_name="Platform Admin", password=password)
            admin.is_staff = admin.is_superuser = True
            admin.save(update_fields=["is_staff", "is_superuser"])
            role_assign(user=admin, role=role_get(name="owner"), reason="demo platform admin")
            users = {person.login: user_create(username=person.login, telegram_user_id=person.telegram_id,
                                               telegram_username=person.telegram_username,
                                               display_name=person.display_name)
                     for person in demo_world.PEOPLE}
            for login, role_name in demo_world.GLOBAL_ROLES.items():
                role_assign(user=users[login], role=role_get(name=role_name), reason="demo platform staff")
            for spec in demo_world.GROUPS:
                group, _ = group_register(telegram_chat_id=spec.telegram_chat_id, title=spec.title, type=spec.type)
                telegram_admins = {spec.owner, *spec.admins}
                for login in (spec.owner, *spec.admins, *spec.members):
                    membership_set(group=group, user=users[login], status=Membership.Status.MEMBER,
                                   is_admin=login in telegram_admins)
                for login, role_name in spec.roles.items():
                    # What Telegram shows (its owner and admins) is held as a sync would hold it.
                    source = (RoleAssignment.Source.TELEGRAM_SYNC if login in telegram_admins
                              else RoleAssignment.Source.MANUAL)
                    role_assign(user=users[login], role=role_get(name=role_name), group=group, reason="demo data",
                                source=source)
            events_ingest(events=_history_events(now) + _demo_activity(now))
        path = _keep_password(password)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"  Admin login: {ADMIN_USERNAME} / {password}   (also in {path}, readable by you only; "
                          f"reset it with: {RESET_HINT})")
