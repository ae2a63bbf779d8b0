"""Golden cases for the one scorer: per-language normalisation and corpus-level WER/CER (counts by hand)."""

from __future__ import annotations

import unicodedata

import pytest
from whisper_normalizer.basic import BasicTextNormalizer

from lionrepro.asr.scoring import EVALKIT, ErrorCounts, error_rate, evalkit_normalize, normalize, score

# --- normalisation ---


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Smith won't pay.", "mister smith will not pay"),
        ("I have twenty five apples", "i have 25 apples"),
        ("I'm gonna do it", "i am going to do it"),
        ("colour", "color"),
        ("Dr. Tan [noise] (laughs) okay", "doctor tan okay"),
        ("uh um hmm yes", "yes"),  # fillers dropped
        ("one", "one"),  # a lone "one" stays a word ...
        ("twenty one", "21"),  # ... but number phrases become digits
        ("It's 10 o'clock", "it is 100 clock"),  # Whisper's quirk: the "o" of o'clock is read as a zero
        ("he's gone", "he has gone"),  # "'s" before a participle is expanded to "has"
    ],
)
def test_english_uses_whisper_normaliser(text: str, expected: str) -> None:
    assert normalize(text, "en") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Saya suka makan nasi lemak, ya!", "saya suka makan nasi lemak ya"),
        ("Kanak-kanak itu (ketawa) bermain.", "kanak kanak itu bermain"),  # hyphen splits; annotation removed
        ('  Dia   berkata: "Ke mana?"  ', "dia berkata ke mana"),
        ("Harga RM10,000 sahaja.", "harga rm10 000 sahaja"),  # the thousands comma is punctuation too
        ("ＳＡＹＡ　Ｐｅｒｇｉ", "saya pergi"),  # full-width letters and space (NFKC)
    ],
)
def test_malay_basic_rules(text: str, expected: str) -> None:
    assert normalize(text, "ms") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("語音識別", "语音识别"),  # Traditional -> Simplified
        ("頭髮乾燥", "头发干燥"),
        ("你好，世界！「對」", "你好世界对"),  # full-width punctuation removed
        ("我用 Python 写代码。", "我用python写代码"),  # code-switched word kept, lowercased, no spaces
        # full-width letters, digits and space -> half-width, space removed
        ("ＡＩ模型　１２３", "ai模型123"),
    ],
)
def test_mandarin_rules(text: str, expected: str) -> None:
    assert normalize(text, "zh") == expected


def test_traditional_and_simplified_score_the_same() -> None:
    assert normalize("語音識別", "zh") == normalize("语音识别", "zh")
    assert error_rate(["语音识别"], ["語音識別"], "zh") == 0.0


def test_tamil_keeps_vowel_signs_and_virama() -> None:
    out = normalize("தமிழ் மொழி!", "ta")
    assert out == "தமிழ் மொழி"
    assert out.split() == ["தமிழ்", "மொழி"]
    assert "\u0bbf" in out and "\u0bcd" in out and "\u0bca" in out  # vowel sign I, virama, vowel sign O


def test_whisper_basic_normaliser_splits_tamil_words_but_ours_does_not() -> None:
    text = "நான் தமிழ் பேசுகிறேன்"  # "I speak Tamil": 3 words
    whisper_words = BasicTextNormalizer()(text).split()
    # Whisper's default turns every mark (vowel sign, virama) into a space: 3 words become 9 fragments.
    assert whisper_words == ["ந", "ன", "தம", "ழ", "ப", "ச", "க", "ற", "ன"]
    assert not any(unicodedata.category(c).startswith("M") for c in "".join(whisper_words))
    assert normalize(text, "ta").split() == ["நான்", "தமிழ்", "பேசுகிறேன்"]


def test_tamil_decomposed_vowel_sign_equals_composed() -> None:
    composed = "ம\u0bcaழி"  # MA + VOWEL SIGN O + ZHA + VOWEL SIGN I
    decomposed = "ம\u0bc6\u0bbeழி"  # MA + VOWEL SIGN E + VOWEL SIGN AA + ...: canonically equal
    assert composed != decomposed
    assert normalize(decomposed, "ta") == composed
    assert error_rate([composed], [decomposed], "ta") == 0.0


