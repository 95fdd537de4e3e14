"""Builders of the bans' tests: lists, subscriptions and follows written as rows (the list's own services are tested
beside them), and a list admin holding banlist_admin in the list's scope."""

from apps.banlists.models import BanList, Follow, Subscription
from apps.groups.models import Group
from apps.rbac.models import RoleAssignment
from apps.rbac.selectors import role_get
from apps.users.models import User
from tests.factories import make_group, make_user

BANS = "/api/banlists/{}/bans"


def make_list(owner: User | None = None, name: str = "Spam watch", **kwargs) -> BanList:
    return BanList.objects.create(name=name, owner=owner or make_user(), **kwargs)


def subscribe(ban_list: BanList, *groups: Group) -> None:
    for group in groups:
        Subscription.objects.create(ban_list=ban_list, group=group)


def follow(ban_list: BanList, source: BanList) -> None:
    Follow.objects.create(ban_list=ban_list, source=source)


def subscribed_groups(ban_list: BanList, count: int) -> list[Group]:
    groups = [make_group() for _ in range(count)]
    subscribe(ban_list, *groups)
    return groups


def list_admin(ban_list: BanList, role: str = "banlist_admin") -> User:
    """A user holding `role` in the list's scope (written as the grant's row: the list's admin API is CORE-A's)."""
    user = make_user()
    RoleAssignment.objects.create(user=user, role=role_get(name=role), scope=ban_list.scope,
                                  active_scope=ban_list.scope)
    return user


def error_of(response, status: int, code: str) -> dict:
    body = response.json()
    assert (response.status_code, body["success"], body["error"]) == (status, False, code), body
    return body
