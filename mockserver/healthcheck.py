"""The container's health check: every port Skymock listens on answers ``/__skymock/health``.

``python -m mockserver.healthcheck`` finds the TCP ports on which the container's processes
(those it may read, i.e. its own user's) listen and asks each for ``/__skymock/health``; it exits
0 when there is at least one and every one answers ``{"status": "ok"}``, 1 otherwise. So the
image's HEALTHCHECK holds whatever ``skymock serve`` was told (one service, all seven, ``--port``,
``--port-offset``, ``--workers``). ``python -m mockserver.healthcheck PORT...`` asks those ports.

Standard library only, and nothing of the services is imported: Docker runs it every interval.
"""
from __future__ import annotations

import ipaddress
import json
import os
import sys
import urllib.request
from pathlib import Path

LISTEN = "0A"      # TCP state in /proc/net/tcp
PATH = "/__skymock/health"


def _address(hex_address: str, family: str) -> str:
    """An address of /proc/net/tcp{,6} (32-bit words in host order), as text."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4)) if sys.byteorder == "little" else raw
    return str(ipaddress.IPv4Address(words) if family == "tcp" else ipaddress.IPv6Address(words))


def listening_sockets(proc: Path = Path("/proc")) -> dict[str, tuple[str, int]]:
    """socket inode -> (address, port) of every listening TCP socket of this network namespace."""
    found = {}
    for family in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / family).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == LISTEN:
                address, port = fields[1].split(":")
                found[fields[9]] = (_address(address, family), int(port, 16))
    return found


def socket_inodes(pids: list[int] | None = None, proc: Path = Path("/proc")) -> set[str]:
    """Inodes of the sockets the processes hold open (default: every process whose descriptors may be read)."""
    if pids is None:
        pids = [int(p.name) for p in proc.iterdir() if p.name.isdigit()]
    inodes = set()
    for pid in pids:
        try:
            descriptors = list((proc / str(pid) / "fd").iterdir())
        except OSError:
            continue      # another user's process, or gone
        for descriptor in descriptors:
            try:
                target = os.readlink(descriptor)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    return inodes


def served(pids: list[int] | None = None, proc: Path = Path("/proc")) -> list[tuple[str, int]]:
    """(address to ask, port) of each TCP port the processes listen on; a wildcard address is asked on loopback."""
    inodes = socket_inodes(pids, proc)
    targets = set()
    for inode, (address, port) in listening_sockets(proc).items():
        if inode in inodes:
            if ipaddress.ip_address(address).is_unspecified:
                address = "127.0.0.1" if ipaddress.ip_address(address).version == 4 else "::1"
            targets.add((address, port))
    # one port listened on for both families is asked once, on IPv4
    ports_v4 = {port for address, port in targets if ipaddress.ip_address(address).version == 4}
    return sorted(t for t in targets if ipaddress.ip_address(t[0]).version == 4 or t[1] not in ports_v4)


def healthy(address: str, port: int, timeout: float = 2.0) -> bool:
    host = f"[{address}]" if ":" in address else address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{PATH}", timeout=timeout) as answer:
            return answer.status == 200 and json.loads(answer.read()).get("status") == "ok"
    except (OSError, ValueError, AttributeError):
        return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    targets = [("127.0.0.1", int(port)) for port in argv] if argv else served()
    if not targets:
        print("skymock healthcheck: no process here listens on a TCP port", file=sys.stderr)
        return 1
    sick = [f"{address}:{port}" for address, port in targets if not healthy(address, port)]
    if sick:
        print(f"skymock healthcheck: no healthy answer from {', '.join(sick)}", file=sys.stderr)
        return 1
    print("healthy: " + ", ".join(f"{address}:{port}" for address, port in targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
