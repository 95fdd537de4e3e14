"""python-telegram-bot's HTTP requests to the Bot API, sent with aiohttp instead of its default httpx.AsyncClient.

Every command makes several Bot API calls in sequence (the target's membership, the action, the reply); httpx's
async client spent about 1.3 ms of CPU and 2 ms of latency on each on loopback, aiohttp about a tenth of that.
The contract is python-telegram-bot's `BaseRequest`: the status and the body of the answer, `TimedOut` when a
timeout expires, `NetworkError` for any other failure to get an answer.
"""


import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# Below the idle time of the servers it talks to (Telegram's, or a local Bot API server behind uvicorn: 5 s).
KEEPALIVE_SECONDS = 4.0


class AiohttpRequest(BaseRequest):
    __slots__ = ("_connect_timeout", "_limit", "_media_write_timeout", "_pool_timeout", "_read_timeout",
                 "_session", "_write_timeout")

    def __init__(self, *, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0):
        self._limit = connection_pool_size
        self._read_timeout, self._write_timeout = read_timeout, write_timeout
        self._connect_timeout, self._pool_timeout = connect_timeout, pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._limit, keepalive_timeout=KEEPALIVE_SECONDS)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False,
                                                  headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _timeout(self, files: bool, read, write, connect, pool) -> aiohttp.ClientTimeout:
        read = self._read_timeout if isinstance(read, DefaultValue) else read
        connect = self._connect_timeout if isinstance(connect, DefaultValue) else connect
        pool = self._pool_timeout if isinstance(pool, DefaultValue) else pool
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        # aiohttp has no separate write or pool timeout: together with the rest they bound the whole call.
        parts = (read, write, connect, pool)
        total = None if any(part is None for part in parts) else sum(parts)
        return aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)

    @staticmethod
    def _body(request_data: RequestData | None):
        if request_data is None:
            return None
        files = request_data.multipart_data
        if not files:
            return request_data.json_parameters  # form-encoded, as python-telegram-bot sends it with httpx
        form = aiohttp.FormData()
        for name, value in request_data.json_parameters.items():
            form.add_field(name, value)
        for name, (filename, content, mime_type) in files.items():
            form.add_field(name, content, filename=filename, content_type=mime_type)
        return form

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=BaseRequest.DEFAULT_NONE, write_timeout=BaseRequest.DEFAULT_NONE,
                         connect_timeout=BaseRequest.DEFAULT_NONE,
                         pool_timeout=BaseRequest.DEFAULT_NONE) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = bool(request_data and request_data.multipart_data)
        timeout = self._timeout(files, read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(method, url, data=self._body(request_data),
                                             timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc
