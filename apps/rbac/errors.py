from apps.common.errors import DomainError, PermissionDeniedError


class UnknownPermissionError(DomainError):
    code = "unknown_permission"
    status_code = 400
    default_message = "Unknown permission"


class RankViolationError(PermissionDeniedError):
    code = "rank_violation"
    default_message = "You may only grant, revoke or edit roles ranked below your own"
