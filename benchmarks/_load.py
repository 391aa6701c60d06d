"""Shared pieces of the benchmarks: subprocess servers, signed Slack requests, latency figures."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

SIGNING_SECRET = "bench-signing-secret"
# Builds the body and headers of the n-th request of a run.
MakeRequest = Callable[[int], tuple[bytes, dict[str, str]]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_process(args: list[str], env: Mapping[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start a server process and return once it accepts connections."""
    process = subprocess.Popen(
        args, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{args[2:]} exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{args} did not start")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def signed_slash(text: str, *, user: str = "U0BENCH001") -> tuple[bytes, dict[str, str]]:
    body = urlencode(
        {
            "command": "/release",
            "text": text,
            "user_id": user,
            "user_name": "bench",
            "channel_id": "C0BENCH001",
            "team_id": "T0BENCH001",
            "response_url": "http://127.0.0.1:9/response",
            "trigger_id": "1.2.3",
        }
    ).encode()
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body, headers


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) process `pid` has used so far; None where /proc is missing.

    Latency at saturation follows CPU per request, and CPU per request hardly moves when other
    work shares the machine, so it is the figure to compare across runs on a busy box.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Figures:
    count: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    # CPU time the server spent on these requests, when it could be read.
    cpu_seconds: float | None = None

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float | None:
        """Server CPU time per request, in microseconds."""
        return None if self.cpu_seconds is None else self.cpu_seconds / self.count * 1e6

    def line(self, name: str) -> str:
        cpu = "" if self.cpu_us is None else f"  cpu={self.cpu_us:5.0f} µs/req"
        return (
            f"{name:<34} n={self.count:<5} errors={self.errors:<3} p50={self.p50:7.2f} ms  "
            f"p99={self.p99:7.2f} ms  throughput={self.throughput:7.1f} req/s{cpu}"
        )


async def fire(
    http: aiohttp.ClientSession,
    url: str,
    make_request: MakeRequest,
    *,
    total: int,
    expect: Callable[[int, bytes], bool],
    pid: int | None = None,
) -> Figures:
    """Send `total` requests over `http`, as many at once as its connection limit allows; time
    each one (and the CPU server `pid` spends on them)."""
    concurrency = http.connector.limit if http.connector is not None else 1
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(total):
        queue.put_nowait(index)
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            index = queue.get_nowait()
            body, headers = make_request(index)
            started = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                payload = await response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            errors += 0 if expect(response.status, payload) else 1

    cpu_before = None if pid is None else cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    cpu_after = None if pid is None else cpu_seconds(pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Figures(total, errors, seconds, latencies, cpu)


def session(concurrency: int) -> aiohttp.ClientSession:
    """A client keeping up to `concurrency` connections open between rounds of requests."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))


PYTHON = sys.executable
