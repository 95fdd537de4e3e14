from .client import AsyncCoreClient, CoreClient
from .errors import CoreError, CoreUnavailable

__all__ = ["AsyncCoreClient", "CoreClient", "CoreError", "CoreUnavailable"]
