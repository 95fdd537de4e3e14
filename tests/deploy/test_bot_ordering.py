"""What deploy/SCALING.md and each bot replica rely on: one process handles each chat's updates in turn,
in arrival order (different chats side by side; tests/botgateway/test_ordering.py shows the order)."""

import subprocess
import sys

from .conftest import script_env
from .tools import ROOT


def test_bot_application_orders_updates_per_chat(tmp_path):
    code = ("import django; django.setup(); from apps.botgateway.application import build_application; "
            "app = build_application(with_updater=False); print(type(app.update_processor).__name__)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=script_env(DJANGO_SETTINGS_MODULE="config.settings.bot", APP_ENV="development",
                                           DATA_DIR=tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "PerChatUpdateProcessor"
