"""What the corpus-layout tests share: real Lion-12 speech (eSpeak NG), written at a corpus's own rate and codec, and
the check that a layout read through its reader and the one ingestion path gives the rows and 16 kHz audio expected.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from lionrepro.config import load_profile
from lionrepro.corpora.ingest import ingest_split
from lionrepro.corpora.layouts import as_dataset, list_split
from lionrepro.corpora.lion12.build import Lion12Config
from lionrepro.corpora.lion12.plan import first_per_dataset, plan
from lionrepro.corpora.lion12.synth import SAMPLE_RATE, render
from lionrepro.corpora.registry import corpus


@cache
def _clips(language: str) -> tuple[tuple[np.ndarray, str], ...]:
    """A few synthesised utterances of one language (16 kHz float32) with their sentences."""
    config = Lion12Config.from_profile(load_profile("tiny"))
    chosen = [u for u in first_per_dataset(plan(config.plan_config()), "test", 2) if u.language == language]
    return tuple((render(u), u.text) for u in chosen[:4])


def speech(language: str, index: int) -> tuple[np.ndarray, str]:
    """Utterance `index` (cycling) of `language`: 16 kHz samples and the sentence spoken."""
    clips = _clips(language)
    return clips[index % len(clips)]


def write_clip(path: Path, language: str, index: int, *, rate: int = SAMPLE_RATE, channels: int = 1,
               format: str | None = None) -> str:  # fmt: skip
    """Write utterance `index` of `language` to `path` at `rate` Hz with `channels` channels, in the codec its suffix
    (or `format`) names; returns the sentence."""
    samples, text = speech(language, index)
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, SAMPLE_RATE, rate)
    if channels > 1:
        samples = np.stack([samples] * channels, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, rate, format=format)
    return text


def ingest(key: str, root: Path, split: str, out: Path, max_seconds: float = 30.0, workers: int = 1):
    """A split of the corpus `key` under `root`, listed by its reader and ingested: the `IngestResult`."""
    entry = corpus(*key.split("/"))
    rows = list_split(entry, root, split)
    return ingest_split(as_dataset(rows), dataset_name=entry.dataset, language=entry.language, split=split,
                        audio_column="audio", text_column="text", audio_dir=out, max_seconds=max_seconds,
                        id_column="id", workers=workers)  # fmt: skip


def assert_16k_mono(rows: list[dict]) -> None:
    for row in rows:
        info = sf.info(row["audio"])
        assert info.samplerate == 16000 and info.channels == 1, (row["audio"], info)
        assert abs(row["duration"] - info.frames / info.samplerate) < 1e-6
