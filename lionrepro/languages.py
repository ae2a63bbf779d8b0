"""The four languages of the paper: one place for their codes, names and the metric each is scored with."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, as used in file names and configs
    name: str  # as in the paper and in Qwen3-ASR's `language X<asr_text>` prefix
    metric: str  # "wer" or "cer"


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English", "wer"),
    "zh": Language("zh", "Mandarin", "cer"),
    "ta": Language("ta", "Tamil", "wer"),
    "ms": Language("ms", "Malay", "wer"),
}
# Qwen3-ASR writes "Chinese" in its prefix for Mandarin; both names must resolve.
_ALIASES = {"chinese": "zh", "cmn": "zh", "mandarin": "zh", "english": "en", "tamil": "ta", "malay": "ms"}


def language(code_or_name: str) -> Language:
    """Resolve `en`/`zh`/`ta`/`ms` or an English name (any case) to its Language; a clear error otherwise."""
    key = code_or_name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in LANGUAGES:
        known = ", ".join(f"{c} ({lang.name})" for c, lang in LANGUAGES.items())
        raise ValueError(f"unknown language {code_or_name!r}; expected one of {known}")
    return LANGUAGES[key]


def names_a_language(text: str) -> bool:
    """Whether a word of `text` is a language's name or code (English, Chinese, Mandarin, zh, ...): what a language
    tag would have to contain. Words are runs of letters, so `<|im_start|>user` reads as `im`, `start`, `user`."""
    return any(word.lower() in _ALIASES or word.lower() in LANGUAGES for word in re.findall(r"[A-Za-z]+", text))
