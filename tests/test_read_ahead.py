"""read_ahead: an iterator's items made in a background thread, in order, with its errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pangocast.audio.read_ahead import read_ahead


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_items_arrive_in_order_from_another_thread() -> None:
    made_in: set[str] = set()

    def numbers() -> Iterator[int]:
        for i in range(500):
            made_in.add(threading.current_thread().name)
            yield i

    assert list(read_ahead(numbers(), depth=2, name="test-ahead")) == list(range(500))
    assert made_in == {"test-ahead"}
    assert "test-ahead" not in _threads()


def test_an_error_comes_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("bad frame")

    got: list[int] = []
    with pytest.raises(ValueError, match="bad frame"):
        for item in read_ahead(failing(), name="test-ahead-error"):
            got.append(item)
    assert got == [1, 2]
    assert "test-ahead-error" not in _threads()


def test_stopping_early_closes_the_source_and_ends_the_thread() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    for item in read_ahead(endless(), depth=3, name="test-ahead-stop"):
        if item == 10:
            break
    assert closed.wait(5)
    assert "test-ahead-stop" not in _threads()
