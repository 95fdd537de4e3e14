"""The platform as `make run` starts it, on free ports and a temporary data folder: core with the demo data
(`manage.py seed_demo`), the Telegram sandbox with its demo world (the same one), the bot on its webhook."""

import os
import subprocess
import sys

from tgsandbox.client import SandboxClient

from .processes import ROOT, WEBHOOK_SECRET, bot_process, core_process, free_port, sandbox_process

ALLOWED_UPDATES = ["message", "edited_message", "chat_member", "my_chat_member", "callback_query"]


class DemoPlatform:
    def __init__(self, tmp):
        self.tmp = tmp
        self.core_port, self.sandbox_port, self.bot_port = free_port(), free_port(), free_port()
        self.core = core_process(tmp, self.core_port)
        self.seed_output = subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, check=True,
                                          env={**os.environ, **self.core.env}, capture_output=True,
                                          text=True).stdout
        self.sandbox = sandbox_process(tmp, self.sandbox_port)
        self.bot = bot_process(tmp, self.bot_port, self.core_port, self.sandbox_port)

    def start(self):
        for process in (self.core, self.sandbox, self.bot):
            process.start()
        self.telegram = SandboxClient(f"http://127.0.0.1:{self.sandbox_port}", timeout=10)
        self.telegram.set_webhook(f"http://127.0.0.1:{self.bot_port}/telegram/webhook",
                                  secret_token=WEBHOOK_SECRET, allowed_updates=ALLOWED_UPDATES)
        return self

    def stop(self):
        for process in (self.bot, self.sandbox, self.core):
            process.stop()
