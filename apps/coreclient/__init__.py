from .answers import Decision, Group, Member, ModerationRecord, RecordedAction, UnexpectedAnswer, WarningState
from .client import AsyncCoreClient, CoreClient
from .errors import CoreError, CoreUnavailable
from .ids import InvalidId

__all__ = ["AsyncCoreClient", "CoreClient", "CoreError", "CoreUnavailable", "Decision", "Group", "InvalidId",
           "Member", "ModerationRecord", "RecordedAction", "UnexpectedAnswer", "WarningState"]
