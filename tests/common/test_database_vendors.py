"""Core runs on SQLite or MongoDB, nothing else: its settings refuse another database, so no product code keeps a
branch for one."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OTHER_VENDORS = re.compile(r"postgres|psycopg|mysql|mariadb|oracle|cx_oracle|mssql", re.IGNORECASE)


@pytest.mark.parametrize("url", ["postgres://u:p@127.0.0.1:5432/tgmod", "mysql://u:p@127.0.0.1/tgmod",
                                 "oracle://u:p@127.0.0.1/tgmod"])
def test_core_refuses_any_other_database(url, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "APP_ENV": "development", "DJANGO_SETTINGS_MODULE": "config.settings.core",
             "DATA_DIR": str(tmp_path), "DATABASE_URL": url})
    assert result.returncode != 0
    assert "DATABASE_URL must be sqlite:///<path> or mongodb://host/<database>" in result.stderr, result.stderr[-2000:]


def test_no_product_code_names_a_database_core_cannot_run_on():
    named = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in ("apps", "config", "deploy")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), 1) if OTHER_VENDORS.search(line)]
    assert not named, named
