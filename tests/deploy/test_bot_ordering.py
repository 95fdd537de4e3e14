"""What deploy/SCALING.md and the one-replica bot Deployment rely on: the bot handles updates one at a time."""

import subprocess
import sys

from .conftest import script_env
from .tools import ROOT


def test_bot_application_handles_one_update_at_a_time(tmp_path):
    code = ("import django; django.setup(); from apps.botgateway.application import build_application; "
            "app = build_application(with_updater=False); print(app.concurrent_updates)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=script_env(DJANGO_SETTINGS_MODULE="config.settings.bot", APP_ENV="development",
                                           DATA_DIR=tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-1] == "1"
