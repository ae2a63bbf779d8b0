"""Table 3's protocol: clips shaped like the paper's test sets, each decoding as many tokens as its reference has.

The paper timed each model on its real test sets, so every clip decodes what that model emits for it. With random
weights a model never stops by itself, so each clip decodes the length a correct transcript would have: its duration
times its language's rate of Qwen-tokenizer tokens per second of speech, plus Qwen3-ASR's framing
(`language X<asr_text>` and the end of turn). Those rates are assumptions, not measurements (the tokenizer and the
real transcripts are not available offline): read speech runs at ~2.5 words/s (English, Malay) or ~4 characters/s
(Mandarin); Qwen's byte-level BPE spends ~1.2 tokens on an English word, ~1.4 on a Malay one, ~0.9 on a Han
character and ~5 on a Tamil word, whose script it splits into bytes. With real checkpoints, the lengths they actually
produce replace these.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass

from lionrepro import paper

# Tokens per second of speech under Qwen's tokenizer, per language code (see the module docstring: assumed)
TOKENS_PER_SECOND = {"en": 3.0, "ms": 3.5, "zh": 3.6, "ta": 10.0}
FRAMING_TOKENS = 5  # "language", the language's name, "<asr_text>", <|im_end|>, end of text


@dataclass(frozen=True)
class Clip:
    """One clip of the protocol: the test set it stands for, its duration and the tokens it decodes."""

    dataset: str
    language: str  # code
    duration_s: float
    tokens: int

    def as_dict(self) -> dict:
        return asdict(self)


def reference_tokens(language: str, duration_s: float) -> int:
    """Tokens a correct Qwen3-ASR transcript of a clip has (assumed rates, see the module docstring)."""
    return FRAMING_TOKENS + max(1, round(TOKENS_PER_SECOND[language] * duration_s))


def protocol_clips(n: int, seed: int = 0, split: str = "test") -> list[Clip]:
    """`n` clips like the paper's test sets: each of Table 1's datasets gets clips in proportion to its utterance
    count (largest remainders), each as long as that dataset's mean utterance; shuffled by seed."""
    rows = paper.table1()
    total = sum(row.samples[split] for row in rows)
    quotas = [n * row.samples[split] / total for row in rows]
    counts = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(rows)), key=lambda i: quotas[i] - counts[i], reverse=True)
    for i in by_remainder[: n - sum(counts)]:
        counts[i] += 1
    clips = []
    for row, count in zip(rows, counts, strict=True):
        duration = round(float(row.hours[split]) * 3600 / row.samples[split], 2)
        clip = Clip(row.dataset, row.language.code, duration, reference_tokens(row.language.code, duration))
        clips.extend([clip] * count)
    random.Random(seed).shuffle(clips)
    return clips
