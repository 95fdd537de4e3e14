"""deploy/nginx/nginx.conf: `nginx -t` on it, then nginx itself in front of the real roles (started by their
start scripts), proving the routes: web, the webhook to the bot, WebSocket upgrades, core on its own port.

Compose's service names (web, bot, centralized-api) resolve only inside compose (through Docker's DNS, which the
file names as its resolver), so the checks run a copy whose role addresses, listen ports, certificate and temp paths
are rewritten to this machine's; every directive and location is the file's own."""

import datetime
import json
import re
import ssl
import subprocess
import time

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.processes import WEBHOOK_SECRET, free_port

from .tools import DEPLOY, health_body, tool

CONF = DEPLOY / "nginx" / "nginx.conf"
# The configuration's upstream variables and the compose services (compose.prod.yaml) they name.
UPSTREAM_SERVICES = {"web": "web", "bot": "bot", "core": "centralized-api"}


def certificate(directory):
    """A self-signed pair for localhost, as deploy/nginx/certs/README.md makes one."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (directory / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))


def local_copy(tmp_path, upstreams: dict[str, int], listen: dict[int, int]) -> str:
    text = CONF.read_text()
    for name, port in upstreams.items():
        text, count = re.subn(rf"set \${name} http://{UPSTREAM_SERVICES[name]}:\d+;",
                              f"set ${name} http://127.0.0.1:{port};", text)
        assert count == 1, name
    for original, port in listen.items():
        text, count = re.subn(rf"listen {original}( |;)", rf"listen 127.0.0.1:{port}\1", text)
        assert count == 1, original
    text = text.replace("/etc/nginx/certs/", f"{tmp_path}/")
    text = text.replace("/tmp/nginx", f"{tmp_path}/nginx")  # noqa: S108 (rewriting the file's paths away)
    return text


def nginx_test(path, prefix) -> subprocess.CompletedProcess:
    return subprocess.run([tool("nginx"), "-t", "-c", str(path), "-p", f"{prefix}/"], capture_output=True, text=True,
                          timeout=30)


@pytest.fixture
def config_dir(tmp_path):
    certificate(tmp_path)
    (tmp_path / "logs").mkdir()
    return tmp_path


def test_nginx_accepts_the_configuration(config_dir):
    path = config_dir / "nginx.conf"
    path.write_text(local_copy(config_dir, {"web": 1, "bot": 2, "core": 3}, {80: free_port(), 443: free_port(),
                                                                             8443: free_port()}))
    result = nginx_test(path, config_dir)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize(("find", "replace"), [
    ("proxy_pass $web;", "proxy_pass $nowhere;"),
    ("proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Upgrade;"),
    ("return 404;", "retrun 404;"),
])
def test_nginx_t_catches_mistakes(config_dir, find, replace):
    text = local_copy(config_dir, {"web": 1, "bot": 2, "core": 3}, {80: free_port(), 443: free_port(),
                                                                    8443: free_port()})
    assert find in text
    path = config_dir / "broken.conf"
    path.write_text(text.replace(find, replace, 1))
    assert nginx_test(path, config_dir).returncode != 0


def test_routes_are_the_ones_documented():
    text = CONF.read_text()
    assert re.search(r"location = /telegram/webhook \{\s*proxy_pass \$bot;", text)
    websocket = re.search(r"location /ws/ \{(.*?)\}", text, re.S).group(1)
    assert "proxy_pass $web;" in websocket
    assert "proxy_set_header Upgrade $http_upgrade;" in websocket
    assert "proxy_set_header Connection $connection_upgrade;" in websocket
    assert text.count("location = /metrics {\n            return 404;") == 2


@pytest.fixture
def nginx(config_dir, roles):
    http, https, core = free_port(), free_port(), free_port()
    path = config_dir / "nginx.conf"
    path.write_text(local_copy(config_dir, roles["ports"], {80: http, 443: https, 8443: core}))
    process = subprocess.Popen([tool("nginx"), "-c", str(path), "-p", f"{config_dir}/", "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{http}/nginx-health", timeout=1)
            break
        except httpx.HTTPError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "nginx did not start"
            time.sleep(0.1)
    try:
        yield {"http": http, "https": https, "core": core}
    finally:
        process.terminate()
        process.wait(timeout=10)


def client():
    return httpx.Client(verify=False, timeout=10, headers={"Host": "localhost"})  # noqa: S501 (self-signed, loopback)


@pytest.mark.e2e
def test_nginx_in_front_of_the_roles(nginx):
    with client() as http:
        plain = http.get(f"http://127.0.0.1:{nginx['http']}/api/health?x=1")
        assert plain.status_code == 301 and plain.headers["location"] == "https://localhost/api/health?x=1"

        web = http.get(f"https://127.0.0.1:{nginx['https']}/api/health")
        assert web.status_code == 200 and health_body(web)["service"] == "web"
        # nginx makes a request id when the caller sends none, and the role echoes it; a caller's id is kept.
        assert re.fullmatch(r"[0-9a-f]{32}", web.headers["x-request-id"])
        kept = http.get(f"https://127.0.0.1:{nginx['https']}/api/health", headers={"X-Request-ID": "deploy-check-1"})
        assert kept.headers["x-request-id"] == "deploy-check-1"

        assert http.get(f"https://127.0.0.1:{nginx['https']}/metrics").status_code == 404
        assert http.get(f"https://127.0.0.1:{nginx['core']}/metrics").status_code == 404

        webhook = f"https://127.0.0.1:{nginx['https']}/telegram/webhook"
        refused = http.post(webhook, json={"update_id": 1})
        assert refused.status_code == 403 and refused.json()["error"] == "permission_denied"
        accepted = http.post(webhook, content=b"{", headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET})
        assert accepted.status_code == 200 and accepted.json()["dropped"] is True

        core = http.get(f"https://127.0.0.1:{nginx['core']}/api/health")
        assert core.status_code == 200 and health_body(core)["service"] == "centralized-api"


@pytest.mark.e2e
def test_websocket_upgrade_through_nginx(nginx):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with connect(f"wss://127.0.0.1:{nginx['https']}/ws/live", ssl=context, open_timeout=10) as socket:
        assert socket.response.status_code == 101
        # Frames cross nginx both ways: a bad token goes in; web's error message and close code 4401 come back.
        socket.send(json.dumps({"type": "auth", "token": "not-a-token"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "error"
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
        assert closed.value.rcvd.code == 4401


@pytest.mark.e2e
def test_core_admin_login_passes_csrf_through_nginx(nginx):
    """Core runs production settings here (secure cookies, CSRF's origin check): the admin's login form posted
    through nginx's core port is judged on its credentials, not refused as a cross-site request."""
    origin = f"https://127.0.0.1:{nginx['core']}"
    with httpx.Client(verify=False, timeout=10) as http:  # noqa: S501 (self-signed, loopback)
        form = http.get(f"{origin}/admin/login/")
        assert form.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = http.post(f"{origin}/admin/login/", headers={"Origin": origin, "Referer": f"{origin}/admin/login/"},
                           data={"csrfmiddlewaretoken": token, "username": "nobody", "password": "wrong-password"})
        assert answer.status_code == 200, answer.text[:500]
        assert "Please enter the correct username and password" in answer.text
        # The same post without the token is refused: the check is on.
        assert http.post(f"{origin}/admin/login/", headers={"Origin": origin},
                         data={"username": "nobody", "password": "x"}).status_code == 403
