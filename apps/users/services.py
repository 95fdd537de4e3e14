from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.services import audit_change
from apps.common import audit_actions as actions
from apps.common.db import atomic_attempts
from apps.common.errors import ConflictError, LastOwnerError, ValidationFailed

from .models import User

_EDITABLE = ("telegram_user_id", "telegram_username", "display_name", "is_active")
OWNER_ROLE = "owner"


def active_global_owner_ids() -> set:
    """Active users holding an unrevoked, unexpired global owner grant: those who can still grant every role.
    Read through the role engine's reverse relation (RoleAssignment.user), so this app imports nothing of it."""
    unexpired = Q(role_assignments__expires_at__isnull=True) | Q(role_assignments__expires_at__gt=timezone.now())
    return set(User.objects.filter(unexpired, is_active=True, role_assignments__active_scope="global",
                                   role_assignments__role__name=OWNER_ROLE).values_list("pk", flat=True))


def _check_unique(*, username: str | None = None, telegram_user_id: int | None = None, exclude_pk=None) -> None:
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if username is not None and others.filter(username=username).exists():
        raise ConflictError(f"Username {username!r} is taken")
    if telegram_user_id is not None and others.filter(telegram_user_id=telegram_user_id).exists():
        raise ConflictError(f"Telegram user {telegram_user_id} already belongs to another user")


def _set_password(user: User, password: str | None) -> None:
    if password is None:
        user.set_unusable_password()
        return
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), details={"password": exc.messages}) from None
    user.set_password(password)


def user_create(
    *,
    username: str,
    telegram_user_id: int | None = None,
    telegram_username: str = "",
    display_name: str = "",
    password: str | None = None,
    is_active: bool = True,
    actor: User | None = None,
) -> User:
    user = User(
        username=username,
        telegram_user_id=telegram_user_id,
        telegram_username=telegram_username.lstrip("@"),
        display_name=display_name,
        is_active=is_active,
    )
    _set_password(user, password)
    for attempt in atomic_attempts():
        with attempt:
            _check_unique(username=username, telegram_user_id=telegram_user_id)
            try:
                user.save()
            except IntegrityError:
                raise ConflictError("A user with this username or Telegram id already exists") from None
            audit_change(action=actions.USER_CREATE, actor=actor, target_type="user", target_id=user.pk,
                         details={"username": username, "telegram_user_id": telegram_user_id})
    return user


def user_update(*, user: User, actor: User | None = None, password: str | None = None, **changes) -> User:
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValidationFailed(f"Cannot change {', '.join(sorted(unknown))}")
    if "telegram_username" in changes:
        changes["telegram_username"] = changes["telegram_username"].lstrip("@")
    changed = {name: value for name, value in changes.items() if getattr(user, name) != value}
    owners = active_global_owner_ids() if changed.get("is_active") is False else set()
    deactivating_an_owner = user.pk in owners
    if deactivating_an_owner and owners == {user.pk}:
        audit_change(action=actions.USER_UPDATE, actor=actor, target_type="user", target_id=user.pk, result="denied",
                     reason=LastOwnerError.code, details={"changed": ["is_active"]})
        raise _last_owner(user)
    for attempt in atomic_attempts():
        with attempt:
            if "telegram_user_id" in changed and changed["telegram_user_id"] is not None:
                _check_unique(telegram_user_id=changed["telegram_user_id"], exclude_pk=user.pk)
            for name, value in changed.items():
                setattr(user, name, value)
            if password is not None:
                _set_password(user, password)
            fields = [*changed, *(["password"] if password is not None else [])]
            if not fields:
                return user
            user.rbac_version = F("rbac_version") + 1
            try:
                user.save(update_fields=[*fields, "rbac_version"])
            except IntegrityError:
                raise ConflictError("A user with this Telegram id already exists") from None
            user.refresh_from_db(fields=["rbac_version"])
            if deactivating_an_owner and not active_global_owner_ids():  # a concurrent change took the other one
                raise _last_owner(user)
            audit_change(action=actions.USER_UPDATE, actor=actor, target_type="user", target_id=user.pk,
                         details={"changed": sorted(fields)})
    return user


def _last_owner(user: User) -> LastOwnerError:
    return LastOwnerError(f"User {user.pk} is the last active global owner: grant the owner role globally to "
                          "another active user before deactivating them")


def user_bump_rbac_version(*, user_id) -> None:
    """Makes every cached decision about this user stale. Call inside the change's transaction."""
    User.objects.filter(pk=user_id).update(rbac_version=F("rbac_version") + 1)


def user_ensure_telegram(*, telegram_user_id: int, telegram_username: str = "", display_name: str = "",
                         actor: User | None = None) -> User:
    """The user behind a Telegram account, created on first sight; a changed @username or name is kept current,
    and an account core still knows by that @username loses it (telegram_username_release)."""
    telegram_username = telegram_username.lstrip("@")
    user = User.objects.filter(telegram_user_id=telegram_user_id).first()
    if user is None:
        username = f"tg{telegram_user_id}".replace("-", "_")
        if User.objects.filter(username=username).exists():
            username = f"{username}_{User.objects.count()}"
        if telegram_username:
            telegram_username_release(name=telegram_username, claimed_by=telegram_user_id, actor=actor)
        try:
            return user_create(username=username, telegram_user_id=telegram_user_id,
                               telegram_username=telegram_username, display_name=display_name, actor=actor)
        except ConflictError:  # created concurrently
            return User.objects.get(telegram_user_id=telegram_user_id)
    changes = {}
    if telegram_username and telegram_username != user.telegram_username:
        changes["telegram_username"] = telegram_username
        telegram_username_release(name=telegram_username, claimed_by=telegram_user_id, actor=actor)
    if display_name and display_name != user.display_name:
        changes["display_name"] = display_name
    return user_update(user=user, actor=actor, **changes) if changes else user


def telegram_username_release(*, name: str, claimed_by: int, actor: User | None = None) -> list[User]:
    """Telegram usernames are unique at any one time and move between accounts: when `claimed_by` (a Telegram
    user id) shows up under @name, every other account core still knows by that name (in any case) loses it, each
    change audited as user.update. Otherwise "who is @name?" would answer with two accounts, or the stale one.
    Event ingest does the same in bulk (apps.events.services)."""
    stale = list(User.objects.filter(telegram_username__iexact=name.lstrip("@"))
                 .exclude(telegram_user_id=claimed_by))
    return [user_update(user=holder, actor=actor, telegram_username="") for holder in stale]