def test_language_names_resolve() -> None:
    assert normalize("語音", "Mandarin") == normalize("語音", "Chinese") == normalize("語音", "zh") == "语音"
    assert score(["a"], ["a"], "English").language == "en"


def test_unknown_language_raises() -> None:
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        normalize("bonjour", "fr")
    with pytest.raises(ValueError, match="unknown language 'klingon'"):
        score(["a"], ["a"], "klingon")


# --- golden error counts ---

GOLDEN = [
    # (language, references, hypotheses, (S, D, I, N), percent)
    # b->x is S, d is deleted, g is inserted; N = 4 + 2 words: 3/6 = 50 %.
    ("en", ["a b c d", "e f"], ["a x c", "e f g"], (1, 1, 1, 6), 50.0),
    # equal after normalisation (5 + 4 words): "Mr." = "mister", "won't" = "will not", "twenty five" = "25".
    (
        "en",
        ["Mr. Smith won't pay.", "I have twenty five apples"],
        ["mister smith will not pay", "i have 25 apples"],
        (0, 0, 0, 9),
        0.0,
    ),
    # "the" -> "a" is one substitution over 6 words: 1/6.
    ("en", ["The cat sat on the mat."], ["the cat sat on a mat"], (1, 0, 0, 6), 100 / 6),
    # "ke" deleted, "semalam" -> "malam" substituted, over 5 words: 2/5 = 40 %.
    ("ms", ["Dia pergi ke pasar semalam."], ["dia pergi pasar malam"], (1, 1, 0, 5), 40.0),
    # "kanak-kanak" and "kanak kanak" both become two words; "itu" deleted: 1/4 = 25 %.
    ("ms", ["Kanak-kanak itu bermain."], ["kanak kanak bermain"], (0, 1, 0, 4), 25.0),
    # a dropped virama (தமிழ் -> தமிழ) is a different word: 1 substitution over 3 words.
    ("ta", ["நான் தமிழ் பேசுகிறேன்."], ["நான் தமிழ பேசுகிறேன்"], (1, 0, 0, 3), 100 / 3),
    # two missing words out of 2 + 2: 2/4 = 50 %.
    ("ta", ["வணக்கம் உலகம்", "தமிழ் மொழி"], ["வணக்கம்", "மொழி"], (0, 2, 0, 4), 50.0),
    # 气 -> 器 is S, 吧 is inserted; N = 6 + 5 characters: 2/11.
    ("zh", ["今天天气很好", "我们去公园"], ["今天天器很好", "我们去公园吧"], (1, 0, 1, 11), 200 / 11),
    # each letter of a code-switched word is a unit: 我用 + python (6) + 写代码 = 11; "python" -> 派森 is
    # 2 substitutions + 4 deletions: 6/11.
    ("zh", ["我用 Python 写代码。"], ["我用派森写代码"], (2, 4, 0, 11), 600 / 11),
    # spaces and punctuation are not units: 你好世界 on both sides, 0/4.
    ("zh", ["你 好，世界！"], ["你好 世界"], (0, 0, 0, 4), 0.0),
]


@pytest.mark.parametrize(("lang", "refs", "hyps", "counts", "percent"), GOLDEN)
def test_golden_counts(
    lang: str, refs: list[str], hyps: list[str], counts: tuple[int, int, int, int], percent: float
) -> None:
    result = score(refs, hyps, lang)
    assert (result.substitutions, result.deletions, result.insertions, result.reference_units) == counts
    assert result.hits == result.reference_units - result.substitutions - result.deletions
    assert result.utterances == len(refs)
    assert result.dropped_empty_references == 0
    assert result.error_rate == pytest.approx(percent, abs=1e-9)
    assert error_rate(refs, hyps, lang) == pytest.approx(percent, abs=1e-9)


def test_metric_follows_language() -> None:
    assert score(["a"], ["a"], "en").metric == "wer"
    assert score(["a"], ["a"], "ta").metric == "wer"
    assert score(["a"], ["a"], "ms").metric == "wer"
    assert score(["好"], ["好"], "zh").metric == "cer"


