"""A terminal chat against the sandbox: type as a chosen person in a chosen group, see what the bot did.

``run_botchat(sandbox_url)`` reads lines; plain lines (including bot commands such as
``/ban @spammer flooding``) are sent as messages from the current person in the current chat. After
each one it waits until the bot goes quiet and prints the bot's messages and every Bot API call it
made (method, parameters, result or error). Lines starting with one of the commands below drive the
sandbox instead; ``//text`` sends ``/text`` literally (for a bot command that collides with one).

It needs only the sandbox URL (the bot runs elsewhere, against the same sandbox):
``python -m tgsandbox.botchat [--sandbox URL] [--as USER] [--in CHAT]``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from .client import SandboxClient
from .errors import SandboxError

HELP = """\
Type a message to send it. Sandbox commands:
  /as <user>              speak as another person (@username, name or id)
  /in <chat>              move to a group (title, @username, id) or a bot's private chat (@bot)
  /reply <id> <text>      reply to message <id>
  /anon <text>            post anonymously as the group (you must be an admin)
  /post <kind> [caption]  post content: photo video gif sticker audio voice videonote document poll contact
                          location venue dice (a caption for photo, video, gif, audio, voice, document; a poll's
                          question)
  /edit <id> <text>       edit your message <id>
  /press <id> <data>      press the inline button with callback_data (or label) <data> under message <id>
  /join [user]            join the current group (or add <user> to it)
  /raid <n> [seconds]     <n> fresh users join the current group within [seconds] (a join flood)
  /leave                  leave the current group
  /upgrade                upgrade the current basic group to a supergroup
  /users /chats /members  list people, groups, members of the current group
  /history [n]            the last n messages of the current chat
  /calls [n]              the last n Bot API calls of the bot
  /file <id>              the file the bot sent as message <id> (a document: its text)
  /wait [seconds]         wait and show what the bot does meanwhile
  /sandbox                this help;  /quit  leave
  //text                  send "/text" literally"""

META = {"/as", "/in", "/reply", "/anon", "/post", "/edit", "/press", "/join", "/raid", "/leave", "/upgrade", "/users",
        "/chats", "/members", "/history", "/calls", "/file", "/wait", "/sandbox", "/quit", "/exit"}
QUIET = ("getUpdates",)
# /post's kinds and the Message field each fills.
POST_KINDS = {"photo": "photo", "video": "video", "gif": "animation", "sticker": "sticker", "audio": "audio",
              "voice": "voice", "videonote": "video_note", "document": "document", "poll": "poll",
              "contact": "contact", "location": "location", "venue": "venue", "dice": "dice"}
