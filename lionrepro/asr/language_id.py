"""Implicit language identification: which of the four languages a hypothesis is written in.

The paper's recipe never tells the model the language (no tags in training, none forced at inference), so whether
it answers in the spoken language is a result, measured here on its hypotheses alone (the text it wrote, not the
`language X` prefix it may also have written):

- Mandarin and Tamil have scripts of their own: a hypothesis is Mandarin when Han characters are the most common
  letters in it, Tamil when characters of the Tamil block are.
- English and Malay share the Latin script, so a Latin hypothesis goes to lingua-language-detector, restricted to
  English and Malay: among all languages, lingua reads Malay as Indonesian (the two share most of their
  vocabulary), and restricted to the four languages it would be asked a question the script already answered.

A hypothesis with no letters (empty, digits, punctuation) is in no language, so it never counts as right.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

# (first, last) code points of each script's blocks
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2FA1F))
_TAMIL = ((0x0B80, 0x0BFF),)
_LATIN = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F))  # ASCII letters, Latin-1 and Latin Extended-A/B
_SCRIPTS = {"zh": _HAN, "ta": _TAMIL, "latin": _LATIN}
_LATIN_LANGUAGES = {Language.ENGLISH: "en", Language.MALAY: "ms"}


def _script_of(char: str) -> str | None:
    point = ord(char)
    for script, blocks in _SCRIPTS.items():
        if any(first <= point <= last for first, last in blocks):
            return script
    return None


def script_counts(text: str) -> Counter[str]:
    """Characters of `text` per script ("zh" for Han, "ta" for Tamil, "latin"); other characters are not counted.

    Tamil vowel signs and the virama are marks, not letters (`str.isalpha` is False for them), so characters are
    counted by code block, not by Unicode category.
    """
    return Counter(script for script in map(_script_of, text) if script is not None)


@cache
def _latin_detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_LATIN_LANGUAGES).build()


def written_language(text: str) -> str | None:
    """The language code (en, zh, ta, ms) `text` is written in, or None when it has no letters of the three scripts.

    The most common script decides (a tie between scripts is no decision); Latin text is English or Malay as lingua
    says.
    """
    ranked = script_counts(text).most_common(2)
    if not ranked or (len(ranked) == 2 and ranked[0][1] == ranked[1][1]):
        return None
    script = ranked[0][0]
    if script != "latin":
        return script
    detected = _latin_detector().detect_language_of(text)
    return _LATIN_LANGUAGES.get(detected) if detected is not None else None


def spoken_language_share(pairs: Iterable[tuple[str, str | None]]) -> dict[str, object]:
    """Share of hypotheses written in the spoken language, overall and per spoken language.

    `pairs` are (spoken language code, written language code or None) per utterance. Shares are fractions in [0, 1];
    `counts` gives the numerators and denominators behind them.
    """
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for spoken, written in pairs:
        total[spoken] += 1
        right[spoken] += written == spoken
    if not total:
        raise ValueError("no utterances to identify the language of")
    return {
        "overall": sum(right.values()) / sum(total.values()),
        "per_language": {code: right[code] / total[code] for code in sorted(total)},
        "counts": {code: {"in_spoken_language": right[code], "utterances": total[code]} for code in sorted(total)},
    }
