"""Client addresses: X-Forwarded-For is believed only from configured proxies, on every role."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings

from apps.common.client_address import client_address

ROOT = Path(__file__).resolve().parents[2]
PROXY, OTHER_PROXY = "10.0.0.1", "10.0.0.2"


def _address(remote: str, forwarded: str | None, proxies: list[str]) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(TRUSTED_PROXIES=proxies):
        return client_address(RequestFactory().get("/", **extra))


@pytest.mark.parametrize(("forwarded", "proxies", "expected"), [
    # No trusted proxy (the default): the header is the client's own word, ignored.
    ("203.0.113.9", [], PROXY),
    ("203.0.113.9, 198.51.100.1", [], PROXY),
    # A header sent straight by a client that is not a configured proxy: ignored too.
    ("203.0.113.9", ["10.9.9.9"], PROXY),
    # Behind one trusted proxy: the entry it appended.
    ("203.0.113.9", [PROXY], "203.0.113.9"),
    ("6.6.6.6, 203.0.113.9", [PROXY], "203.0.113.9"),  # a spoofed leftmost entry is not believed
    (" 6.6.6.6 ,203.0.113.9 ", ["10.0.0.0/8"], "203.0.113.9"),
    # Two proxies in a chain: walked from the right, skipping the trusted ones.
    (f"6.6.6.6, 203.0.113.9, {OTHER_PROXY}", ["10.0.0.0/24"], "203.0.113.9"),
    (f"6.6.6.6, 203.0.113.9, {OTHER_PROXY}", [PROXY], OTHER_PROXY),  # the second proxy is not trusted
    # A trusted proxy that sent no header, or only garbage: the proxy itself is the last address known.
    (None, [PROXY], PROXY),
    ("", [PROXY], PROXY),
    ("not-an-address", [PROXY], PROXY),
    ("6.6.6.6, unknown", [PROXY], PROXY),
    # Ports and IPv6 forms proxies write.
    ("203.0.113.9:4711", [PROXY], "203.0.113.9"),
    ("[2001:db8::7]:4711", [PROXY], "2001:db8::7"),
    ("2001:db8::7", [PROXY], "2001:db8::7"),
])
def test_forwarded_for_is_believed_only_from_trusted_proxies(forwarded, proxies, expected):
    assert _address(PROXY, forwarded, proxies) == expected


def test_every_entry_trusted_gives_the_leftmost():
    assert _address(PROXY, f"{OTHER_PROXY}, {PROXY}", ["10.0.0.0/8"]) == OTHER_PROXY


def test_ipv4_mapped_peers_match_ipv4_proxies():
    assert _address(f"::ffff:{PROXY}", "203.0.113.9", [PROXY]) == "203.0.113.9"
    assert _address("::ffff:203.0.113.5", "6.6.6.6", []) == "203.0.113.5"


@pytest.mark.parametrize("settings_module", ["config.settings.core", "config.settings.bot", "config.settings.web"])
def test_every_role_reads_trusted_proxies_and_refuses_a_bad_entry(settings_module, tmp_path):
    code = ("import django; django.setup(); from django.conf import settings; "
            "from apps.common.client_address import client_address_from; "
            "print(settings.TRUSTED_PROXIES, client_address_from('10.1.2.3', '6.6.6.6, 203.0.113.9'))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "DATA_DIR": str(tmp_path),
           "TRUSTED_PROXIES": "10.1.0.0/16, 192.0.2.1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "203.0.113.9"
    env["TRUSTED_PROXIES"] = "10.1.0.0/16, nginx"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0 and "TRUSTED_PROXIES" in result.stderr
