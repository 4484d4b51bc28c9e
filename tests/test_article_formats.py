"""Articles in the formats columns use, read turn by turn against hand-checked goldens.

Every article under ``tests/data/articles/`` was written for these tests (none of its
wording appears in the parser): a Markdown roundtable, an English Q&A in plain text, a
Chinese media-style interview with an outlet as interviewer, Chinese and English profiles
with quotes, and saved web pages (Chinese and English) with navigation, share buttons,
related links, comments and footers around the article.

``NAME.expected.json`` beside each holds the episode's title, host, guests and every turn
as ``[kind, role, speaker, text]``; each was read and corrected by hand. To regenerate
after an intended change, run ``PANGOCAST_UPDATE_GOLDENS=1 pytest tests/test_article_formats.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pangocast.ingest.article import analyse_article, parse_source
from pangocast.ingest.importer import import_source
from pangocast.script.format import load_script

ARTICLES = Path(__file__).parent / "data" / "articles"
SOURCES = sorted(p for p in ARTICLES.iterdir() if p.suffix in (".md", ".txt", ".html"))
UPDATE = os.environ.get("PANGOCAST_UPDATE_GOLDENS") == "1"

_MARKUP = re.compile(r"\*\*|__|\]\(|!\[|https?://|</?[a-z]+[ >]|^#|^>\s|^-{3,}|^[-*+]\s|`")


def _observed(path: Path) -> dict[str, object]:
    analysis = analyse_article(path.read_text(encoding="utf-8"), str(path))
    (pe,) = analysis.episodes
    return {
        "title": pe.episode.title,
        "host": pe.host,
        "guests": list(pe.guests),
        "turns": [[t.kind, t.role, t.speaker, t.text] for t in pe.episode.turns],
    }


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_article_reads_as_its_golden(path: Path) -> None:
    golden = path.with_suffix(".expected.json")
    observed = _observed(path)
    if UPDATE:
        golden.write_text(json.dumps(observed, ensure_ascii=False, indent=1) + "\n", "utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert observed["title"] == expected["title"]
    assert observed["host"] == expected["host"]
    assert observed["guests"] == expected["guests"]
    assert observed["turns"] == expected["turns"]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_markup_and_furniture_are_never_spoken(path: Path) -> None:
    turns = _observed(path)["turns"]
    assert isinstance(turns, list)
    spoken = [text for kind, _role, _who, text in turns if kind == "speech"]
    for text in spoken:
        assert not _MARKUP.search(text), text
        assert not re.search(r"转载|版权所有|all rights reserved|edited for", text, re.I), text
    chapters = [text for kind, *_rest, text in turns if kind == "chapter"]
    for text in chapters:
        assert not re.search(r"转载|作者|By |评论|Comments|Related|相关", text), text


def test_saved_page_drops_navigation_comments_and_footer() -> None:
    for name, junk in (
        ("saved-page-en.html", ("Share on", "Subscribe", "Related articles", "Great interview")),
        ("saved-page-zh.html", ("下载 App", "分享到", "相关阅读", "网友评论", "京ICP备")),
    ):
        text = json.dumps(_observed(ARTICLES / name), ensure_ascii=False)
        for word in junk:
            assert word not in text, (name, word)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_import_writes_a_script_that_loads_back(path: Path, tmp_path: Path) -> None:
    """import → script → load: the same speakers, and stage directions are cues that are
    kept in the script but not in the words."""
    report = import_source(path, tmp_path / "scripts")
    assert len(report.written) == 1
    (written,) = report.written
    episode = load_script(written)
    parsed = parse_source(path).episodes[0]
    said = [(t.speaker, t.role) for t in parsed.turns if t.kind == "speech"]
    loaded = [(t.speaker, t.role) for t in episode.turns if t.kind == "speech"]
    assert loaded == said
    script = written.read_text(encoding="utf-8")
    if "{" in json.dumps(_observed(path)["turns"], ensure_ascii=False):
        assert re.search(r"\{[^}]+\}", script)
    assert not any("{" in t.text for t in episode.turns if t.kind == "speech")


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pangocast_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        (
            "home.html",
            "<html><head><title>Home</title></head><body><nav><a href='/a'>News</a>"
            "<a href='/b'>About</a></nav><footer>© 2025</footer></body></html>",
            "no article body found in the web page",
        ),
        ("empty.md", "# \n\n![only an image](a.png)\n\n---\n", "the article has nothing to say"),
    ],
)
def test_bad_article_is_one_error_line_and_keeps_the_scripts(
    tmp_path: Path, name: str, content: str, says: str
) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    kept = scripts / "01-old.txt"
    kept.write_text("an earlier script\n", encoding="utf-8")
    (tmp_path / name).write_text(content, encoding="utf-8")
    run = _cli("import", name, cwd=tmp_path)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert says in lines[0] and name in lines[0] and "Traceback" not in run.stderr
    assert kept.read_text(encoding="utf-8") == "an earlier script\n"
    assert sorted(p.name for p in scripts.iterdir()) == ["01-old.txt"]
