"""Two `releasebot serve` replicas on one PostgreSQL database post each sync occurrence once.

Real time: an every-minute sync is watched for three occurrences (a few minutes).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from storage.migrate import upgrade
from tests.adapters.test_cli import _wait_until_listening, free_port
from tests.support.fake_slack import FakeSlack, fake_slack
from tests.support.postgres import fresh_database
from tests.support.slack_requests import SIGNING_SECRET, SlackSender, slack_env

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(420)]
OCCURRENCE = re.compile(r"Release sync — (\w{3} \d+ \w{3} \d{4} \d\d:\d\d)")


@pytest.fixture
async def database() -> AsyncIterator[str]:
    async with fresh_database() as url:
        await asyncio.to_thread(upgrade, url)
        yield url


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with fake_slack() as running:
        yield running


@pytest.fixture
def replicas(database: str, fake: FakeSlack, tmp_path: Path) -> Iterator[list[str]]:
    env = {**os.environ, **slack_env(fake), "RELEASEBOT_DATABASE_URL": database}
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            _wait_until_listening(port, process)  # type: ignore[arg-type]
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def sync_posts(fake: FakeSlack) -> list[str]:
    texts = [str(call.body.get("text", "")) for call in fake.api_calls("chat.postMessage")]
    return [m.group(1) for text in texts if (m := OCCURRENCE.search(text))]


async def test_two_replicas_post_every_occurrence_exactly_once(
    replicas: list[str], fake: FakeSlack
) -> None:
    async with aiohttp.ClientSession() as http:
        answer = await SlackSender(http, replicas[0], SIGNING_SECRET, fake).slash(
            "sync * * * * * tz UTC"
        )
        assert answer.status == 200
    await fake.wait_for(lambda: len(set(sync_posts(fake))) >= 3, timeout=300)
    posts = sync_posts(fake)
    assert len(posts) == len(set(posts)), posts
    minutes = sorted(int(p[-2:]) + 60 * int(p[-5:-3]) for p in set(posts))
    assert minutes == list(range(minutes[0], minutes[0] + len(minutes))), posts
