"""The image's HEALTHCHECK: GET /api/health on this container's role port; healthy on 200.

Django answers 400 to a Host it does not allow, so the request names the first concrete ALLOWED_HOSTS entry
(HEALTHCHECK_HOST overrides). /api/health is exempt from the HTTPS redirect. The bot in polling mode serves
no HTTP (PID 1 is `manage.py runbot`): there, the process being alive is the check.
"""

import os
import sys
import urllib.error
import urllib.request


def host_header(allowed_hosts: str) -> str:
    for entry in (item.strip() for item in allowed_hosts.split(",")):
        if entry and entry != "*":
            return entry.lstrip(".")
    return "localhost"


def polling_bot() -> bool:
    try:
        with open("/proc/1/cmdline", "rb") as handle:
            return b"runbot" in handle.read().split(b"\0")
    except OSError:
        return False


def main() -> int:
    if polling_bot():
        return 0
    port = os.environ.get("PORT", "8000")
    host = os.environ.get("HEALTHCHECK_HOST") or host_header(os.environ.get("ALLOWED_HOSTS", ""))
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 (loopback, fixed scheme)
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"health check failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
