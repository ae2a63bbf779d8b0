"""Implicit language identification of hypotheses: script for Mandarin and Tamil, lingua for English vs Malay."""

import random

import pytest

from lionrepro.asr.language_id import script_counts, spoken_language_share, written_language
from lionrepro.corpora.lion12.text import vocabulary


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the cat sat on the mat with his friend", "en"),
        ("saya tak boleh pergi dengan dia hari ini", "ms"),
        ("我们今天在学校学习中文", "zh"),
        ("我們今天在學校學習中文", "zh"),  # Traditional characters are Han too
        ("நான் இந்த புத்தகம் படிக்கிறேன்", "ta"),
        ("我们 ok 今天", "zh"),  # the most common script decides: 4 Han letters, 2 Latin
        ("நான் ok", "ta"),
    ],
)
def test_each_language_is_recognised_in_its_script(text, expected):
    assert written_language(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "123 456", "?!.,", "ab 我们"])  # the last: a tie between scripts
def test_text_without_a_dominant_script_is_in_no_language(text):
    assert written_language(text) is None


def test_tamil_vowel_signs_count_as_tamil_though_they_are_not_letters():
    text = "கி"  # KA + vowel sign I (a combining mark: not alphabetic)
    assert not text[1].isalpha()
    assert script_counts(text) == {"ta": 2}


@pytest.mark.parametrize("code", ["en", "zh", "ta", "ms"])
def test_sentences_from_lion12_vocabularies_are_identified(code):
    """Six-word sentences drawn from each language's Lion-12 vocabulary, as a trained model would write them."""
    words = vocabulary(code, 120)
    rng = random.Random(0)
    joiner = "" if code == "zh" else " "
    sentences = [joiner.join(rng.choices(words, k=6)) for _ in range(100)]
    right = sum(written_language(s) == code for s in sentences)
    assert right >= 97, f"{code}: {right}/100"


def test_shares_overall_and_per_language_by_hand():
    pairs = [("en", "en"), ("en", "ms"), ("ms", "ms"), ("zh", "zh"), ("zh", None), ("zh", "zh"), ("ta", "zh")]
    shares = spoken_language_share(pairs)
    assert shares["overall"] == pytest.approx(4 / 7)
    assert shares["per_language"] == pytest.approx({"en": 0.5, "ms": 1.0, "ta": 0.0, "zh": 2 / 3})
    assert shares["counts"]["zh"] == {"in_spoken_language": 2, "utterances": 3}


def test_shares_of_nothing_are_refused():
    with pytest.raises(ValueError, match="no utterances"):
        spoken_language_share([])
