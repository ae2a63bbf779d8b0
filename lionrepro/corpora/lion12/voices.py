"""Speakers and speaking styles of Lion-12: each dataset its own voice pool and style, as real corpora differ.

A speaker is an eSpeak NG voice (a language voice plus a variant such as `m3` or `f2`) with its own base pitch and
rate. A dataset's style says how its speakers talk: read audiobooks (LibriSpeech) are slower with more intonation,
crowd-sourced recordings (Common Voice) vary widely and carry microphone noise, FLEURS reads slowly, and so on. The
variants are dealt out with the seed: each dataset gets training speakers no other dataset of its language uses, and
one held-out speaker for its test split whose variant is never used in any training split of any language, so that
every test set has a voice never heard in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lionrepro.corpora.ingest import slug

# eSpeak NG 1.52's voice variants that sound like a person (robotic, whispered and croaking ones left out).
VARIANTS: tuple[str, ...] = (
    *(f"m{i}" for i in range(1, 9)),
    *(f"f{i}" for i in range(1, 6)),
    *("klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6"),
    *("Alex", "Alicia", "Andrea", "Andy", "Annie", "Denis", "Diogo", "Henrique", "Hugo", "Lee", "Marco", "Mario"),
    *("Michael", "Mike", "Nguyen", "Reed", "adam", "anika", "announcer", "antonio", "aunty", "belinda", "benjamin"),
    *("boris", "caleb", "david", "ed", "edward", "edward2", "grandma", "grandpa", "gustave", "ian", "john", "linda"),
    *("marcelo", "max", "michel", "miguel", "mike2", "norbert", "pablo", "paul", "pedro", "quincy", "rob", "robert"),
    *("sandro", "shelby", "steph", "steph2", "steph3", "travis", "victor", "zac"),
)

# The eSpeak NG language voice(s) each dataset's speakers use; English corpora differ in accent.
LANGUAGE_VOICES: dict[str, tuple[str, ...]] = {"zh": ("cmn",), "ta": ("ta",), "ms": ("ms",)}
ENGLISH_ACCENTS: dict[str, tuple[str, ...]] = {
    "LibriSpeech": ("en-us", "en-us-nyc", "en-gb-x-rp"),
    "NSC": ("en-029", "en", "en-gb-x-gbclan"),
}


@dataclass(frozen=True)
class Style:
    """How a corpus sounds. Ranges are eSpeak NG parameters: rate in words per minute, pitch and range 0-99."""

    rate: tuple[int, int]
    pitch: tuple[int, int]
    pitch_range: tuple[int, int]
    word_gap: int  # extra pause between words, in units of 10 ms
    snr_db: float | None  # white noise added at this signal-to-noise ratio; None for a clean studio corpus
    speakers: int  # training speakers


# Keyed by Table 1's dataset names; FLEURS and Common Voice sound alike in every language.
STYLES: dict[str, Style] = {
    "LibriSpeech": Style(rate=(145, 170), pitch=(30, 60), pitch_range=(50, 80), word_gap=1, snr_db=None, speakers=6),
    "NSC": Style(rate=(170, 200), pitch=(35, 65), pitch_range=(30, 50), word_gap=0, snr_db=35, speakers=6),
    "AISHELL-1": Style(rate=(160, 180), pitch=(35, 60), pitch_range=(40, 60), word_gap=0, snr_db=None, speakers=6),
    "AISHELL-3": Style(rate=(150, 175), pitch=(45, 75), pitch_range=(60, 85), word_gap=0, snr_db=None, speakers=6),
    "FLEURS": Style(rate=(135, 160), pitch=(35, 65), pitch_range=(40, 60), word_gap=2, snr_db=40, speakers=3),
    "Common Voice 23": Style(rate=(145, 210), pitch=(25, 75), pitch_range=(20, 80), word_gap=0, snr_db=25, speakers=6),
    "SLR127": Style(rate=(160, 185), pitch=(35, 60), pitch_range=(40, 60), word_gap=0, snr_db=None, speakers=6),
    "SLR65": Style(rate=(150, 170), pitch=(40, 65), pitch_range=(50, 70), word_gap=1, snr_db=None, speakers=4),
    "Mesolitica": Style(rate=(170, 200), pitch=(30, 65), pitch_range=(30, 60), word_gap=0, snr_db=30, speakers=6),
}


@dataclass(frozen=True)
class Speaker:
    name: str
    voice: str  # eSpeak NG voice name, `language voice+variant`
    pitch: int
    rate: int
    heldout: bool  # true for the test-only speaker: never heard in any training split


def language_voices(code: str, dataset: str) -> tuple[str, ...]:
    return ENGLISH_ACCENTS[dataset] if code == "en" else LANGUAGE_VOICES[code]


def deal_speakers(datasets: list[tuple[str, str]], seed: int) -> dict[tuple[str, str], tuple[Speaker, ...]]:
    """Each (language, dataset)'s speakers: its training speakers, then one held-out speaker (last).

    Held-out variants come first off the shuffled deck, one per dataset, and never return; training variants are
    then dealt per language, so that the datasets of one language never share a training speaker.
    """
    rng = np.random.default_rng([seed, 2])
    deck = [VARIANTS[i] for i in rng.permutation(len(VARIANTS))]
    heldout, training = deck[: len(datasets)], deck[len(datasets) :]
    needed = {code: sum(STYLES[name].speakers for c, name in datasets if c == code) for code, _ in datasets}
    if max(needed.values()) > len(training):
        raise ValueError(f"{len(training)} training variants cannot give {max(needed.values())} speakers")
    next_variant = dict.fromkeys(needed, 0)
    speakers = {}
    for (code, name), heldout_variant in zip(datasets, heldout, strict=True):
        style, accents = STYLES[name], language_voices(code, name)
        variants = training[next_variant[code] : next_variant[code] + style.speakers] + [heldout_variant]
        next_variant[code] += style.speakers
        speakers[(code, name)] = tuple(
            Speaker(
                name=f"{dataset_slug(code, name)}-{'heldout' if i == style.speakers else f's{i}'}",
                voice=f"{accents[i % len(accents)]}+{variant}",
                pitch=int(rng.integers(style.pitch[0], style.pitch[1] + 1)),
                rate=int(rng.integers(style.rate[0], style.rate[1] + 1)),
                heldout=i == style.speakers,
            )
            for i, variant in enumerate(variants)
        )
    return speakers


def dataset_slug(code: str, name: str) -> str:
    """A dataset's file-system name, as the ingestion names its utterances: `zh-common-voice-23`."""
    return f"{code}-{slug(name)}"
