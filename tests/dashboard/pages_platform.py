"""Real core and web processes (gunicorn, loopback ports) for the dashboard's page and browser tests, and a
cookie-keeping HTTP client that signs in through the login page like a browser."""

import itertools
import re
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from apps.coreclient import CoreClient
from apps.dashboard.keys import generate_private_pem
from tests.e2e.processes import TEST_KEY, core_process, free_port, web_process
from tests.e2e.test_web_api import Browser

PASSWORD = "correct-Horse-battery-9"
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}_{uuid.uuid4().hex[:6]}"


class DashboardPlatform:
    def __init__(self, tmp):
        self.tmp = tmp
        self.core_port, self.web_port = free_port(), free_port()
        self.private_pem = generate_private_pem("EdDSA")
        self.core = core_process(tmp, self.core_port)
        self.web = web_process(tmp, self.web_port, self.core_port, env=self.web_env())
        self.url = f"http://127.0.0.1:{self.web_port}"
        self.api = CoreClient(f"http://127.0.0.1:{self.core_port}", TEST_KEY, timeout=10)

    def web_env(self) -> dict:
        return {"JWT_PRIVATE_KEY": self.private_pem, "LOGIN_MAX_FAILURES_PER_IP": "1000",
                "LOGIN_MAX_FAILURES_PER_ACCOUNT": "1000"}

    def start(self) -> "DashboardPlatform":
        self.core.start()
        self.web.start()
        return self

    def stop(self) -> None:
        self.web.stop()
        self.core.stop()

    # -- data in core

    def user(self, role: str | None = None, *, group: dict | None = None, **fields) -> dict:
        user = self.api.user_create(username=unique("u"), password=PASSWORD, **fields)
        if group is not None:
            self.api.member_set(group["id"], user_id=user["id"])
        if role:
            self.api.assign_role(user_id=user["id"], role=role, group_id=group["id"] if group else None)
        return user

    def group(self, title: str | None = None) -> dict:
        """The new group as core's JSON (the pages' tests read it as the browser does)."""
        return asdict(self.api.group_register(telegram_chat_id=-1003000000000 - next(_numbers),
                                              title=title or unique("Page group "), type="supergroup"))

    def messages(self, group: dict, count: int, *, telegram_user_id: int = 4242) -> None:
        now = datetime.now(UTC)
        self.api.events_batch([{"event_id": uuid.uuid4().hex, "type": "message", "group_id": group["id"],
                                "telegram_user_id": telegram_user_id, "occurred_at": now - timedelta(minutes=i)}
                               for i in range(count)])

    def browser(self) -> "PageClient":
        return PageClient(self.url)


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.csrf = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") == "csrfmiddlewaretoken":
            self.csrf = attrs.get("value")


class PageClient:
    """A browser without JavaScript: keeps cookies, posts forms with the CSRF token of the page they are on."""

    def __init__(self, url: str):
        self.http = httpx.Client(base_url=url, timeout=10, follow_redirects=False)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        parser = _Inputs()
        parser.feed(page.text)
        assert parser.csrf, f"no CSRF token on {path} ({page.status_code})"
        return parser.csrf

    def post_form(self, path: str, data: dict, *, form_page: str | None = None) -> httpx.Response:
        token = self.csrf_token(form_page or path)
        return self.http.post(path, data={"csrfmiddlewaretoken": token, **data},
                              headers={"Referer": f"{self.http.base_url}{form_page or path}"})

    def login(self, username: str, password: str = PASSWORD, next_url: str = "/") -> httpx.Response:
        return self.post_form("/login", {"username": username, "password": password, "next": next_url})

    def copy_session(self, other: "PageClient") -> "PageClient":
        for name in ("dashboard_access", "dashboard_refresh"):
            self.http.cookies.set(name, other.http.cookies[name], domain="127.0.0.1")
        return self


def signed_in(web: DashboardPlatform, user: dict) -> PageClient:
    """A page client signed in as `user` through the login page."""
    browser = web.browser()
    assert browser.login(user["username"]).status_code == 302
    return browser


def browser_for(web: DashboardPlatform, schema, user: dict) -> Browser:
    """An API browser signed in as `user`, every JSON answer checked against `schema` (web's OpenAPI)."""
    browser = Browser(web.url, schema)
    assert browser.login(user["username"]).status_code == 200
    return browser


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="session")
def dashboard_platform(tmp_path_factory):
    platform = DashboardPlatform(tmp_path_factory.mktemp("dashboard"))
    try:
        platform.start()
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()
