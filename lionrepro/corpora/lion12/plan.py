"""What Lion-12 holds, decided before any audio exists: split sizes from Table 1, then every utterance's text and voice.

Sizes are Table 1's counts times one `scale`, rounded, with a floor per split so that the smallest test sets still
give a meaningful error rate; above the floors the paper's imbalance across datasets and languages is kept, which is
what Algorithm 1 has to fix. Sentence lengths follow each corpus's mean utterance duration in Table 1, mapped into a
short per-language word range so that utterances stay about 1-4 s long.

Besides Table 1's splits, the plan holds a `pretrain` split: the stand-in for the data a released Qwen3-ASR was trained
on before anyone fine-tunes it. It has `pretrain_per_language` sentences in each of `pretrain_languages`, drawn after
every Table 1 sentence (so each is distinct from every test, valid and train sentence), dealt round-robin over the
language's datasets and read by their training speakers only: the held-out test voices stay unheard.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from lionrepro import paper
from lionrepro.corpora.lion12.synth import Utterance
from lionrepro.corpora.lion12.text import SentencePool
from lionrepro.corpora.lion12.voices import STYLES, dataset_slug, deal_speakers

# Words per sentence per language (inclusive): Tamil words cost many tokens, so Tamil sentences are short.
WORD_RANGE: dict[str, tuple[int, int]] = {"en": (4, 9), "zh": (4, 8), "ta": (3, 5), "ms": (4, 8)}
_SPREAD = 2  # a dataset's sentences vary by this many words around its own length
_HELDOUT_SHARE = 3  # every third test utterance is read by the held-out speaker
_PITCH_JITTER, _RATE_JITTER = 3, 0.06


@dataclass(frozen=True)
class PlanConfig:
    scale: float
    seed: int
    vocab_size: int
    min_samples: dict[str, int]  # floor per split
    pretrain_per_language: int = 0
    pretrain_languages: tuple[str, ...] = ()


PRETRAIN_SPLIT = "pretrain"


def split_sizes(scale: float, min_samples: dict[str, int]) -> dict[tuple[str, str], dict[str, int]]:
    """Utterances per (language code, dataset) and split: round(scale x Table 1), at least the split's floor."""
    return {
        (row.language.code, row.dataset): {
            split: max(min_samples[split], round(Decimal(str(scale)) * row.samples[split])) for split in paper.SPLITS
        }
        for row in paper.table1()
    }


def word_ranges() -> dict[tuple[str, str], tuple[int, int]]:
    """Each dataset's words per sentence: longer where Table 1's mean training utterance is longer."""
    mean_seconds = {(r.language.code, r.dataset): r.hours["train"] * 3600 / r.samples["train"] for r in paper.table1()}
    ranges = {}
    for (code, name), seconds in mean_seconds.items():
        same_language = [s for (c, _), s in mean_seconds.items() if c == code]
        low, high = WORD_RANGE[code]
        shortest, longest = min(same_language), max(same_language)
        position = float((seconds - shortest) / (longest - shortest)) if longest > shortest else 0.5
        start = low + round(position * (high - low - _SPREAD))
        ranges[(code, name)] = (start, start + _SPREAD)
    return ranges


def plan(config: PlanConfig) -> list[Utterance]:
    """Every utterance of the corpus in a fixed order: Table 1's datasets, each train, valid, test; then the `pretrain`
    split. Synthesis runs in shards of consecutive utterances, and eSpeak NG's output depends on what a shard read
    before, so Table 1's utterances come first: their bytes are then the same with or without a `pretrain` split."""
    sizes = split_sizes(config.scale, config.min_samples)
    datasets = list(sizes)
    speakers = deal_speakers(datasets, config.seed)
    lengths = word_ranges()
    pools = {
        code: SentencePool(code, config.vocab_size, np.random.default_rng([config.seed, 1, i]))
        for i, code in enumerate(dict.fromkeys(code for code, _ in datasets))
    }
    # Sentences are drawn test first, then valid, then train, each distinct within its language.
    sentences = {
        (key, split): pools[key[0]].draw(sizes[key][split], lengths[key])
        for key in datasets
        for split in reversed(paper.SPLITS)
    }
    for code in config.pretrain_languages:
        own = [key for key in datasets if key[0] == code]
        drawn = [pools[code].draw(1, lengths[own[i % len(own)]])[0] for i in range(config.pretrain_per_language)]
        for j, key in enumerate(own):
            sentences[(key, PRETRAIN_SPLIT)] = drawn[j :: len(own)]
    utterances = []
    for d, (code, name) in enumerate(datasets):
        style, slug = STYLES[name], dataset_slug(code, name)
        training, heldout = speakers[(code, name)][:-1], speakers[(code, name)][-1]
        for s, split in enumerate((*paper.SPLITS, PRETRAIN_SPLIT)):
            rng = np.random.default_rng([config.seed, 3, d, s])
            for i, text in enumerate(sentences.get(((code, name), split), [])):
                use_heldout = split == "test" and i % _HELDOUT_SHARE == 0
                speaker = heldout if use_heldout else training[int(rng.integers(len(training)))]
                uid = f"{slug}-{split}-{i:06d}"
                utterances.append(
                    Utterance(
                        id=uid,
                        dataset=name,
                        language=code,
                        split=split,
                        text=text,
                        speaker=speaker.name,
                        voice=speaker.voice,
                        rate=round(speaker.rate * (1 + rng.uniform(-_RATE_JITTER, _RATE_JITTER))),
                        pitch=speaker.pitch + int(rng.integers(-_PITCH_JITTER, _PITCH_JITTER + 1)),
                        pitch_range=int(rng.integers(style.pitch_range[0], style.pitch_range[1] + 1)),
                        word_gap=style.word_gap,
                        snr_db=style.snr_db,
                        seed=int(rng.integers(2**63)),
                        audio=f"{slug}/audio/{split}/{uid}.flac",
                    )
                )
    return sorted(utterances, key=lambda u: u.split == PRETRAIN_SPLIT)  # stable: Table 1's order, then pretrain


def first_per_dataset(utterances: list[Utterance], split: str, count: int) -> list[Utterance]:
    """The first `count` utterances of `split` in each dataset, in plan order: a small sample with every dataset."""
    taken: dict[tuple[str, str], int] = {}
    chosen = []
    for u in utterances:
        if u.split == split and taken.get((u.language, u.dataset), 0) < count:
            taken[(u.language, u.dataset)] = taken.get((u.language, u.dataset), 0) + 1
            chosen.append(u)
    return chosen
