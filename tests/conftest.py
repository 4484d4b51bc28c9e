"""Shared fixtures: a small show folder, and the --update-golden option."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pangocast.voice.engines import Engine

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files under tests/golden/ instead of comparing with them",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


TINY_SCRIPT = """+++
title = "测试节目:两位嘉宾"
slug = "tiny"
date = 2019-07-01
host = "老王"
guests = ["杨镭", "叶理灯"]
summary = "一个很短的测试节目。"
+++

旁白:欢迎收听。

# 第一章 开场

老王:你好,请介绍一下自己。

杨镭:我在 UCloud 做技术。

叶理灯:我也是。
"""


@pytest.fixture
def show_dir(tmp_path: Path) -> Path:
    """A show folder with the project's voices/, feeds/ and audio/, and one tiny script."""
    root = tmp_path / "show"
    root.mkdir()
    for d in ("voices", "feeds", "audio"):
        if (ROOT / d).is_dir():
            shutil.copytree(ROOT / d, root / d)
    (root / "scripts").mkdir()
    (root / "scripts" / "01-tiny.txt").write_text(TINY_SCRIPT, encoding="utf-8")
    return root


@pytest.fixture
def register() -> Iterator[Callable[[Engine], str]]:
    """Registers a test's engine instance under a fresh name (see ``fakes.instance_class``)
    and removes it from the registry afterwards."""
    from pangocast.voice.engines import register_engine, unregister_engine
    from tests.fakes import instance_class

    names: list[str] = []

    def add(engine: Engine) -> str:
        name = f"registered-test-engine-{len(names)}"
        register_engine(name, instance_class(engine))
        names.append(name)
        return name

    yield add
    for name in names:
        unregister_engine(name)
