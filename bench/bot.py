"""Bot benchmarks: webhook throughput of plain group messages (counted and batched to core), and the round
trip of a command (update in, permission check, Bot API call, reply), with core and the sandbox beside it.

    python -m bench.bot [--duration 10] [--commands 200] [--command-rate 8] [--outbox-synchronous normal|full]

Real processes on loopback, with production settings (DEBUG off): core under gunicorn (2 workers), the Telegram
sandbox, the bot under uvicorn, and a bare ASGI app under the same uvicorn as the baseline. wrk posts updates
straight to the webhook (as Telegram would), and the webhook answers each only once it is durable in the bot's
outbox file (committed in groups; --outbox-synchronous full adds an fsync per group commit); the run then waits
until core has counted every accepted message, so the figure is end to end.
"""

import argparse
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

if not settings.configured:  # this process runs no role: the core client needs only defaults (and a name)
    settings.configure(SERVICE_NAME="bench")

from apps.coreclient import CoreClient, CoreError
from bench.run import server_cpu
from tests.e2e.processes import (
    BIN,
    TEST_KEY,
    WEBHOOK_SECRET,
    Process,
    bot_process,
    core_process,
    free_port,
    sandbox_process,
)
from tgsandbox.client import SandboxClient

SCRIPT = Path(__file__).resolve().parent / "wrk" / "telegram_updates.lua"
SENDERS = 50  # the group's senders in the wrk script
TARGET_MESSAGES_PER_S = 2000
TARGET_COMMAND_P95_MS = 50.0


def wrk(url: str, *args: str, duration: int, connections: int = 32) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", str(SCRIPT), url,
               "--", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", done.stdout, re.MULTILINE)
    if done.returncode != 0 or not match:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def messages_in_core(api: CoreClient, group_id: str) -> int:
    return api.group_stats(group_id, bucket="hour")["totals"]["messages"]


