from .client import AsyncCoreClient, CoreClient
from .errors import CoreError, CoreUnavailable
from .ids import InvalidId

__all__ = ["AsyncCoreClient", "CoreClient", "CoreError", "CoreUnavailable", "InvalidId"]
