"""The bot's aiohttp requests to the Bot API: python-telegram-bot's contract against the sandbox and real sockets."""

import asyncio
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from apps.botgateway.telegram_request import AiohttpRequest
from tgsandbox.server import SandboxServer

TOKEN = "123456:request-test"


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(seed=True, token=TOKEN) as server:
        yield server


def test_bot_api_calls_and_telegrams_errors_through_aiohttp(sandbox):
    chat = sandbox.world.create_chat("Request test", "alice", members=["carol"])
    bot_user = next(bot.user for bot in sandbox.world.bots.values() if bot.token == TOKEN)
    sandbox.world.add_member(chat, bot_user, by="alice")

    async def calls():
        async with Bot(TOKEN, base_url=sandbox.bot_base_url, request=AiohttpRequest()) as bot:
            me = await bot.get_me()
            sent = await bot.send_message(chat.id, "<b>hello</b> & more", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                await bot.get_chat_member(-100404, me.id)
            return me, sent

    me, sent = asyncio.run(calls())
    assert me.is_bot and me.username
    assert (sent.chat.id, sent.text) == (chat.id, "hello & more")


class _Recorder(BaseHTTPRequestHandler):
    """Answers every POST like the Bot API after `delay` seconds, keeping what it was sent."""

    delay = 0.0
    seen: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append((self.headers.get("Content-Type", ""), body))
        time.sleep(self.delay)
        answer = b'{"ok": true, "result": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    handler = type("Recorder", (_Recorder,), {"seen": [], "delay": 0.0})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/bot{TOKEN}"
    server.shutdown()
    server.server_close()


def _send(request: AiohttpRequest, url: str, data: RequestData | None = None, **timeouts):
    async def send():
        await request.initialize()
        try:
            return await request.do_request(url, "POST", data, **timeouts)
        finally:
            await request.shutdown()

    return asyncio.run(send())


def test_parameters_go_form_encoded_and_files_as_multipart(recorder):
    handler, base = recorder
    plain = RequestData([RequestParameter.from_input("chat_id", -100), RequestParameter.from_input("text", "hi there")])
    assert _send(AiohttpRequest(), f"{base}/sendMessage", plain) == (200, b'{"ok": true, "result": true}')
    content_type, body = handler.seen[-1]
    assert content_type == "application/x-www-form-urlencoded"
    assert body == b"chat_id=-100&text=hi+there"

    document = InputFile(b"report body", filename="report.txt", attach=False)
    upload = RequestData([RequestParameter.from_input("chat_id", -100),
                          RequestParameter.from_input("document", document)])
    _send(AiohttpRequest(), f"{base}/sendDocument", upload)
    content_type, body = handler.seen[-1]
    assert content_type.startswith("multipart/form-data")
    assert b'name="chat_id"' in body and b"-100" in body
    assert b'filename="report.txt"' in body and b"report body" in body


def test_a_slow_answer_is_timed_out_and_a_refused_connection_is_a_network_error(recorder):
    handler, base = recorder
    handler.delay = 0.5
    started = time.monotonic()
    with pytest.raises(TimedOut):
        _send(AiohttpRequest(read_timeout=0.1), f"{base}/getMe")
    assert time.monotonic() - started < 0.45
    assert _send(AiohttpRequest(read_timeout=0.1), f"{base}/getMe", read_timeout=2)[0] == 200  # per-call override

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with pytest.raises(NetworkError, match="aiohttp"):
        _send(AiohttpRequest(connect_timeout=0.5), f"http://127.0.0.1:{closed}/bot{TOKEN}/getMe")


def test_a_request_must_be_initialized():
    async def send():
        return await AiohttpRequest().do_request("http://127.0.0.1:1/getMe", "POST")

    with pytest.raises(RuntimeError, match="not initialized"):
        asyncio.run(send())
