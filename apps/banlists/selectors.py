"""Reads of ban lists. SCAFFOLD: group_ban_lists is the lead's; CORE-A fills in the rest (and may refine this one)."""

from apps.groups.models import Group

from .models import BanList, Follow, Subscription

# How deep a list's follows (/subfed) are followed: a list following a list following a list... stops here.
MAX_FOLLOW_DEPTH = 5


def group_ban_lists(*, group: Group) -> list[dict]:
    """The active lists whose bans hold in the group: those it subscribes to and, through /subfed, those they
    follow (transitively, up to MAX_FOLLOW_DEPTH, each once), as [{"id", "name"}] ordered by id."""
    direct = list(Subscription.objects.filter(group=group).values_list("ban_list_id", flat=True))
    seen, frontier = set(direct), set(direct)
    for _ in range(MAX_FOLLOW_DEPTH):
        if not frontier:
            break
        sources = set(Follow.objects.filter(ban_list_id__in=frontier).values_list("source_id", flat=True))
        frontier = sources - seen
        seen |= frontier
    if not seen:
        return []
    rows = BanList.objects.filter(pk__in=seen, is_active=True).values_list("pk", "name")
    return [{"id": str(pk), "name": name} for pk, name in sorted(rows, key=lambda row: str(row[0]))]
