from __future__ import annotations

from pathlib import Path

import pytest

from pangocast.core.errors import ConfigError
from pangocast.core.models import Turn
from pangocast.voice.casting import load_casting
from pangocast.voice.lexicon import Lexicon, load_lexicon
from pangocast.voice.plan import Planner
from tests.fakes import FakeToneEngine

ROOT = Path(__file__).resolve().parent.parent


def test_scopes_narrower_wins() -> None:
    lex = Lexicon(
        global_terms={"K8S": "Kubernetes", "SOFA": "Sofa"},
        engine_terms={"neural": {"SOFA": "So fa"}},
        voice_terms={"v2": {"SOFA": "Soapha"}},
    )
    assert lex.apply("SOFA 和 K8S", "espeak", "v1") == "Sofa 和 Kubernetes"
    assert lex.apply("SOFA 和 K8S", "neural", "v1") == "So fa 和 Kubernetes"
    assert lex.apply("SOFA 和 K8S", "neural", "v2") == "Soapha 和 Kubernetes"


def test_latin_terms_match_whole_words_and_longest_first() -> None:
    lex = Lexicon(
        global_terms={
            "K8S": "Kubernetes",
            "UK8S": "U K 8 S",
            "SOFA": "Sofa",
            "SOFAStack": "Sofa Stack",
        }
    )
    assert lex.apply("UK8S 基于 K8S", "e", "v") == "U K 8 S 基于 Kubernetes"
    assert lex.apply("SOFAStack 与 SOFA,SOFAX", "e", "v") == "Sofa Stack 与 Sofa,SOFAX"


def test_cjk_terms_match_anywhere() -> None:
    lex = Lexicon(global_terms={"四爷": "四爷爷"})
    assert lex.apply("四爷说", "e", "v") == "四爷爷说"


def test_bundled_lexicon_and_the_english_rules_cover_the_columns_terms() -> None:
    from pangocast.voice.english import english_reading

    lex = load_lexicon(ROOT / "voices")
    said = {
        "K8S": "Kubernetes", "UK8S": "U K eight S", "SOFA": "Sofa", "SOFAStack": "Sofa Stack",
        "SOFARPC": "Sofa R P C", "Seata": "See-ta", "runV": "run V", "gVisor": "G Visor",
        "DPDK": "D P D K", "PaaS": "Pass", "FaaS": "Fass", "IPtables": "I P tables",
        "KubeCon": "Kube Con", "Github": "Git Hub", "AWS": "eh W S",
    }  # fmt: skip
    for term, expected in said.items():
        assert english_reading(lex.apply(term, "neural", "baker")) == expected, term


def test_bad_lexicon_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "lexicon.toml").write_text("[global]\nK8S = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lexicon entry global\.K8S"):
        load_lexicon(tmp_path)


def test_missing_lexicon_is_empty(tmp_path: Path) -> None:
    assert load_lexicon(tmp_path).apply("K8S", "e", "v") == "K8S"


def test_lexicon_change_marks_exactly_the_affected_segments_stale_fake_engine() -> None:
    rules = load_casting(ROOT / "voices").for_engine("neural")
    voice = rules.narrator
    turn = Turn("speech", "narrator", "旁白", "我们用 K8S。今天天气很好。SOFA 也在。")
    before = Planner(FakeToneEngine(), rules, Lexicon(global_terms={"K8S": "Kubernetes"}))
    after = Planner(FakeToneEngine(), rules, Lexicon(global_terms={"K8S": "Kube", "SOFA": "Sofa"}))
    a = [s.job.key for s in before.plan_turn(turn, voice).sentences if s.job]
    b = [s.job.key for s in after.plan_turn(turn, voice).sentences if s.job]
    assert len(a) == len(b) == 3
    assert [x == y for x, y in zip(a, b, strict=True)] == [False, True, False]
