"""The group page's warn expiry in headless Chromium: typed as a duration, saved through core, shown back as one;
set back to never the same way."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

LIVE = ("/static/dashboard/js/live.js", "/ws/live")


def test_warn_expiry_is_set_then_set_back_to_never(logged_in_page, dashboard_platform):
    page = logged_in_page
    group = dashboard_platform.group("Expiring warnings group")
    page.goto(f"/groups/{group['id']}")
    settings = page.locator("form.settings-form")
    expiry = settings.get_by_label("Warnings expire after")
    expect(expiry).to_have_value("never")
    expiry.fill("12h")
    settings.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The settings were saved")
    assert dashboard_platform.api.group_get(group["id"])["warn_expiry_seconds"] == 12 * 3600
    expect(page.locator("form.settings-form").get_by_label("Warnings expire after")).to_have_value("12h")

    page.locator("form.settings-form").get_by_label("Warnings expire after").fill("never")
    page.locator("form.settings-form").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The settings were saved")
    assert dashboard_platform.api.group_get(group["id"])["warn_expiry_seconds"] is None
    assert page.problems.besides(*LIVE) == []