def command_round_trips(telegram: SandboxClient, chat_ids: list[int], count: int, rate: float) -> list[float]:
    """Seconds from the update's creation to the bot's reply, for `/mute` and `/unmute` in turn, spread over
    several groups: Telegram (and the bot's rate limiter) allow a bot 20 messages a minute per group. Commands
    start at most `rate` a second: each sends two paced requests (the action and the reply), and back to back
    they would measure the bot's limiter (30 sends a second, Telegram's), not a command's own latency."""
    timings = []
    next_start = time.perf_counter()
    for number in range(count):
        time.sleep(max(0.0, next_start - time.perf_counter()))
        next_start = time.perf_counter() + 1 / rate
        command = "/mute @bench_target" if (number // len(chat_ids)) % 2 == 0 else "/unmute @bench_target"
        chat_id = chat_ids[number % len(chat_ids)]
        started = time.perf_counter()
        sent = telegram.send_message(chat_id, "alice", command)
        replies = telegram.messages(chat_id, since_id=sent["message_id"], sender="@sandbox_mod_bot", wait=5)
        texts = [reply for reply in replies if "text" in reply]
        while not texts:
            replies = telegram.messages(chat_id, since_id=sent["message_id"], sender="@sandbox_mod_bot", wait=5)
            texts = [reply for reply in replies if "text" in reply]
        timings.append(time.perf_counter() - started)
    return timings


COMMANDS_PER_GROUP = 5  # well inside Telegram's 20 messages a minute per group, which the bot's limiter keeps


def bench_group(telegram: SandboxClient, number: int) -> dict:
    chat = telegram.create_chat(f"Bench {number}", "alice", members=["carol", "@bench_target"])
    telegram.add_member(chat["id"], "@sandbox_mod_bot", by="alice", status="administrator",
                        rights={"can_restrict_members": True, "can_delete_messages": True})
    telegram.send_message(chat["id"], "bench_target", "hello")  # core learns who @bench_target is
    return chat


def wait_registered(api: CoreClient, chat_id: int) -> str:
    deadline = time.monotonic() + 15
    while True:
        try:
            return api.group_by_chat(chat_id).id
        except CoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--command-rate", type=float, default=8.0, help="commands started per second at most")
    parser.add_argument("--outbox-synchronous", choices=("normal", "full"), default="normal",
                        help="the bot's BOT_OUTBOX_SYNCHRONOUS (full: an fsync per group commit)")
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is required: apt-get install wrk", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="bench-bot-"))
    core_port, sandbox_port, bot_port, bare_port = (free_port() for _ in range(4))
    core = core_process(tmp, core_port)
    sandbox = sandbox_process(tmp, sandbox_port)
    bot = bot_process(tmp, bot_port, core_port, sandbox_port)
    for role in (core, bot):  # as deployed: production settings, DEBUG off
        role.env.update({"APP_ENV": "production", "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
                         "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false"})
    bot.env["BOT_OUTBOX_SYNCHRONOUS"] = options.outbox_synchronous
    bare = Process("bare", [str(BIN / "uvicorn"), "bench.bare_asgi:application", "--host", "127.0.0.1", "--port",
                            str(bare_port), "--no-access-log", "--log-level", "warning"], {},
                   f"http://127.0.0.1:{bare_port}/", tmp)
    processes = [core, sandbox, bot, bare]
    try:
        for process in processes:
            process.start()
        telegram = SandboxClient(f"http://127.0.0.1:{sandbox_port}")
        api = CoreClient(f"http://127.0.0.1:{core_port}", TEST_KEY, timeout=10)
        telegram.set_webhook(f"http://127.0.0.1:{bot_port}/telegram/webhook", secret_token=WEBHOOK_SECRET,
                             allowed_updates=["message", "edited_message", "chat_member", "my_chat_member"])
        telegram.create_user("Bench", username="bench_target")
        chats = [bench_group(telegram, number) for number in range(max(1, options.commands // COMMANDS_PER_GROUP))]
        chat = chats[0]
        group_id = wait_registered(api, chat["id"])
        for other in chats[1:]:
            wait_registered(api, other["id"])
        time.sleep(1.5)  # the events naming @bench_target reach core

        print("measuring the bare baseline ...", flush=True)
        cpu_before = server_cpu(bare.popen.pid)
        baseline = wrk(f"http://127.0.0.1:{bare_port}", str(chat["id"]), WEBHOOK_SECRET, str(SENDERS),
                     duration=options.duration)
        baseline_cpu_ms = (server_cpu(bare.popen.pid) - cpu_before) * 1000 / max(1, baseline["requests"])
        before = messages_in_core(api, group_id)
        started = time.monotonic()
        print("measuring the bot's webhook ...", flush=True)
        cpu_before = server_cpu(bot.popen.pid)
        intake = wrk(f"http://127.0.0.1:{bot_port}", str(chat["id"]), WEBHOOK_SECRET, str(SENDERS),
                     duration=options.duration)
        accepted = intake["requests"] - intake["errors"]["status"]
        while messages_in_core(api, group_id) - before < accepted and time.monotonic() - started < 120:
            time.sleep(0.2)
        counted = messages_in_core(api, group_id) - before
        end_to_end_seconds = time.monotonic() - started
        # Everything the bot spent on the run's updates: intake, handlers, shipping the events to core.
        bot_cpu_ms = (server_cpu(bot.popen.pid) - cpu_before) * 1000 / max(1, accepted)
        end_to_end = counted / end_to_end_seconds

        print(f"core counted {counted}/{accepted}; timing commands ...", flush=True)
        timings = command_round_trips(telegram, [c["id"] for c in chats], options.commands, options.command_rate)
        p95 = statistics.quantiles(timings, n=20)[18] * 1000
        p50 = statistics.median(timings) * 1000

        print(f"\nbot benchmarks ({options.duration} s wrk runs, 32 connections; {options.commands} commands, "
              f"at most {options.command_rate:g} a second)")
        base_p99, intake_p99 = baseline["latency_ms"]["p99"], intake["latency_ms"]["p99"]
        print(f"  bare ASGI baseline          {baseline['rps']:9.0f} requests/s   p99 {base_p99:.1f} ms"
              f"   CPU {baseline_cpu_ms:.3f} ms/request")
        print(f"  bot webhook intake          {intake['rps']:9.0f} updates/s    p99 {intake_p99:.1f} ms"
              f"   ratio {intake['rps'] / baseline['rps']:.2f}   bot CPU {bot_cpu_ms:.3f} ms/update"
              f"   (durable; outbox {options.outbox_synchronous})")
        verdict = "PASS" if end_to_end >= TARGET_MESSAGES_PER_S and counted >= accepted else "FAIL"
        print(f"  counted in core (end to end) {end_to_end:8.0f} messages/s   {counted}/{accepted} accepted"
              f"   target >= {TARGET_MESSAGES_PER_S}: {verdict}")
        verdict = "PASS" if p95 <= TARGET_COMMAND_P95_MS else "FAIL"
        print(f"  command round trip          p50 {p50:.1f} ms  p95 {p95:.1f} ms"
              f"   target p95 <= {TARGET_COMMAND_P95_MS:.0f} ms: {verdict}")
        print("  (the round trip includes the sandbox's own HTTP hops for sending the update and reading the reply)")
        return 0
    finally:
        for process in reversed(processes):
            process.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
