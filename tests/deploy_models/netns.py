"""Several servers on one host: a network namespace per role, wired to a switch.

The switch is a bridge inside a namespace of its own (the host's firewall never sees the traffic between
roles); each role's namespace has `lo` and an `eth0` on the switch; the test's own namespace joins the switch
through one more veth pair, so the test drives the platform over that network as a client would. The /24 is
picked among 10.x.y.0/24 networks no route or address of the host overlaps. Names carry the test process's pid;
`destroy` removes everything, and namespaces left by a run that died (its pid gone) are removed first.
"""

import ipaddress
import os
import re
import subprocess

PREFIX = "tgmod"


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (no `ip`, not root...), or None when they can."""
    probe = f"{PREFIX}-probe-{os.getpid()}"
    try:
        result = ip("netns", "add", probe, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"ip netns is not available: {exc}"
    if result.returncode != 0:
        return f"ip netns add is not permitted: {result.stderr.strip()}"
    ip("netns", "del", probe, check=False)
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> None:
    """Namespaces and links of earlier runs whose test process is gone."""
    for line in ip("netns", "list").stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        match = re.fullmatch(rf"{PREFIX}(\d+)-\w+", name)
        if match and not _alive(int(match.group(1))):
            ip("netns", "del", name, check=False)
    for match in re.finditer(rf"^\d+: ({PREFIX[:2]}(\d+)h)[@:]", ip("-o", "link").stdout, re.MULTILINE):
        if not _alive(int(match.group(2))):
            ip("link", "del", match.group(1), check=False)


def _host_networks() -> list[ipaddress.IPv4Network]:
    networks = []
    for line in ip("-4", "route", "show", "table", "all").stdout.splitlines() + \
            ip("-4", "-o", "addr").stdout.splitlines():
        for word in line.split():
            try:
                network = ipaddress.ip_network(word, strict=False)
            except ValueError:
                continue
            if network.version == 4 and network.prefixlen > 0:
                networks.append(network)
    return networks


def pick_subnet(seed: int) -> ipaddress.IPv4Network:
    taken = _host_networks()
    for attempt in range(64):
        value = (seed + attempt * 7919) % (200 * 256)
        candidate = ipaddress.ip_network(f"10.{40 + value // 256}.{value % 256}.0/24")
        if not any(candidate.overlaps(network) for network in taken):
            return candidate
    raise RuntimeError("no free 10.x.y.0/24 network on this host")


class Network:
    def __init__(self, roles: list[str]):
        pid = os.getpid()
        self.tag = f"{PREFIX}{pid}"
        self.switch = f"{self.tag}-switch"
        self.subnet = pick_subnet(pid)
        hosts = list(self.subnet.hosts())
        self.client_address = str(hosts[0])  # this (the test's) namespace
        self.namespaces = {role: f"{self.tag}-{role}" for role in roles}
        self.addresses = {role: str(hosts[index]) for index, role in enumerate(roles, start=1)}
        self._root_link = f"{PREFIX[:2]}{pid}h"
        self.created: list[str] = []

    def create(self) -> "Network":
        sweep_stale()
        prefix = self.subnet.prefixlen
        self._namespace(self.switch)
        ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        ip("-n", self.switch, "link", "set", "br0", "up")
        for index, (role, namespace) in enumerate(self.namespaces.items()):
            self._namespace(namespace)
            inner, outer = f"{PREFIX[:2]}{os.getpid()}i{index}", f"{PREFIX[:2]}{os.getpid()}o{index}"
            ip("link", "add", inner, "type", "veth", "peer", "name", outer)
            ip("link", "set", inner, "netns", namespace)
            ip("-n", namespace, "link", "set", inner, "name", "eth0")
            ip("-n", namespace, "addr", "add", f"{self.addresses[role]}/{prefix}", "dev", "eth0")
            ip("-n", namespace, "link", "set", "eth0", "up")
            self._plug(outer, role)
        ip("link", "add", self._root_link, "type", "veth", "peer", "name", f"{self._root_link}s")
        self._plug(f"{self._root_link}s", "client")
        ip("addr", "add", f"{self.client_address}/{prefix}", "dev", self._root_link)
        ip("link", "set", self._root_link, "up")
        return self

    def _namespace(self, name: str) -> None:
        ip("netns", "add", name)
        self.created.append(name)
        ip("-n", name, "link", "set", "lo", "up")

    def _plug(self, link: str, name: str) -> None:
        """Moves one end of a veth pair into the switch, on its bridge."""
        ip("link", "set", link, "netns", self.switch)
        ip("-n", self.switch, "link", "set", link, "name", name)
        ip("-n", self.switch, "link", "set", name, "master", "br0")
        ip("-n", self.switch, "link", "set", name, "up")

    def destroy(self) -> None:
        ip("link", "del", self._root_link, check=False)
        for name in reversed(self.created):
            ip("netns", "del", name, check=False)
        self.created.clear()

    def run_in(self, role: str, command: list[str], timeout: float = 10) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.namespaces[role], *command], capture_output=True,
                              text=True, timeout=timeout)
