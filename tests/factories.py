"""Builders for test data, through the services (so invariants and audit hold in tests too)."""

import itertools

from apps.groups.models import Group, Membership
from apps.groups.services import group_register, membership_set
from apps.rbac.selectors import role_get
from apps.rbac.services import role_assign
from apps.users.models import User
from apps.users.services import user_create

_counter = itertools.count(1)


def make_user(username: str | None = None, **kwargs) -> User:
    number = next(_counter)
    kwargs.setdefault("telegram_user_id", 5_000_000 + number)
    return user_create(username=username or f"user{number}", **kwargs)


def make_group(**kwargs) -> Group:
    number = next(_counter)
    kwargs.setdefault("telegram_chat_id", -1001000000000 - number)
    kwargs.setdefault("title", f"Group {number}")
    kwargs.setdefault("type", Group.Type.SUPERGROUP)
    return group_register(**kwargs)[0]


def make_member(user: User, group: Group, status: str = Membership.Status.MEMBER) -> Membership:
    return membership_set(group=group, user=user, status=status)


def grant(user: User, role: str, group: Group | None = None, **kwargs):
    return role_assign(user=user, role=role_get(name=role), group=group, **kwargs)[0]
