from datetime import date

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import Lower

from apps.common.errors import NotFoundError, ValidationFailed
from apps.common.ids import get_or_404, parse_pk
from apps.common.pagination import page_total
from apps.common.prepared import PreparedQuery, page_slice
from apps.users.selectors import user_get

from .models import ChatIdAlias, Group, Membership

GROUP_SORTS = {"title": "title", "created": "created_at", "members": "member_count", "messages": "message_count"}


def group_get(*, group_id) -> Group:
    return get_or_404(Group, group_id, label="Group")


def group_get_by_chat(*, telegram_chat_id: int) -> Group:
    """By the current chat id, or by one the group had before Telegram migrated it."""
    group = Group.objects.filter(telegram_chat_id=telegram_chat_id).first()
    if group is None:
        alias = ChatIdAlias.objects.filter(telegram_chat_id=telegram_chat_id).values_list("group_id", flat=True).first()
        group = Group.objects.filter(pk=alias).first() if alias is not None else None
    if group is None:
        raise NotFoundError(f"No group with Telegram chat id {telegram_chat_id}")
    return group


def group_resolve(*, group_id=None, telegram_chat_id: int | None = None) -> Group | None:
    """The group named by either id; None when neither is given."""
    if group_id is not None:
        return group_get(group_id=group_id)
    if telegram_chat_id is not None:
        return group_get_by_chat(telegram_chat_id=telegram_chat_id)
    return None


def _sort_field(sort: str) -> str:
    field = GROUP_SORTS.get(sort.removeprefix("-"))
    if field is None:
        raise ValidationFailed(
            f"Unknown sort {sort!r}; use one of {', '.join(sorted(GROUP_SORTS))}, with '-' for descending",
            details={"sort": [f"Must be one of {sorted(GROUP_SORTS)}, optionally prefixed with '-'."]},
        )
    return field


def group_list(*, active: bool | None = None, q: str | None = None, sort: str = "title") -> QuerySet[Group]:
    field = _sort_field(sort)
    queryset = Group.objects.all()
    if active is not None:
        queryset = queryset.filter(is_active=active)
    if q:
        queryset = queryset.filter(title__icontains=q)
    key = Lower(field) if field == "title" else F(field)  # titles sort as people read them, not by code point
    if sort.startswith("-"):
        return queryset.order_by(key.desc(), "-id")
    return queryset.order_by(key.asc(), "id")


def group_page(*, columns: tuple[str, ...], page: int, limit: int, active: bool | None = None, q: str | None = None,
               sort: str = "title") -> tuple[list[dict], int]:
    """One page of `group_list(...)` as dicts of `columns`, and the list's total.

    The dashboard's list (no text search) runs as a statement compiled once per connection and filter, which
    also counts the list (a window function): building and compiling the two statements through the ORM was
    most of the request's cost. Anything else, and backends without SQL or window functions, use the ORM."""
    _sort_field(sort)
    offset = (page - 1) * limit
    if not q:
        statement = PreparedQuery.get(("groups:page", columns, active, sort),
                                      lambda connection: _page_statement(connection, columns, active, sort))
        if statement is not None:
            rows = statement.rows(page=(offset, limit))
            if rows:
                return [dict(zip(columns, row, strict=False)) for row in rows], rows[0][-1]
            return [], page_total(group_list(active=active, sort=sort), offset=offset, limit=limit, found=0)
    queryset = group_list(active=active, q=q, sort=sort)
    items = list(queryset.values(*columns)[offset : offset + limit])
    return items, page_total(queryset, offset=offset, limit=limit, found=len(items))


def _page_statement(connection, columns: tuple[str, ...], active: bool | None, sort: str) -> PreparedQuery:
    queryset = group_list(active=active, sort=sort).values_list(*columns, Window(Count("pk")))
    return PreparedQuery(page_slice(queryset), connection, paged=True)


PRESENT_STATUSES = "present"  # the members the group's member_count counts (member or restricted)


def membership_list(*, group: Group, status: str | None = None) -> QuerySet[Membership]:
    queryset = Membership.objects.filter(group=group)
    if status == PRESENT_STATUSES:
        queryset = queryset.filter(status__in=sorted(Membership.PRESENT))
    elif status is not None:
        queryset = queryset.filter(status=status)
    return queryset.select_related("user").order_by("id")


def membership_get(*, group: Group, user_id) -> Membership:
    user = user_get(user_id=user_id)
    membership = Membership.objects.filter(group=group, user=user).select_related("user").first()
    if membership is None:
        raise NotFoundError(f"User {user_id} is not a member of group {group.pk}")
    return membership


def group_titles(ids: set) -> dict[str, str]:
    """Group pk string -> title, for those of `ids` that name a group: one query (the audit trail's namer)."""
    pks = {pk for pk in (parse_pk(Group, value) for value in ids) if pk is not None}
    if not pks:
        return {}
    return {str(pk): title for pk, title in Group.objects.filter(pk__in=pks).values_list("pk", "title")}


def group_digest_candidates(*, before: date) -> list[Group]:
    """Groups whose weekly digest may be due: active, the digest on, a log chat set, and no week digested on or
    after `before` (the latest week any clock has completed; each group's own week is decided by the caller).
    Read on every log claim, so two range searches of the `group_digest_due` index (never digested; digested before
    `before`), which touch no row while every group's digest is sent: one query with OR lets SQLite's planner walk
    every digest-on entry instead. `IN` rather than `=`: Django writes a boolean test as the bare column, which
    SQLite cannot match to the index's first column."""
    digest_on = Group.objects.filter(weekly_digest__in=[True], is_active=True, log_chat_id__isnull=False).only(
        "pk", "telegram_chat_id", "title", "timezone", "log_chat_id", "digest_sent_week")
    return [*digest_on.filter(digest_sent_week__isnull=True), *digest_on.filter(digest_sent_week__lt=before)]
