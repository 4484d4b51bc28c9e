"""The default neural build: host and guests audibly different, pace matching the text."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from pangocast.audio.ffmpeg import decode_file
from pangocast.audio.pcm import Audio
from pangocast.core.project import Project
from pangocast.pipeline.build import BuildOptions, build
from pangocast.publish.manifest import read_manifest
from tests.audio_measure import f0_track


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Audio]:
    from tests.conftest import ROOT, TINY_SCRIPT

    root = tmp_path_factory.mktemp("neural-show")
    import shutil

    for d in ("voices", "feeds", "audio"):
        shutil.copytree(ROOT / d, root / d)
    (root / "scripts").mkdir()
    longer = (
        TINY_SCRIPT.replace(
            "老王:你好,请介绍一下自己。",
            "老王:你好,今天我们聊聊云计算和开源社区的发展,请先介绍一下自己。",
        )
        .replace(
            "杨镭:我在 UCloud 做技术。",
            "杨镭:我在公司负责技术工作,从最一线的运维人员开始做起,后来做网络方面的研发。",
        )
        .replace("叶理灯:我也是。", "叶理灯:我负责实验室的工作,现在主要做容器和虚拟化方面的产品。")
    )
    (root / "scripts" / "01-tiny.txt").write_text(longer, encoding="utf-8")
    project = Project(root)
    build(project, BuildOptions(engine="neural", jobs=1))
    manifest = read_manifest(project.output)
    assert manifest is not None
    audio = decode_file(project.output / manifest.episodes[0].audio, 16000)
    return project, audio


def _median_f0(audio: Audio, start: float, end: float) -> float:
    part = Audio(audio.samples[int(start * audio.rate) : int(end * audio.rate)], audio.rate)
    return float(np.median(f0_track(part)))


def test_host_and_each_guest_have_clearly_different_pitch(built: tuple[Project, Audio]) -> None:
    project, audio = built
    manifest = read_manifest(project.output)
    assert manifest is not None
    f0 = {
        t.speaker: _median_f0(audio, t.start, t.end)
        for t in manifest.episodes[0].turns
        if t.kind == "speech" and t.speaker in ("老王", "杨镭", "叶理灯")
    }
    assert set(f0) == {"老王", "杨镭", "叶理灯"}
    values = sorted(f0.values())
    # At least ~1.5 semitones (9 %) between any two speakers: clearly different voices.
    for low, high in itertools.pairwise(values):
        assert high / low > 1.09, f0


def test_pace_matches_the_text(built: tuple[Project, Audio]) -> None:
    project, _ = built
    manifest = read_manifest(project.output)
    assert manifest is not None
    ep = manifest.episodes[0]
    for t in ep.turns:
        hanzi = len(re.findall(r"[\u4e00-\u9fff]", t.text))
        if hanzi >= 20:
            rate = hanzi / (t.end - t.start)
            assert 3.5 <= rate <= 6.0, (t.speaker, rate)
    assert abs(ep.duration - audio_seconds(project, ep.audio)) < 0.3


def audio_seconds(project: Project, rel: str) -> float:
    from mutagen.mp3 import MP3

    return float(MP3(Path(project.output / rel)).info.length)
