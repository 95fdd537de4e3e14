from apps.common.errors import NotFoundError
from apps.common.ids import get_or_404

from .models import Group


def group_get(*, group_id) -> Group:
    return get_or_404(Group, group_id, label="Group")


def group_get_by_chat(*, telegram_chat_id: int) -> Group:
    try:
        return Group.objects.get(telegram_chat_id=telegram_chat_id)
    except Group.DoesNotExist:
        raise NotFoundError(f"No group with Telegram chat id {telegram_chat_id}") from None


def group_resolve(*, group_id=None, telegram_chat_id: int | None = None) -> Group | None:
    """The group named by either id; None when neither is given."""
    if group_id is not None:
        return group_get(group_id=group_id)
    if telegram_chat_id is not None:
        return group_get_by_chat(telegram_chat_id=telegram_chat_id)
    return None
