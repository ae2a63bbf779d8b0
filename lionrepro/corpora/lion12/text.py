"""Sentences for Lion-12, generated per language from `wordfreq`'s frequency lists (no text copied from a corpus).

Why random word sequences over a small vocabulary: a tiny ASR model trained for minutes on 2 CPU cores only learns to
generalise when the vocabulary is small (about 120 words per language) and the sentences are many and distinct. Every
sentence of a language is unique across all of that language's datasets and splits, so no test sentence is ever seen
in training. Mandarin is simplified Hanzi with no spaces, Tamil is Tamil script, English and Malay are lower-case
Latin; English and Malay drop the words their frequency lists share (`the`, `in`, `data`, ...) so that each sentence
reads as one language only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

import numpy as np
from opencc import OpenCC
from wordfreq import top_n_list

# Words per language considered before filtering: the filters keep well over 300 of them in every language.
_CANDIDATES = 2000
# English and Malay drop every word that is among the other language's most frequent words.
_SHARED_WITH = {"en": "ms", "ms": "en"}
_SHARED_DEPTH = 1000
_SEPARATOR = {"en": " ", "ms": " ", "ta": " ", "zh": ""}

_LATIN_WORD = re.compile(r"[a-z]*[aeiouy][a-z]*")  # a vowel rules out abbreviations such as "mr", read "mister"
_TAMIL_WORD = re.compile(r"[\u0b80-\u0bff]{3,}")  # Tamil block only; 3+ code points rules out initials such as "பி"
_HANZI_WORD = re.compile(r"[\u4e00-\u9fff]+")


@cache
def _to_simplified() -> Callable[[str], str]:
    return OpenCC("t2s").convert


def _is_word(code: str, word: str) -> bool:
    if code in ("en", "ms"):
        return len(word) >= 2 and _LATIN_WORD.fullmatch(word) is not None
    if code == "ta":
        return _TAMIL_WORD.fullmatch(word) is not None
    if code == "zh":
        return _HANZI_WORD.fullmatch(word) is not None and _to_simplified()(word) == word
    raise ValueError(f"no word filter for language {code!r}")


@cache
def vocabulary(code: str, size: int) -> tuple[str, ...]:
    """The `size` most frequent usable words of a language, most frequent first."""
    other = _SHARED_WITH.get(code)
    shared = set(top_n_list(other, _SHARED_DEPTH, wordlist="small")) if other else set()
    words = [w for w in top_n_list(code, _CANDIDATES, wordlist="small") if _is_word(code, w) and w not in shared]
    if len(words) < size:
        raise ValueError(f"only {len(words)} usable {code} words in wordfreq's list; asked for {size}")
    return tuple(words[:size])


class SentencePool:
    """Draws sentences of one language, each distinct from every sentence drawn before from this pool."""

    def __init__(self, code: str, vocabulary_size: int, rng: np.random.Generator) -> None:
        self.words = vocabulary(code, vocabulary_size)
        self.separator = _SEPARATOR[code]
        self.rng = rng
        self.seen: set[str] = set()

    def draw(self, n: int, words: tuple[int, int]) -> list[str]:
        """`n` new sentences of `words[0]`..`words[1]` words each (inclusive), uniformly over the vocabulary."""
        low, high = words
        sentences: list[str] = []
        attempts = 0
        while len(sentences) < n:
            attempts += 1
            if attempts > 20 * n + 1000:
                raise ValueError(
                    f"cannot draw {n} distinct sentences of {low}-{high} words from {len(self.words)} words: "
                    "raise the vocabulary size or lower the scale"
                )
            length = int(self.rng.integers(low, high + 1))
            sentence = self.separator.join(self.words[i] for i in self.rng.integers(0, len(self.words), length))
            if sentence not in self.seen:
                self.seen.add(sentence)
                sentences.append(sentence)
        return sentences
