"""A ban list's fban reaching every subscribed group (issue 16), through real processes: core under gunicorn, the
Telegram sandbox (as Telegram, its flood limit on), the bot under uvicorn (webhook mode), production settings.

    python -m bench.federation_propagation [--groups 200] [--rate 20] [--telegram-rate 30] [--lease 10]
                                           [--only fban,restart,stop] [--json results.json]

Setup: --groups supergroups, each with the bot as an admin and the ban's target as a member, every one subscribed to
one ban list of alice's (through core's API). The sandbox answers member actions beyond --telegram-rate a second with
Telegram's 429 (retry_after); the bot's propagation worker paces itself at --rate a second (BOT_BANLIST_RATE).

- fban: alice's `/fban <id> <reason>` in one of the groups. Measured from the command to the last group's ban in the
  sandbox (its call log), and to core holding every propagation done. The floor is the time the rate implies,
  groups / rate (200 at 20 a second: 10 s); the ratio to it is the figure (1.0 = the rate itself; what is above is
  claiming, reporting each ban to core, and the moderation records). None missed: every group shows the target
  banned, core counts every propagation done and none failed, and every group has its executed moderation record.
- restart: a second fban (through core's API), the bot killed (SIGKILL) once a quarter of the groups are reached and
  started again: the time to reach every group, against the same floor plus the lease (--lease, the seconds a killed
  bot's claimed work waits: BOT_BANLIST_LEASE_SECONDS), none missed; bans done twice (the items the killed bot had
  done but not reported) are counted.
- stop: a third fban, the bot stopped gracefully (SIGTERM: its shutdown lets the calls in flight finish and gives
  the items it claimed and had not started back to core at once) a quarter of the way and started again: the time to
  reach every group against the floor + 10 s (no lease to wait out), none missed, bans done twice counted.

Targets: the fban within 1.5x the floor, none missed; after a restart, none missed within floor + lease + 10 s;
after a graceful stop, within floor + 10 s. Missed targets print FAIL; the exit status is non-zero only when the run
itself broke.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings

if not settings.configured:  # this process runs no role: the core client needs only defaults (and a name)
    settings.configure(SERVICE_NAME="bench")

from apps.coreclient import CoreClient, CoreError
from tests.e2e.processes import TEST_KEY, WEBHOOK_SECRET, bot_process, core_process, free_port, sandbox_process
from tgsandbox.client import SandboxClient

BOT = "@sandbox_mod_bot"
ALICE = 2000001
ALLOWED_UPDATES = ["message", "edited_message", "chat_member", "my_chat_member", "callback_query"]
TARGET_RATIO = 1.5
RESTART_MARGIN_SECONDS = 10.0


class Bench:
    def __init__(self, options):
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-federation-"))
        core_port, sandbox_port, self.bot_port = free_port(), free_port(), free_port()
        self.core = core_process(self.tmp, core_port)
        self.sandbox = sandbox_process(self.tmp, sandbox_port)
        self.bot = bot_process(self.tmp, self.bot_port, core_port, sandbox_port)
        for role in (self.core, self.bot):  # as deployed: production settings, DEBUG off
            role.env.update({"APP_ENV": "production", "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
                             "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false"})
        self.bot.env.update({"BOT_BANLIST_RATE": str(options.rate), "BOT_BANLIST_POLL_SECONDS": "1",
                             "BOT_BANLIST_LEASE_SECONDS": str(options.lease)})
        self.processes = [self.core, self.sandbox, self.bot]
        self.core_url = f"http://127.0.0.1:{core_port}"
        self.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        self.results: dict = {"groups": options.groups, "rate": options.rate,
                              "telegram_rate": options.telegram_rate, "lease_seconds": options.lease}

    def start(self) -> None:
        for process in self.processes:
            process.start()
        self.telegram = SandboxClient(self.sandbox_url, timeout=30)
        self.api = CoreClient(self.core_url, TEST_KEY, timeout=30)
        self.point_webhook()

    def point_webhook(self) -> None:
        self.telegram.set_webhook(f"http://127.0.0.1:{self.bot_port}/telegram/webhook", secret_token=WEBHOOK_SECRET,
                                  allowed_updates=ALLOWED_UPDATES)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def wait(condition, what: str, timeout: float, interval: float = 0.2):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(interval)
        raise RuntimeError(f"timed out waiting for {what}")

    # -- setup

    def setup(self) -> None:
        count = self.options.groups
        print(f"setting up {count} groups ...", flush=True)
        started = time.monotonic()
        self.targets = [self.telegram.create_user("Target", username=f"fed_target_{n}") for n in range(3)]
        members = [f"@{target['username']}" for target in self.targets]
        self.chats = []
        for number in range(count):
            chat = self.telegram.create_chat(f"Federated {number + 1}", "alice", members=["carol", *members])
            self.telegram.add_member(chat["id"], BOT, by="alice", status="administrator",
                                     rights={"can_restrict_members": True, "can_delete_messages": True})
            self.chats.append(chat)
        self.groups = [self.wait(lambda c=chat: self._group(c["id"]), "core to register a group", 60)
                       for chat in self.chats]
        self.wait(lambda: self.api.user_list(telegram_user_id=ALICE)["items"], "core to know alice", 60)
        self.ban_list = self.wait(self._create_list, "alice's ban list", 60)
        for group in self.groups:
            self.api.ban_list_subscribe(self.ban_list["id"], group_id=group)
        self.results["setup_seconds"] = round(time.monotonic() - started, 1)

    def _group(self, chat_id: int) -> str | None:
        try:
            return self.api.group_by_chat(chat_id).id
        except CoreError:
            return None

    def _create_list(self):
        try:
            return self.api.ban_list_create(name="Bench watch", actor_telegram_user_id=ALICE)
        except CoreError as exc:
            if exc.code in ("not_found", "permission_denied"):
                return None
            raise

    # -- measuring

    def reached(self, target: dict, since: int) -> dict[int, float]:
        """{chat id: sandbox time of the first successful ban of `target` there} since call `since`."""
        first: dict[int, float] = {}
        for call in self.telegram.calls(since=since, method="banChatMember")["calls"]:
            if call["ok"] and str(call["params"].get("user_id")) == str(target["id"]):
                first.setdefault(int(call["params"]["chat_id"]), call["date"])
        return first

    def bans_done(self, target: dict, since: int) -> tuple[int, int]:
        """(successful bans of `target`, 429 answers) since call `since`."""
        calls = self.telegram.calls(since=since, method="banChatMember")["calls"]
        ok = sum(1 for c in calls if c["ok"] and str(c["params"].get("user_id")) == str(target["id"]))
        return ok, sum(1 for c in calls if c.get("error_code") == 429)

    def missed(self, target: dict) -> dict:
        """What is not as it should be once a propagation is over: groups where the target is not banned, core's
        propagation counts, groups without an executed moderation record of the ban."""
        not_banned = [chat["id"] for chat in self.chats
                      if self.telegram.member(chat["id"], target["id"])["status"] != "kicked"]
        user = self.api.user_list(telegram_user_id=target["id"])["items"][0]["id"]
        without_record = 0
        for group in self.groups:
            records = self.api.moderation_list(group_id=group, target_user_id=user, rule="banlist", type="ban",
                                               status="executed")["items"]
            without_record += not records
        return {"not_banned": len(not_banned), "without_record": without_record,
                "propagation": self.api.ban_list_propagation(self.ban_list["id"])}

    def floor(self) -> float:
        return self.options.groups / self.options.rate

    def fban(self) -> None:
        target, chat = self.targets[0], self.chats[0]
        mark = self.telegram.calls(since=0, exclude=["getUpdates"])["last_seq"]
        print(f"fban reaching {len(self.chats)} groups ...", flush=True)
        sent_at = time.time()
        command = self.telegram.send_message(chat["id"], "alice", f"/fban {target['id']} bench spam")
        total = len(self.chats)
        reached = self.wait(lambda: (found := self.reached(target, mark)) and len(found) >= total and found,
                            "every group's ban", timeout=self.floor() * 4 + 60, interval=0.5)
        last_ban = max(reached.values())
        done_at = self.wait(lambda: self.api.ban_list_propagation(self.ban_list["id"])["pending"] == 0 and time.time(),
                            "core to count every propagation", 60)
        reply = [m["text"] for m in self.telegram.messages(chat["id"], since_id=command["message_id"], sender=BOT)
                 if "text" in m]
        _, retry_afters = self.bans_done(target, mark)
        times = sorted(reached.values())
        self.results["fban"] = {
            "reply": reply[0] if reply else None,
            "achieved_rate": round((len(times) - 1) / (times[-1] - times[0]), 1) if times[-1] > times[0] else None,
            "seconds_to_last_ban": round(last_ban - sent_at, 2),
            "seconds_to_core_done": round(done_at - sent_at, 2),
            "first_ban_after_seconds": round(min(reached.values()) - sent_at, 2),
            "floor_seconds": round(self.floor(), 2),
            "ratio": round((last_ban - sent_at) / self.floor(), 2),
            "retry_afters": retry_afters,
            "missed": self.missed(target),
        }

    def restart(self, *, graceful: bool = False) -> None:
        target = self.targets[2 if graceful else 1]
        total = len(self.chats)
        mark = self.telegram.calls(since=0, exclude=["getUpdates"])["last_seq"]
        how = "stopped (SIGTERM)" if graceful else "killed"
        print(f"fban reaching {total} groups, the bot {how} a quarter of the way ...", flush=True)
        started = time.time()
        self.api.ban_list_ban(self.ban_list["id"], telegram_user_id=target["id"], reason="bench raid",
                              actor_telegram_user_id=ALICE)
        self.wait(lambda: len(self.reached(target, mark)) >= total // 4, "a quarter of the groups", 60, 0.1)
        stopping = time.time()
        if graceful:
            self.bot.stop()  # SIGTERM: the application's shutdown
        else:
            os.killpg(self.bot.popen.pid, signal.SIGKILL)
            self.bot.popen.wait(timeout=10)
        killed_at, reached_at_kill = time.time(), len(self.reached(target, mark))
        self.bot.start()
        self.point_webhook()
        reached = self.wait(lambda: (found := self.reached(target, mark)) and len(found) >= total and found,
                            "every group's ban after the restart",
                            timeout=self.floor() * 4 + self.options.lease + 60, interval=0.5)
        last_ban = max(reached.values())
        self.wait(lambda: self.api.ban_list_propagation(self.ban_list["id"])["pending"] == 0, "core's count", 60)
        bans, retry_afters = self.bans_done(target, mark)
        waited = 0 if graceful else self.options.lease
        self.results["stop" if graceful else "restart"] = {
            "reached_when_killed": reached_at_kill,
            "killed_after_seconds": round(killed_at - started, 2),
            "stop_seconds": round(killed_at - stopping, 2),
            "seconds_to_last_ban": round(last_ban - started, 2),
            "floor_seconds": round(self.floor(), 2),
            "bound_seconds": round(self.floor() + waited + RESTART_MARGIN_SECONDS, 2),
            "bans_done_twice": bans - total,
            "retry_afters": retry_afters,
            "missed": self.missed(target),
        }

    # -- the report

    def report(self) -> None:
        results, options = self.results, self.options
        print(f"\nban-list propagation: {options.groups} subscribed groups, the bot at {options.rate:g} bans/s, "
              f"the sandbox's flood limit {options.telegram_rate:g} member actions/s "
              f"(setup {results['setup_seconds']} s)")
        if "fban" in results:
            fban = results["fban"]
            miss = fban["missed"]
            missed = miss["not_banned"] + miss["without_record"] + miss["propagation"]["failed"]
            verdict = "PASS" if fban["ratio"] <= TARGET_RATIO and not missed else "FAIL"
            print(f"  fban: last group banned after {fban['seconds_to_last_ban']} s (first after "
                  f"{fban['first_ban_after_seconds']} s), core done after {fban['seconds_to_core_done']} s; floor "
                  f"{options.groups} / {options.rate:g} = {fban['floor_seconds']} s; ratio {fban['ratio']} "
                  f"(target <= {TARGET_RATIO}); {fban['achieved_rate']} bans/s from the first to the last; "
                  f"429s {fban['retry_afters']}")
            print(f"        missed: {miss['not_banned']} not banned, {miss['without_record']} without an executed "
                  f"record, core {miss['propagation']}: {verdict}")
            print(f"        the bot answered: {fban['reply']!r}")
        if "restart" in results:
            restart = results["restart"]
            miss = restart["missed"]
            missed = miss["not_banned"] + miss["without_record"] + miss["propagation"]["failed"]
            verdict = "PASS" if restart["seconds_to_last_ban"] <= restart["bound_seconds"] and not missed else "FAIL"
            print(f"  restart: killed after {restart['killed_after_seconds']} s with {restart['reached_when_killed']}"
                  f" groups reached; last group banned after {restart['seconds_to_last_ban']} s (bound: floor + lease "
                  f"+ {RESTART_MARGIN_SECONDS:g} = {restart['bound_seconds']} s); bans done twice "
                  f"{restart['bans_done_twice']}; 429s {restart['retry_afters']}")
            print(f"        missed: {miss['not_banned']} not banned, {miss['without_record']} without an executed "
                  f"record, core {miss['propagation']}: {verdict}")
        if "stop" in results:
            stop = results["stop"]
            miss = stop["missed"]
            missed = miss["not_banned"] + miss["without_record"] + miss["propagation"]["failed"]
            verdict = "PASS" if stop["seconds_to_last_ban"] <= stop["bound_seconds"] and not missed else "FAIL"
            print(f"  stop: stopped (SIGTERM, {stop['stop_seconds']} s to exit) after {stop['killed_after_seconds']} s "
                  f"with {stop['reached_when_killed']} groups reached; last group banned after "
                  f"{stop['seconds_to_last_ban']} s (bound: floor + {RESTART_MARGIN_SECONDS:g} = "
                  f"{stop['bound_seconds']} s, no lease); bans done twice {stop['bans_done_twice']}; 429s "
                  f"{stop['retry_afters']}")
            print(f"        missed: {miss['not_banned']} not banned, {miss['without_record']} without an executed "
                  f"record, core {miss['propagation']}: {verdict}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200, help="subscribed groups (default 200)")
    parser.add_argument("--rate", type=int, default=20, help="the bot's bans a second (BOT_BANLIST_RATE)")
    parser.add_argument("--telegram-rate", type=int, default=30,
                        help="member actions a second the sandbox lets a bot make before its 429 (Telegram's ~30)")
    parser.add_argument("--lease", type=int, default=10, help="BOT_BANLIST_LEASE_SECONDS for the run (10..600)")
    parser.add_argument("--only", default="fban,restart,stop", help="phases: fban,restart,stop")
    parser.add_argument("--json", help="write the figures to this file")
    options = parser.parse_args(argv)
    phases = {name.strip() for name in options.only.split(",") if name.strip()}
    bench = Bench(options)
    try:
        bench.start()
        bench.setup()
        bench.telegram.set_rate_limits(enabled=True, actions_per_second=options.telegram_rate, global_per_second=30,
                                       group_per_minute=20)
        if "fban" in phases:
            bench.fban()
        if "restart" in phases:
            bench.restart()
        if "stop" in phases:
            bench.restart(graceful=True)
    finally:
        bench.stop()
    bench.report()
    if options.json:
        Path(options.json).write_text(json.dumps(bench.results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
