"""One scorer for every test set: per-language text normalisation, then corpus-level WER or CER with jiwer.

Hypotheses are stored raw and normalised only here, at scoring time (as huggingface/open_asr_leaderboard
does), so a change of normaliser never needs a re-decode and every number follows the same rules:

- English: Whisper's English normaliser (spelling, numbers, contractions, titles, fillers).
- Malay: Whisper's basic normaliser (lowercase, NFKC, bracketed annotations removed, punctuation and
  symbols replaced by spaces) with Unicode marks kept.
- Tamil: the same, and keeping the marks matters: Tamil vowel signs and the virama are marks, and Whisper's
  default basic normaliser turns them into spaces, splitting every word apart.
- Mandarin (CER): the same basic rules, then Traditional -> Simplified (OpenCC `t2s`) and all whitespace
  removed, so that only characters count as units (each letter of a code-switched Latin word counts as one).

Error rates are corpus level: total edits over total reference units, never a mean of per-utterance rates.
Pairs whose normalised reference is empty cannot be scored as a rate; they are dropped and counted, not lost.

The paper scored Table 2 with the authors' asr-evalkit, whose normaliser is known only from a third-party copy: NFC,
full-width to half-width, lowercase, punctuation stripped, spaces collapsed, CJK characters joined. `EVALKIT` is that
reading, scored side by side with ours (`PROJECT`), so that a few points between normalisers are never taken for a
difference between models.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jiwer
import opencc
from whisper_normalizer.basic import BasicTextNormalizer
from whisper_normalizer.english import EnglishTextNormalizer

from lionrepro.languages import language as resolve_language

_ENGLISH = EnglishTextNormalizer()
_BASIC = BasicTextNormalizer(preserve_marks=True)
_TO_SIMPLIFIED = opencc.OpenCC("t2s")


PROJECT, EVALKIT = "project", "asr-evalkit"
NORMALISERS = (PROJECT, EVALKIT)
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_BETWEEN_CJK = re.compile(rf"(?<={_CJK}) (?={_CJK})")


def evalkit_normalize(text: str) -> str:
    """The asr-evalkit reading (a third-party copy): NFC, full-width -> half-width, lowercase, punctuation removed,
    whitespace collapsed, the spaces between two CJK characters removed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(chr(ord(c) - 0xFEE0) if 0xFF01 <= ord(c) <= 0xFF5E else " " if c == "\u3000" else c for c in text)
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text.lower())
    return _BETWEEN_CJK.sub("", " ".join(text.split()))


def normalize(text: str, language: str, normaliser: str = PROJECT) -> str:
    """Normalise a reference or hypothesis for scoring in `language` (a code or an English name), with this
    project's per-language rules or, as a check on them, asr-evalkit's."""
    if normaliser == EVALKIT:
        return evalkit_normalize(text)
    if normaliser != PROJECT:
        raise ValueError(f"unknown normaliser {normaliser!r}: use one of {NORMALISERS}")
    code = resolve_language(language).code
    if code == "en":
        return _ENGLISH(text).strip()
    basic = _BASIC(text)
    if code == "zh":
        return "".join(_TO_SIMPLIFIED.convert(basic).split())
    return basic.strip()


@dataclass(frozen=True)
class ErrorCounts:
    """Edit counts of one scoring run; add the counts of shards or datasets to get their corpus-level rate."""

    language: str  # code
    metric: str  # "wer" or "cer"
    substitutions: int
    deletions: int
    insertions: int
    hits: int
    reference_units: int  # words (wer) or characters (cer) of the scored references
    utterances: int  # pairs scored
    dropped_empty_references: int  # pairs left out because their normalised reference was empty

    @property
    def error_rate(self) -> float:
        """Percent: (S + D + I) / reference units * 100."""
        if self.reference_units == 0:
            raise ValueError(
                f"no reference units to score ({self.language}): all {self.dropped_empty_references} "
                "references were empty after normalisation"
            )
        return 100.0 * (self.substitutions + self.deletions + self.insertions) / self.reference_units

    def __add__(self, other: ErrorCounts) -> ErrorCounts:
        if (self.language, self.metric) != (other.language, other.metric):
            raise ValueError(
                f"cannot add {self.language}/{self.metric} counts to {other.language}/{other.metric} counts"
            )
        return ErrorCounts(
            language=self.language,
            metric=self.metric,
            substitutions=self.substitutions + other.substitutions,
            deletions=self.deletions + other.deletions,
            insertions=self.insertions + other.insertions,
            hits=self.hits + other.hits,
            reference_units=self.reference_units + other.reference_units,
            utterances=self.utterances + other.utterances,
            dropped_empty_references=self.dropped_empty_references + other.dropped_empty_references,
        )


def score(references: list[str], hypotheses: list[str], language: str, normaliser: str = PROJECT) -> ErrorCounts:
    """Normalise both sides and count edits over the whole corpus (words for WER, characters for CER)."""
    if len(references) != len(hypotheses):
        raise ValueError(
            f"got {len(references)} references but {len(hypotheses)} hypotheses; they must pair up one to one"
        )
    lang = resolve_language(language)
    pairs = [
        (normalize(r, lang.code, normaliser), normalize(h, lang.code, normaliser))
        for r, h in zip(references, hypotheses, strict=True)
    ]
    kept = [(r, h) for r, h in pairs if r]
    s = d = i = hits = 0
    if kept:  # jiwer 3 rejects empty inputs
        process = jiwer.process_characters if lang.metric == "cer" else jiwer.process_words
        out = process([r for r, _ in kept], [h for _, h in kept])
        s, d, i, hits = out.substitutions, out.deletions, out.insertions, out.hits
    return ErrorCounts(
        language=lang.code,
        metric=lang.metric,
        substitutions=s,
        deletions=d,
        insertions=i,
        hits=hits,
        reference_units=s + d + hits,
        utterances=len(kept),
        dropped_empty_references=len(pairs) - len(kept),
    )


def error_rate(references: list[str], hypotheses: list[str], language: str) -> float:
    """Corpus-level WER (en, ta, ms) or CER (zh) in percent."""
    return score(references, hypotheses, language).error_rate
