"""InFlight: the work shutdown lets finish before the store closes, and cancels after its grace."""

from __future__ import annotations

import asyncio

from adapters.tasks import InFlight


async def test_finish_waits_too_for_work_started_while_it_waits() -> None:
    in_flight, done = InFlight(), []

    async def further_page() -> None:
        await asyncio.sleep(0.05)  # a page on its way to Slack
        done.append("further page")

    async def answer() -> None:
        await asyncio.sleep(0)
        in_flight.start(further_page())  # started after finish() began waiting
        done.append("answer")

    in_flight.start(answer())
    await in_flight.finish(5)

    assert done == ["answer", "further page"]


async def test_finish_cancels_what_outlasts_the_grace_and_returns_once_it_is_over() -> None:
    in_flight, never, started = InFlight(), asyncio.Event(), []

    async def stuck() -> None:
        started.append(asyncio.current_task())
        await never.wait()

    in_flight.start(stuck())
    await in_flight.finish(0.01)

    (task,) = started
    assert task is not None and task.cancelled()


async def test_a_tracked_listener_holds_its_task_under_its_name_while_it_runs() -> None:
    in_flight, release = InFlight(), asyncio.Event()
    names: list[str] = []

    async def on_change(**_arguments: object) -> None:
        task = asyncio.current_task()
        names.append(task.get_name() if task else "")
        await release.wait()

    running = asyncio.ensure_future(in_flight.track(on_change)(ack=None))
    await asyncio.sleep(0)
    assert names == ["listener:on_change"]
    release.set()
    await in_flight.finish(5)
    assert running.done() and not running.cancelled()
