"""The shared feed read behind a key-filter miss (gatepass.cache.barrier.ReadBarrier)."""

from __future__ import annotations

import asyncio
import threading
import time

from gatepass.cache.barrier import MissRate, ReadBarrier


class Reads:
    """A blocking read that counts itself and can be held open or made to fail."""

    def __init__(self) -> None:
        self.count = 0
        self.release = threading.Event()
        self.release.set()
        self.fail = False

    def __call__(self) -> None:
        self.count += 1
        self.release.wait(5)
        if self.fail:
            raise OSError("the database went away")


def test_many_waiters_share_one_read() -> None:
    async def main() -> tuple[list[bool], int]:
        reads = Reads()
        barrier = ReadBarrier(reads, asyncio.get_running_loop())
        answers = await asyncio.gather(*(barrier.wait() for _ in range(50)))
        return answers, reads.count

    answers, count = asyncio.run(main())
    assert answers == [True] * 50
    assert count == 1


def test_a_waiter_arriving_during_a_read_waits_for_the_next_one() -> None:
    events: list[str] = []

    class Logged(Reads):
        def __call__(self) -> None:
            events.append(f"read {self.count + 1} begins")
            super().__call__()
            events.append(f"read {self.count} ends")

    async def main() -> None:
        reads = Logged()
        reads.release.clear()
        barrier = ReadBarrier(reads, asyncio.get_running_loop())
        first = asyncio.ensure_future(barrier.wait())
        first.add_done_callback(lambda _: events.append("first answered"))
        while reads.count == 0:  # the first read has begun, and is held open
            await asyncio.sleep(0.001)
        events.append("late arrives")
        late = asyncio.ensure_future(barrier.wait())
        late.add_done_callback(lambda _: events.append("late answered"))
        await asyncio.sleep(0.01)
        assert not late.done()
        reads.release.set()
        await asyncio.gather(first, late)

    asyncio.run(main())
    assert events.index("read 1 ends") < events.index("first answered")
    # the late waiter is answered by the read that began after it arrived, not the one before
    assert events.index("late arrives") < events.index("read 2 begins")
    assert events.index("read 2 ends") < events.index("late answered")


def test_a_failed_read_answers_false_and_the_next_one_is_tried_again() -> None:
    async def main() -> tuple[bool, bool]:
        reads = Reads()
        reads.fail = True
        barrier = ReadBarrier(reads, asyncio.get_running_loop())
        failed = await barrier.wait()
        reads.fail = False
        return failed, await barrier.wait()

    assert asyncio.run(main()) == (False, True)


def test_a_refresh_starts_one_read_and_records_when_it_began() -> None:
    async def main() -> tuple[int, float, float]:
        reads = Reads()
        barrier = ReadBarrier(reads, asyncio.get_running_loop())
        before = time.monotonic()
        barrier.refresh()
        barrier.refresh()  # one is running: no second read
        while barrier.current_as_of == float("-inf"):
            await asyncio.sleep(0.001)
        return reads.count, before, barrier.current_as_of

    count, before, current_as_of = asyncio.run(main())
    assert count == 1
    assert current_as_of >= before


def test_a_failed_read_does_not_advance_what_is_known() -> None:
    async def main() -> float:
        reads = Reads()
        reads.fail = True
        barrier = ReadBarrier(reads, asyncio.get_running_loop())
        assert not await barrier.wait()
        return barrier.current_as_of

    assert asyncio.run(main()) == float("-inf")


def test_the_miss_rate_floods_at_its_limit_and_calms_after_two_quiet_seconds() -> None:
    rate = MissRate(limit=5)
    assert [rate.note(10.0 + i / 100) for i in range(5)] == [False] * 4 + [True]
    assert rate.note(11.2)  # the previous second still counts
    assert not rate.note(13.5)  # a quiet second in between: counting starts over
    assert not any(rate.note(13.6) for _ in range(3))
    assert rate.note(13.7)