CAPTIONED = {"photo", "video", "animation", "audio", "voice", "document"}
FILE_LINES = 20  # /file prints this many lines of a text file


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_call(call: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={_short(v, 60)}" for k, v in call["params"].items())
    head = f"{call['method']}({params})"
    if call["ok"]:
        result = call["result"]
        if isinstance(result, dict) and "message_id" in result:
            result = f"<message {result['message_id']}>"
        return f"  api  {head} -> {_short(result)}"
    return f"  api! {head} -> {call['error_code']} {call['description']}"


def format_message(message: dict[str, Any], *, here: int | None = None) -> str:
    sender = message.get("from") or {}
    if message.get("sender_chat"):
        who = f"{message['sender_chat'].get('title')} (anonymous)"
    else:
        who = f"@{sender['username']}" if sender.get("username") else sender.get("first_name", "?")
    where = "" if message["chat"]["id"] == here else f" in {message['chat'].get('title') or 'private'}"
    reply = f" (reply to #{message['reply_to_message']['message_id']})" if message.get("reply_to_message") else ""
    body = message.get("text")
    kind = next((k for k in POST_KINDS.values() if k in message), None)
    if body is None and kind is not None:
        caption = f" {message['caption']}" if message.get("caption") else ""
        shown = "gif" if kind == "animation" else kind
        if kind == "document" and message["document"].get("file_name"):
            shown = f"document {message['document']['file_name']}, {message['document'].get('file_size', 0)} bytes"
        body = f"<{shown}>{caption}"
    if body is None:
        service = [k for k in message if k in ("new_chat_members", "left_chat_member", "pinned_message",
                                                 "migrate_to_chat_id", "migrate_from_chat_id")]
        body = f"<{', '.join(service) or 'service message'}>"
    buttons = [f"{b.get('text')} -> {b['callback_data']}" if b.get("callback_data") else b.get("text")
               for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
    markup = f"  [{' | '.join(buttons)}]" if buttons else ""
    return f"#{message['message_id']} {who}{where}{reply}: {body}{markup}"


class BotChat:
    """The state of one terminal session; :func:`run_botchat` drives it."""

    def __init__(self, client: SandboxClient, *, output: Callable[[str], Any] = print, settle: float = 0.7,
                 max_wait: float = 6.0):
        self.client = client
        self.out = output
        self.settle = settle
        self.max_wait = max_wait
        self.user: dict[str, Any] | None = None
        self.chat: Any = None  # a group id, or a bot username for a private chat
        self.chat_title = ""
        self.seq = client.calls(exclude=QUIET)["last_seq"]

    # --- context ---

    def pick_defaults(self, user: Any = None, chat: Any = None) -> None:
        state = self.client.state()
        if not state["users"]:
            raise SandboxError("the sandbox has no users; seed it (POST /sandbox/seed) or create some")
        groups = [c for c in state["chats"] if not c.get("migrated_to")]
        if chat is not None:
            self.switch_chat(chat)
        elif groups:
            self.switch_chat(groups[0]["id"])
        if user is not None:
            self.switch_user(user)
        else:
            owner = next((m["user"] for c in groups[:1] for m in c["members"] if m["status"] == "creator"), None)
            self.switch_user(owner["id"] if owner else state["users"][0]["id"])

    def switch_user(self, ref: Any) -> None:
        wanted = str(ref).lstrip("@").lower()
        for user in self.client.state()["users"]:
            if wanted in (str(user["id"]), (user.get("username") or "").lower(), user["first_name"].lower()):
                self.user = user
                return
        raise SandboxError(f"no such person: {ref}")

    def switch_chat(self, ref: Any) -> None:
        state = self.client.state()
        wanted = str(ref).lower()
        for chat in state["chats"]:
            names = {str(chat["id"]), (chat.get("title") or "").lower(), "@" + (chat.get("username") or "").lower(),
                     (chat.get("username") or "").lower()}
            if wanted in names - {"@", ""}:
                self.chat, self.chat_title = chat["id"], chat["title"]
                return
        for bot in state["bots"]:
            if wanted.lstrip("@") in (bot["username"].lower(), str(bot["id"])):
                self.chat, self.chat_title = "@" + bot["username"], f"private chat with @{bot['username']}"
                return
        raise SandboxError(f"no such chat: {ref}")

    @property
    def who(self) -> str:
        if self.user is None:
            return "?"
        return f"@{self.user['username']}" if self.user.get("username") else self.user["first_name"]

    def banner(self) -> None:
        state = self.client.state()
        self.out(f"Telegram sandbox at {self.client.url}")
        for bot in state["bots"]:
            ago = bot.get("last_get_updates_ago")
            if bot["webhook_url"]:
                mode = f"webhook {bot['webhook_url']}"
            elif bot.get("long_polling") or (ago is not None and ago < 60):
                mode = "polling"
            else:
                mode = "not connected yet (start the bot against this sandbox)"
            self.out(f"bot @{bot['username']} ({bot['id']}): {mode}")
        self.out(f"you are {self.who} in {self.chat_title}.  /sandbox for help, /quit to leave.")

    # --- one line ---

    def handle(self, line: str) -> bool:
        """Process one typed line; False means the session ends."""
        line = line.strip()
        if not line:
            return True
        command, _, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if command.lower() in META:
                return self._meta(command.lower(), rest)
            if line.startswith("//"):
                line = line[1:]
            self._send(line)
        except SandboxError as exc:
            self.out(f"  sandbox: {exc.message}")
        return True

    def _send(self, text: str | None, **options: Any) -> None:
        message = self.client.send_message(self.chat, self.user["id"], text, **options)
        self.out(format_message(message, here=message["chat"]["id"]))
        self.show_activity()

    def _meta(self, command: str, rest: str) -> bool:
        if command in ("/quit", "/exit"):
            return False
        if command == "/sandbox":
            self.out(HELP)
        elif command == "/as":
            self.switch_user(rest)
            self.out(f"  you are now {self.who}")
        elif command == "/in":
            self.switch_chat(rest)
            self.out(f"  you are now in {self.chat_title}")
        elif command in ("/reply", "/edit", "/press"):
            message_id, _, text = rest.partition(" ")
            if not message_id.isdigit() or not text:
                raise SandboxError(f"usage: {command} <message id> <text>")
            if command == "/reply":
                self._send(text, reply_to=int(message_id))
            elif command == "/edit":
                edited = self.client.edit_message(self.chat, int(message_id), text, user=self.user["id"])
                self.out(format_message(edited) + " (edited)")
                self.show_activity()
            else:
                data = self._button_data(int(message_id), text)
                press = self.client.press_button(self.chat, int(message_id), self.user["id"], data)
                self.out(f"  {self.who} pressed [{text}]")
                self.show_activity()
                self._show_answer(press["id"])
        elif command == "/anon":
            self._send(rest, anonymous=True)
        elif command == "/post":
            self._post(rest)
        elif command == "/join":
            self.client.add_member(self.chat, rest or self.user["id"],
                                   **({"by": self.user["id"]} if rest else {}))
            self.out(f"  {rest or self.who} joined {self.chat_title}")
            self.show_activity()
        elif command == "/raid":
            count, _, seconds = rest.partition(" ")
            if not count.isdigit():
                raise SandboxError("usage: /raid <n> [seconds]")
            joined = self.client.join_flood(self.chat, int(count), float(seconds or 0))
            self.out(f"  {len(joined)} people joined {self.chat_title}")
            self.show_activity()
        elif command == "/leave":
            self.client.leave(self.chat, self.user["id"])
            self.out(f"  {self.who} left {self.chat_title}")
            self.show_activity()
        elif command == "/upgrade":
            new_chat = self.client.upgrade_group(self.chat, by=self.user["id"])
            self.chat, self.chat_title = new_chat["id"], new_chat["title"]
            self.out(f"  upgraded: {self.chat_title} is now supergroup {self.chat}")
            self.show_activity()
        else:
            self._listing(command, rest)
        return True

    def _post(self, rest: str) -> None:
        name, _, caption = rest.partition(" ")
        field = POST_KINDS.get(name.lower())
        if field is None:
            raise SandboxError(f"usage: /post <{'|'.join(POST_KINDS)}> [caption]")
        value: Any = True
        if field == "poll":
            value = {"question": caption or "What do you think?", "options": ["yes", "no"]}
        content: dict[str, Any] = {field: value}
        if caption and field in CAPTIONED:
            content["caption"] = caption
        self._send(None, **content)

    def _button_data(self, message_id: int, wanted: str) -> str:
        """The callback_data of the button ``wanted`` names: its data, or else its label."""
        user = self.user["id"] if isinstance(self.chat, str) else None
        found = [m for m in self.client.messages(self.chat, since_id=message_id - 1, user=user)
                 if m["message_id"] == message_id]
        buttons = [b for m in found for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
        if any(b.get("callback_data") == wanted for b in buttons):
            return wanted
        by_label = [b["callback_data"] for b in buttons if b.get("text") == wanted and b.get("callback_data")]
        return by_label[0] if by_label else wanted  # unknown: the sandbox says so

    def _show_answer(self, query_id: str) -> None:
        """What the presser sees: the bot's answerCallbackQuery text (a toast, or an alert)."""
        answer = self.client.callback_answer(query_id)
        if not answer["answered"]:
            self.out("  (the bot has not answered the press: the button keeps spinning)")
            return
        shown = answer["answer"] or {}
        kind = "alert" if shown.get("show_alert") else "toast"
        self.out(f"  {kind}: {shown.get('text') or '(no text)'}")

    def _listing(self, command: str, rest: str) -> None:
        if command == "/users":
            for user in self.client.state()["users"]:
                self.out(f"  {user['id']}  @{user.get('username') or '-'}  {user['first_name']}")
        elif command == "/chats":
            for chat in self.client.state()["chats"]:
                moved = f" -> upgraded to {chat['migrated_to']}" if chat.get("migrated_to") else ""
                self.out(f"  {chat['id']}  {chat['type']:<10} {chat['title']}{moved}")
        elif command == "/members":
            for member in self.client.chat(self.chat)["members"]:
                user = member["user"]
                name = f"@{user['username']}" if user.get("username") else user["first_name"]
                extra = f" (until {member['until_date']})" if member.get("until_date") else ""
                self.out(f"  {name:<20} {member['status']}{extra}")
        elif command == "/history":
            count = int(rest) if rest.isdigit() else 10
            user = self.user["id"] if isinstance(self.chat, str) else None
            for message in self.client.messages(self.chat, user=user)[-count:]:
                self.out(format_message(message))
        elif command == "/calls":
            count = int(rest) if rest.isdigit() else 10
            for call in self.client.calls(exclude=QUIET)["calls"][-count:]:
                self.out(format_call(call))
        elif command == "/file":
            self._show_file(rest)
        elif command == "/wait":
            self.show_activity(first_wait=float(rest) if rest.replace(".", "", 1).isdigit() else 3.0)

    def _show_file(self, rest: str) -> None:
        if not rest.isdigit():
            raise SandboxError("usage: /file <message id>")
        user = self.user["id"] if isinstance(self.chat, str) else None
        found = [m for m in self.client.messages(self.chat, since_id=int(rest) - 1, user=user)
                 if m["message_id"] == int(rest)]
        kind = next((k for k in ("document", "audio", "video", "animation", "voice", "video_note", "sticker")
                     if found and k in found[0]), None)
        if kind is None:
            raise SandboxError(f"message {rest} carries no file")
        info = self.client.file(found[0][kind]["file_id"])
        self.out(f"  {info['file_name'] or kind} ({info['mime_type'] or 'unknown type'}, {info['file_size']} bytes)")
        if info["text"] is None:
            self.out("  (not text)" if info["uploaded"] else "  (a file posted in the sandbox: no content)")
            return
        lines = info["text"].splitlines()
        for line in lines[:FILE_LINES]:
            self.out(f"  | {line}")
        if len(lines) > FILE_LINES:
            self.out(f"  | ... {len(lines) - FILE_LINES} more lines")

    # --- what the bot did ---

    def show_activity(self, first_wait: float | None = None) -> None:
        """Print the bot's calls since the last look, waiting until it has been quiet for ``settle`` s."""
        deadline = time.monotonic() + (self.max_wait if first_wait is None else first_wait)
        wait = min(self.max_wait, 2.0) if first_wait is None else first_wait
        seen_any = False
        while True:
            batch = self.client.calls(since=self.seq, exclude=QUIET, wait=max(0.0, wait))
            for call in batch["calls"]:
                self.seq = max(self.seq, call["seq"])
                self._print_call(call)
                seen_any = True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (seen_any and not batch["calls"]) or (not batch["calls"] and first_wait is None):
                break
            wait = min(self.settle, remaining)
        if not seen_any and first_wait is None:
            self.out("  (no reaction from the bot)")

    def _print_call(self, call: dict[str, Any]) -> None:
        result = call.get("result")
        if call["ok"] and isinstance(result, dict) and "message_id" in result and "chat" in result:
            tag = "edited" if call["method"].startswith("edit") else "bot"
            self.out(f"  {tag}> {format_message(result, here=self.chat if isinstance(self.chat, int) else None)}")
        self.out(format_call(call))

    def catch_up(self) -> None:
        """Show what the bot did on its own while the person was typing."""
        batch = self.client.calls(since=self.seq, exclude=QUIET)
        for call in batch["calls"]:
            self.seq = max(self.seq, call["seq"])
            self._print_call(call)


def run_botchat(sandbox_url: str, *, user: Any = None, chat: Any = None, input_fn: Callable[[str], str] = input,
                output: Callable[[str], Any] = print, settle: float = 0.7, max_wait: float = 6.0) -> None:
    """The interactive loop. ``input_fn``/``output`` are injectable for tests."""
    with SandboxClient(sandbox_url) as client:
        session = BotChat(client, output=output, settle=settle, max_wait=max_wait)
        try:
            session.pick_defaults(user, chat)
        except SandboxError as exc:
            output(f"sandbox: {exc.message}")
            return
        session.banner()
        while True:
            session.catch_up()
            try:
                line = input_fn(f"{session.who} @ {session.chat_title}> ")
            except (EOFError, KeyboardInterrupt):
                output("")
                return
            if not session.handle(line):
                return


def main(argv: list[str] | None = None) -> None:
    default = f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT', '8081')}"
    parser = argparse.ArgumentParser(
        prog="python -m tgsandbox.botchat",
        description="Chat with the bot through the local Telegram sandbox: type as a chosen user in a chosen group "
                    "(`/ban @spammer flooding`) and see the bot's replies and the Bot API calls it made.")
    parser.add_argument("--sandbox", default=default, help=f"sandbox URL (default {default})")
    parser.add_argument("--as", dest="user", help="who you type as: @username, name or id (default: owner)")
    parser.add_argument("--in", dest="chat", help="which chat: @username, title or id (default: first group)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also log each sandbox call")
    args = parser.parse_args(argv)
    # The terminal is the chat: the HTTP client's INFO line per sandbox call would bury it.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    run_botchat(args.sandbox, user=args.user, chat=args.chat)


if __name__ == "__main__":
    main()
