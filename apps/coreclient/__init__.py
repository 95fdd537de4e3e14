from .answers import (
    Decision,
    Group,
    Member,
    ModerationRecord,
    ProtectionSettings,
    RecordedAction,
    UnexpectedAnswer,
    WarningState,
)
from .client import AsyncCoreClient, CoreClient
from .errors import CoreError, CoreUnavailable
from .ids import InvalidId

__all__ = ["AsyncCoreClient", "CoreClient", "CoreError", "CoreUnavailable", "Decision", "Group", "InvalidId",
           "Member", "ModerationRecord", "ProtectionSettings", "RecordedAction", "UnexpectedAnswer", "WarningState"]
