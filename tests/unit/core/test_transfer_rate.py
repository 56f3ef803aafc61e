"""The speed and time-left estimate shared by the transfers panel and the CLI's progress line."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dms_desktop.core.transfer_rate import MAX_SECONDS_LEFT, MIN_SECONDS, JobRate, TransferRate

MB = 1_000_000


def feed(rate: TransferRate, points: list[tuple[float, int]]) -> None:
    for now, done in points:
        rate.update(done, now)


def test_no_estimate_until_bytes_moved_for_a_second() -> None:
    rate = TransferRate(100 * MB)
    feed(rate, [(0.0, 0), (0.1, 2 * MB), (0.5, 6 * MB), (1.0, 11 * MB)])
    assert rate.speed is None and rate.seconds_left() is None
    rate.update(12 * MB, 1.1)  # a second after the first bytes
    assert rate.speed == 10 * MB
    assert rate.seconds_left() == 8.8


def test_a_slow_start_does_not_make_the_first_estimate_absurd() -> None:
    """The issue's case: the first estimate said "1m27s" for a one-second transfer. Seconds of
    hashing and set-up before the first byte are not part of the speed."""
    rate = TransferRate(20 * MB)
    feed(rate, [(0.0, 0), (3.0, 1 * MB)])
    assert rate.seconds_left() is None
    feed(rate, [(3.5, 6 * MB), (4.0, 11 * MB)])
    assert rate.seconds_left() == 0.9


def test_the_speed_follows_the_last_seconds() -> None:
    rate = TransferRate(1000 * MB)
    feed(rate, [(float(second), second * 10 * MB) for second in range(11)])  # 10 MB/s
    feed(rate, [(10.0 + second, 100 * MB + second * 50 * MB) for second in range(1, 6)])
    assert rate.speed == 50 * MB  # the window holds only the faster seconds now


def test_a_stall_gives_no_time_left_and_a_rewind_starts_over() -> None:
    rate = TransferRate(100 * MB)
    feed(rate, [(0.0, 1 * MB), (1.0, 11 * MB)])
    assert rate.seconds_left() is not None
    feed(rate, [(1.0 + second, 11 * MB) for second in range(1, 7)])  # nothing moves
    assert rate.speed == 0 and rate.seconds_left() is None
    rate.update(5 * MB, 8.0)  # s3transfer rewinds after a retry
    assert rate.speed is None and rate.seconds_left() is None
    rate.update(15 * MB, 9.0)
    assert rate.speed == 10 * MB


def test_everything_done_is_no_time_left_and_an_empty_transfer_has_none() -> None:
    rate = TransferRate(5 * MB)
    rate.update(5 * MB, 0.2)  # small files go in one request: 0 to 100% at once
    assert rate.seconds_left() == 0
    assert TransferRate(0).seconds_left() is None


def test_a_crawl_is_not_given_an_absurd_time() -> None:
    rate = TransferRate(10**15)
    feed(rate, [(0.0, 1), (2.0, 2)])
    assert rate.seconds_left() is None


@given(
    st.integers(min_value=1, max_value=10**12),
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=5.0), st.integers(min_value=0, max_value=10**9)
        ),
        max_size=40,
    ),
)
def test_any_progress_gives_a_sensible_estimate_or_none(
    total: int, steps: list[tuple[float, int]]
) -> None:
    rate = TransferRate(total)
    now = 0.0
    for pause, done in steps:
        now += pause
        rate.update(min(done, total), now)
        speed, left = rate.speed, rate.seconds_left()
        assert speed is None or speed >= 0
        assert left is None or 0 <= left <= MAX_SECONDS_LEFT
        if left and now < MIN_SECONDS:
            raise AssertionError("an estimate before a second of data")


def test_a_job_of_small_files_estimates_from_its_files_rate_from_the_first_second() -> None:
    """5,000 files of 4 KB: each file's requests take the time, not its bytes. One second in,
    200 files are done: the estimate is the rest at that rate (about 24 s), not what the bytes
    alone would say, and it holds as the job goes on at the same pace."""
    rate = JobRate(5000, 5000 * 4096)
    rate.begin(0, 0, 0.0)
    for tick in range(1, 11):
        now = tick / 10
        rate.update(20 * tick, 20 * tick * 4096, now)
    left = rate.seconds_left()
    assert left is not None and 23.0 <= left <= 25.0
    rate.update(2000, 2000 * 4096, 10.0)
    later = rate.seconds_left()
    assert later is not None and 14.0 <= later <= 16.0


def test_a_job_resumed_with_files_done_is_not_taken_for_a_fast_one() -> None:
    rate = JobRate(100, 100 * MB)
    rate.begin(60, 60 * MB, 0.0)  # done before the interruption
    rate.update(61, 61 * MB, 1.0)
    assert rate.seconds_left() == 39.0


def test_a_job_with_one_big_file_left_follows_its_bytes() -> None:
    rate = JobRate(3, 102 * MB)
    rate.update(2, 2 * MB, 0.0)
    rate.update(2, 12 * MB, 1.0)  # the big file is sent at 10 MB/s; no file finished
    assert rate.seconds_left() == 9.0
