from apps.common.errors import DomainError, ErrorCode, PermissionDeniedError


class UnknownPermissionError(DomainError):
    code = ErrorCode.UNKNOWN_PERMISSION
    default_message = "Unknown permission"


class RankViolationError(PermissionDeniedError):
    code = ErrorCode.RANK_VIOLATION
    default_message = "You may only grant, revoke or edit roles ranked below your own"
