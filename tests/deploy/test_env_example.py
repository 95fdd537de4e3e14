""".env.example documents every variable the code reads from the environment."""

import re

from .tools import ROOT

READ = re.compile(r"(?:env_(?:str|int|bool|list)|os\.environ\.get|os\.getenv|os\.environ\[)"
                  r"""\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
# Read only by the test tooling or the Telegram sandbox (a development tool), never by a deployed role.
NOT_DEPLOYMENT = {"MONGODB_TEST_URL", "DJANGO_SETTINGS_MODULE"}


def read_variables() -> set[str]:
    names = set()
    for folder in ("config", "apps", "deploy"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tgsandbox" in path.parts:
                continue
            names |= set(READ.findall(path.read_text()))
    for path in (ROOT / "deploy" / "start").glob("*.sh"):
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", path.read_text()))
    return names - NOT_DEPLOYMENT


def test_every_variable_is_documented():
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = read_variables() - documented
    assert not missing, f"document these in .env.example: {sorted(missing)}"


def test_the_scan_finds_the_known_variables():
    found = read_variables()
    assert {"SECRET_KEY", "DATABASE_URL", "TELEGRAM_WEBHOOK_SECRET", "JWT_PRIVATE_KEY", "WEB_CONCURRENCY",
            "BIND_HOST", "BOT_MODE", "START_DRY_RUN"} <= found
