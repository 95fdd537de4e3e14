from django.db.models import Q, QuerySet

from apps.common.errors import ErrorCode, NotFoundError
from apps.common.ids import get_or_404, parse_pk

from .models import User


def user_get(*, user_id) -> User:
    return get_or_404(User, user_id, label="User")


def user_list(
    *,
    username: str | None = None,
    telegram_user_id: int | None = None,
    telegram_username: str | None = None,
    q: str | None = None,
    is_active: bool | None = None,
) -> QuerySet[User]:
    queryset = User.objects.all()
    if username is not None:
        queryset = queryset.filter(username=username)
    if telegram_user_id is not None:
        queryset = queryset.filter(telegram_user_id=telegram_user_id)
    if telegram_username is not None:
        queryset = queryset.filter(telegram_username__iexact=telegram_username.lstrip("@"))
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    if q:
        queryset = queryset.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(telegram_username__icontains=q)
        )
    return queryset.order_by("id")


class UnknownTargetError(NotFoundError):
    code = ErrorCode.UNKNOWN_TARGET
    default_message = "No Telegram account is known by that @username"


def user_by_telegram_username(*, telegram_username: str) -> User:
    """The one user whose Telegram account core knows by this @username (case-insensitive, as Telegram's).
    None, or several (a stale name not yet seen to move): UnknownTargetError, never a guess."""
    matches = list(user_list(telegram_username=telegram_username).filter(telegram_user_id__isnull=False)[:2])
    if len(matches) != 1:
        raise UnknownTargetError(f"No single Telegram account is known as @{telegram_username.lstrip('@')}",
                                 details={"telegram_username": telegram_username.lstrip("@"), "matches": len(matches)})
    return matches[0]


def actor_get(*, actor_user_id) -> User | None:
    """The user on whose behalf a calling service acts, when it names one."""
    if actor_user_id is None:
        return None
    return get_or_404(User, actor_user_id, label="Actor user")


def user_display_name(display_name: str, telegram_username: str, username: str) -> str:
    """What people call a user: their display name, else @their Telegram username, else their account name."""
    return display_name or (f"@{telegram_username}" if telegram_username else username)


def user_names(ids: set) -> dict[str, str]:
    """User pk string -> display name, for those of `ids` that name a user: one query (the audit trail's namer)."""
    pks = {pk for pk in (parse_pk(User, value) for value in ids) if pk is not None}
    if not pks:
        return {}
    rows = User.objects.filter(pk__in=pks).values_list("pk", "display_name", "telegram_username", "username")
    return {str(pk): user_display_name(*names) for pk, *names in rows}
