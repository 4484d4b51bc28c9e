"""English tech words read the way people say them (pure text rules)."""

from __future__ import annotations

import pytest

from pangocast.voice.english import english_reading


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("GitHub", "Git Hub"),
        ("Kubernetes", "Kubernetes"),
        ("K8s", "K eights"),
        ("UK8S", "U K eight S"),
        ("i18n", "I 18 N"),
        ("API", "eh P I"),
        ("APIs", "eh P I's"),
        ("AWS", "eh W S"),
        ("REST API", "REST eh P I"),
        ("JSON", "JSON"),
        ("v2.1", "version 2.1"),
        ("V3", "version 3"),
        ("SOFAStack", "Sofa Stack"),
        ("SOFA", "Sofa"),
        ("gVisor", "G Visor"),
        ("runV", "run V"),
        ("DevOps", "Dev Ops"),
        ("iOS", "I O S"),
        ("IPv6", "I P V 6"),
        ("KUBERNETES", "kubernetes"),
        ("Service Mesh", "Service Mesh"),
        ("PaaS", "Pass"),
        ("CI/CD", "C I C D"),
        ("IaaS", "I as"),
        ("it's", "it's"),
        ("We shipped v2.1 on GitHub.", "We shipped version 2.1 on Git Hub."),
        ("I think so, a bit.", "I think so, a bit."),
    ],
)
def test_reading(written: str, said: str) -> None:
    assert english_reading(written) == said
    assert english_reading(said) == said  # idempotent


def test_numbers_and_punctuation_are_left_to_the_voice() -> None:
    text = "In 2019, about 120 people came; 35.5% stayed!"
    assert english_reading(text) == text
