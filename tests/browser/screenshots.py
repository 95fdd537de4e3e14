"""Regenerates the screenshots in docs/ from a fresh demo run: `python -m tests.browser.screenshots [out_dir]`.

Starts core (migrated, `manage.py seed_demo`) and web on free loopback ports in a temporary data directory, signs
in as the demo admin in headless Chromium (the system's, driven by Playwright) and saves 1280x800 PNGs of the
overview, a group, its Protection section, the audit log, the moderation log and core's API docs. Stops what it
started."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from apps.common import demo_world
from apps.coreclient.client import CoreClient
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.e2e.processes import ROOT, TEST_KEY, core_process, free_port, web_process

VIEWPORT = {"width": 1280, "height": 800}


def _seed(data_dir: Path, core_port: int) -> str:
    env = {**os.environ, "APP_ENV": "development", "DJANGO_SETTINGS_MODULE": "config.settings.core",
           "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    subprocess.run([sys.executable, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True, capture_output=True)
    return (data_dir / "demo-admin-password").read_text().strip()


def _readme_demo(core_url: str) -> str:
    """The README's demo, as the bot would record it: @alice bans @spammer in the Sandbox Group for flooding.
    Returns the group's id."""
    core = CoreClient(core_url, TEST_KEY, timeout=10)
    group = next(item for item in core.group_list(limit=50)["items"] if item["title"] == demo_world.GROUPS[0].title)
    alice, spammer = (core.user_list(username=login)["items"][0] for login in ("alice", "spammer"))
    action = core.moderation_record(type="ban", group_id=group["id"], actor_user_id=alice["id"],
                                    target_user_id=spammer["id"], reason="flooding", permission="BAN_USERS")
    core.moderation_complete(action.action.id, status="executed")
    return group["id"]


def _shoot(page, path: str, out: Path, name: str) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(out / name))
    print(f"{name}: {path}")


def _shoot_protection(page, group_id: str, out: Path) -> None:
    """The group page's Protection section, with a welcome being typed (its preview beside it) and antiflood on."""
    page.goto(f"/groups/{group_id}")
    form = page.locator("#protection-form")
    form.get_by_label("Greet new members").check()
    form.get_by_label("Welcome message").fill("Welcome to {chatname}, <b>{first}</b>!\nRead the rules first.\n{rules}")
    page.locator("#welcome-preview .tg-button").wait_for()
    form.get_by_label("Welcome message").scroll_into_view_if_needed()
    page.locator("#protection").evaluate("section => section.scrollIntoView()")
    page.screenshot(path=str(out / "dashboard-protection.png"))
    print(f"dashboard-protection.png: /groups/{group_id}#protection")


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        data_dir = Path(tmp)
        core_port, web_port = free_port(), free_port()
        core = core_process(data_dir, core_port)
        password = _seed(data_dir, core_port)
        web = web_process(data_dir, web_port, core_port)
        core.start()
        web.start()
        try:
            group_id = _readme_demo(f"http://127.0.0.1:{core_port}")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                # Times show in the viewer's zone: a fixed one here, so the pictures do not depend on the machine's.
                dashboard = browser.new_context(base_url=f"http://127.0.0.1:{web_port}", viewport=VIEWPORT,
                                                timezone_id="Europe/Berlin", locale="en-GB")
                page = dashboard.new_page()
                page.on("console", lambda message: message.type == "error" and print("console:", message.text))
                page.goto("/login")
                page.get_by_label("Username").fill("admin")
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url("**/")
                _shoot(page, "/", out, "dashboard-overview.png")
                _shoot(page, f"/groups/{group_id}", out, "dashboard-group.png")
                _shoot_protection(page, group_id, out)
                _shoot(page, "/audit", out, "dashboard-audit.png")
                _shoot(page, "/moderation", out, "dashboard-moderation.png")
                docs = browser.new_context(base_url=f"http://127.0.0.1:{core_port}", viewport=VIEWPORT).new_page()
                docs.goto("/api-auth/login/?next=/api/docs")
                docs.get_by_label("Username").fill("admin")
                docs.get_by_label("Password").fill(password)
                docs.get_by_role("button", name="Log in").click()
                docs.wait_for_url("**/api/docs")
                _shoot(docs, "/api/docs", out, "core-api-docs.png")
                browser.close()
        finally:
            web.stop()
            core.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs")