def test_corpus_level_is_not_mean_of_utterances() -> None:
    refs = ["a", "b c d e f g h i j"]
    hyps = ["x", "b c d e f g h i j"]
    # per utterance: 1/1 = 100 % and 0/9 = 0 %, mean 50 %; corpus: 1 edit over 10 words = 10 %.
    mean_of_utterances = sum(error_rate([r], [h], "en") for r, h in zip(refs, hyps, strict=True)) / len(refs)
    assert mean_of_utterances == 50.0
    assert error_rate(refs, hyps, "en") == 10.0


def test_empty_hypothesis_is_all_deletions() -> None:
    result = score(["a b c"], [""], "en")
    assert (result.substitutions, result.deletions, result.insertions, result.hits) == (0, 3, 0, 0)
    assert result.error_rate == 100.0
    assert error_rate(["你好"], ["。"], "zh") == 100.0  # punctuation-only hypothesis normalises to empty


def test_empty_references_are_dropped_and_counted() -> None:
    # "" and "(noise)" normalise to empty: dropped with their hypotheses (whose words would be insertions).
    result = score(["", "(noise)", "a b"], ["x", "y z", "a c"], "en")
    assert result.dropped_empty_references == 2
    assert result.utterances == 1
    assert (result.substitutions, result.deletions, result.insertions, result.reference_units) == (1, 0, 0, 2)
    assert result.error_rate == 50.0


def test_all_references_empty_raises_instead_of_nan() -> None:
    result = score(["", "！"], ["a", "b"], "zh")
    assert (result.utterances, result.dropped_empty_references, result.reference_units) == (0, 2, 0)
    with pytest.raises(ValueError, match="all 2 references were empty"):
        _ = result.error_rate
    with pytest.raises(ValueError, match="all 2 references were empty"):
        error_rate(["", "！"], ["a", "b"], "zh")


def test_mismatched_lengths_raise() -> None:
    with pytest.raises(ValueError, match="got 2 references but 1 hypotheses"):
        score(["a", "b"], ["a"], "en")


def test_adding_counts_equals_scoring_the_concatenation() -> None:
    refs_a, hyps_a = ["a b c d", "", "e f"], ["a x c", "q", "e f g"]
    refs_b, hyps_b = ["g h i"], ["g h i j k"]
    total = score(refs_a, hyps_a, "en") + score(refs_b, hyps_b, "en")
    assert total == score(refs_a + refs_b, hyps_a + hyps_b, "en")
    # S=1, D=1, I=1+2, N=6+3, one empty reference dropped: 5/9.
    assert (total.insertions, total.reference_units) == (3, 9)
    assert (total.utterances, total.dropped_empty_references) == (3, 1)
    assert total.error_rate == pytest.approx(500 / 9)


def test_adding_counts_of_different_languages_raises() -> None:
    with pytest.raises(ValueError, match="cannot add en/wer counts to zh/cer counts"):
        _ = score(["a"], ["a"], "en") + score(["好"], ["好"], "zh")


def test_error_counts_are_frozen() -> None:
    result = score(["a"], ["a"], "en")
    assert isinstance(result, ErrorCounts)
    with pytest.raises(AttributeError):
        result.hits = 0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),  # lowercase, punctuation gone
        ("ＡＢＣ，ｄｅｆ。", "abc def"),  # full-width to half-width; CJK punctuation gone too
        ("我 爱 你 ok 你 好", "我爱你 ok 你好"),  # spaces between CJK characters joined, others kept
        ("e\u0301te\u0301", "\u00e9t\u00e9"),  # NFC composes
        ("வணக்கம், உலகம்!", "வணக்கம் உலகம்"),  # Tamil marks kept (they are not punctuation)
        ("  ", ""),
    ],
)
def test_the_evalkit_normaliser(text, expected):
    assert evalkit_normalize(text) == expected


def test_the_two_normalisers_score_the_same_pairs_differently_and_both_are_reported():
    references, hypotheses = ["Mr. Smith's car, it's red."], ["mister smiths car it is red"]
    ours, theirs = score(references, hypotheses, "en"), score(references, hypotheses, "en", EVALKIT)
    assert ours.error_rate < theirs.error_rate  # Whisper's English rules forgive the spelling; evalkit does not
    with pytest.raises(ValueError, match="unknown normaliser"):
        score(references, hypotheses, "en", "nope")
