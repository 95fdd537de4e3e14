"""The group page's settings form against real core and web processes: when warnings expire (core's
Group.warn_expiry_seconds), shown as a duration or "never", set, kept when left empty, set back to never, and a bad
value refused on its field with nothing changed."""

import pytest

from .pages_platform import dashboard_platform  # noqa: F401 (fixture)
from .test_pages import check_page

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web(dashboard_platform):  # noqa: F811
    return dashboard_platform


@pytest.fixture(scope="module")
def admin_browser(web):
    admin = web.user("admin", display_name="Wendy Warden")
    browser = web.browser()
    assert browser.login(admin["username"]).status_code == 302
    return browser


def field_value(html: str) -> str:
    tag = html.split('name="warn_expiry_seconds"', 1)[1].split(">", 1)[0]
    return tag.split('value="', 1)[1].split('"', 1)[0] if 'value="' in tag else ""


def test_warn_expiry_is_shown_set_kept_and_set_back_to_never(web, admin_browser):
    group = web.group()
    path = f"/groups/{group['id']}"
    page = admin_browser.get(path)
    assert "Warnings expire after" in check_page(page)
    assert field_value(page.text) == "never"  # core's null
    form = {"title": group["title"], "is_active": "on", "warn_limit": "3", "warn_action": "ban"}

    response = admin_browser.post_form(path, {**form, "warn_expiry_seconds": "7d"})
    assert response.status_code == 302 and response.headers["location"] == f"{path}?saved=1"
    assert web.api.group_get(group["id"])["warn_expiry_seconds"] == 7 * 86400
    assert field_value(admin_browser.get(path).text) == "1w"

    # Empty keeps the current value, as the form's other fields; the same value changes nothing.
    assert admin_browser.post_form(path, {**form, "warn_expiry_seconds": ""}).headers["location"] == f"{path}?saved=0"
    assert admin_browser.post_form(path, {**form, "warn_expiry_seconds": "168h"}).headers["location"] == \
        f"{path}?saved=0"
    assert web.api.group_get(group["id"])["warn_expiry_seconds"] == 7 * 86400

    response = admin_browser.post_form(path, {**form, "warn_expiry_seconds": "Never"})
    assert response.headers["location"] == f"{path}?saved=1"
    assert web.api.group_get(group["id"])["warn_expiry_seconds"] is None
    assert field_value(admin_browser.get(path).text) == "never"
    assert admin_browser.post_form(path, {**form, "warn_expiry_seconds": "90s"}).status_code == 302
    assert web.api.group_get(group["id"])["warn_expiry_seconds"] == 90


@pytest.mark.parametrize(("typed", "message"), [
    ("soon", "A duration such as 30m, 12h, 7d or 2w"),
    ("90", "A duration such as 30m, 12h, 7d or 2w"),  # a number without its unit, refused as /warntime does
    ("10s", "30 seconds to 366 days"),
    ("367d", "30 seconds to 366 days"),
])
def test_a_bad_warn_expiry_is_refused_on_its_field_and_nothing_changes(web, admin_browser, typed, message):
    group = web.group()
    path = f"/groups/{group['id']}"
    refused = admin_browser.post_form(path, {"title": group["title"], "is_active": "on", "warn_limit": "4",
                                             "warn_action": "ban", "warn_expiry_seconds": typed})
    assert refused.status_code == 400
    error = refused.text.split('id="id_warn_expiry_seconds_error"', 1)[1].split("</ul>", 1)[0]
    assert message in error
    assert field_value(refused.text) == typed  # shown as typed, to correct
    stored = web.api.group_get(group["id"])
    assert (stored["warn_limit"], stored["warn_expiry_seconds"]) == (3, None)
