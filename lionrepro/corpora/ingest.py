"""One split of a corpus (a `datasets` dataset) -> manifest rows with 16 kHz mono audio, bad utterances counted.

Every corpus, the real ones and the synthetic Lion-12, goes through `ingest_split`, so the manifests the later
stages read are the same whatever their source. An utterance is skipped, and counted under its reason, when its
transcript is empty after stripping, its id repeats an earlier one, its audio is missing, corrupt, empty or not
finite, or it is longer than `max_seconds`; the first reason found, in that order, is the one counted. Nothing is
dropped silently: `kept + sum(skipped) == rows read`, and `summarise` turns the results into the run summary.

Audio that already is a 16 kHz mono FLAC/WAV file on disk is referenced where it is; anything else is decoded,
down-mixed, resampled and written as 16-bit FLAC under `audio_dir/<dataset>/<language>/<split>/<id>.flac`. An
existing output file is reused (its duration read from its header), so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import datasets
import soundfile as sf
from tqdm import tqdm

from lionrepro.corpora import audio
from lionrepro.languages import language as resolve_language

EMPTY_TRANSCRIPT = "empty transcript"
DUPLICATE_ID = "duplicate id"
TOO_LONG = "too long"
EXAMPLES_PER_REASON = 3  # skipped utterances named per reason in the summary, to make the counts checkable


@dataclass
class IngestResult:
    """Manifest rows of one split, and the utterances skipped per reason (with a few example ids and messages)."""

    dataset_name: str
    language: str
    split: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The Table 1 key `language/dataset` (as `paper.DatasetRow.key`)."""
        return f"{self.language}/{self.dataset_name}"

    def skip(self, reason: str, detail: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(detail)


def slug(name: str) -> str:
    """A file-name-safe lowercase form of a dataset name: `Common Voice 23` -> `common-voice-23`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _safe_key(value: Any) -> str:
    key = re.sub(r"[^A-Za-z0-9._-]+", "_", str(value)).strip("._")
    if not key:
        raise ValueError(f"id {value!r} has no usable characters")
    return key


def _source(value: Any) -> tuple[str | bytes | None, dict[str, Any] | None]:
    """The audio cell as (path or bytes, None) or (None, {array, sampling_rate}); both None when there is none."""
    if isinstance(value, dict):
        if value.get("array") is not None:
            return None, value
        if value.get("bytes") is not None:
            return value["bytes"], None
        return value.get("path"), None
    if isinstance(value, str | os.PathLike | bytes):
        return value, None
    return None, None


def _decode(value: Any) -> tuple[audio.Waveform | None, str | None]:
    """Decode a cell; also the path when it is a file that can be used in place (already 16 kHz mono FLAC/WAV)."""
    source, array = _source(value)
    if array is not None:
        return audio.from_array(array["array"], int(array["sampling_rate"])), None
    if source is None or (isinstance(source, str | os.PathLike) and not str(source)):
        raise audio.MissingAudio("no audio in this row")
    waveform = audio.read_audio(source)
    if isinstance(source, str | os.PathLike) and audio.usable_in_place(source):
        return waveform, str(Path(source).resolve())
    return waveform, None


def undecoded(dataset: datasets.Dataset | datasets.IterableDataset, audio_column: str):
    """The dataset with its `Audio` column cast to `decode=False` (datasets' decoding needs torchcodec)."""
    feature = (dataset.features or {}).get(audio_column)
    if isinstance(feature, datasets.Audio) and feature.decode:
        return dataset.cast_column(audio_column, datasets.Audio(decode=False))
    return dataset


def _columns(dataset: datasets.Dataset | datasets.IterableDataset, columns: list[str]):
    missing = [column for column in columns if dataset.column_names is not None and column not in dataset.column_names]
    if missing:
        raise KeyError(f"columns {missing} are not in the dataset (it has {dataset.column_names})")
    return dataset.select_columns(columns)


def ingest_split(
    dataset: datasets.Dataset | datasets.IterableDataset,
    *,
    dataset_name: str,
    language: str,
    split: str,
    audio_column: str,
    text_column: str,
    audio_dir: Path,
    max_seconds: float,
    id_column: str | None = None,
    workers: int = 1,
) -> IngestResult:
    """Manifest rows for one split, in the dataset's order; see the module docstring for what is skipped and why.

    `language` is a code or an English name (`ta`, `Tamil`); rows carry its code. Ids are
    `<language>-<dataset slug>-<split>-<key>`, the key being `id_column`'s value (made file-name safe) or the
    zero-padded row index. Audio is decoded by `workers` threads (decoding and resampling release the GIL); the rows
    and skips are the same, in the same order, for any number of them.
    """
    code = resolve_language(language).code
    result = IngestResult(dataset_name, code, split)
    columns = [audio_column, text_column] + ([id_column] if id_column else [])
    dataset = undecoded(_columns(dataset, list(dict.fromkeys(columns))), audio_column)
    out_dir = Path(audio_dir) / slug(dataset_name) / code / split
    seen: set[str] = set()
    wanted = []  # (utterance id, key, audio value, text), in the dataset's order
    for index, example in enumerate(dataset):
        key = _safe_key(example[id_column]) if id_column else f"{index:07d}"
        utterance_id = f"{code}-{slug(dataset_name)}-{split}-{key}"
        text = (example[text_column] or "").strip()
        if not text:
            result.skip(EMPTY_TRANSCRIPT, utterance_id)
            continue
        if key in seen:
            result.skip(DUPLICATE_ID, utterance_id)
            continue
        seen.add(key)
        wanted.append((utterance_id, key, example[audio_column], text))

    def load(item: tuple[str, str, Any, str]) -> tuple[str | None, float] | audio.AudioError:
        try:
            return _audio_file(item[2], out_dir / f"{item[1]}.flac", max_seconds)
        except audio.AudioError as error:
            return error

    desc = f"{code}/{dataset_name}/{split}"
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        loaded = tqdm(pool.map(load, wanted), total=len(wanted), desc=desc, unit="utt", disable=None)
        for (utterance_id, _, _, text), outcome in zip(wanted, loaded, strict=True):
            if isinstance(outcome, audio.AudioError):
                result.skip(outcome.reason, f"{utterance_id}: {outcome}")
                continue
            path, duration = outcome
            if path is None:
                result.skip(TOO_LONG, f"{utterance_id}: {duration:.2f} s > {max_seconds} s")
                continue
            result.rows.append(
                {
                    "id": utterance_id,
                    "dataset": dataset_name,
                    "language": code,
                    "split": split,
                    "audio": path,
                    "duration": duration,
                    "text": text,
                }
            )
    return result


def _audio_file(value: Any, target: Path, max_seconds: float) -> tuple[str | None, float]:
    """The manifest's audio path and the duration; the path is None when the clip is longer than `max_seconds`."""
    if target.exists():
        info = sf.info(str(target))
        duration = info.frames / info.samplerate
        return (str(target) if duration <= max_seconds else None), duration
    waveform, in_place = _decode(value)
    if waveform.duration > max_seconds:
        return None, waveform.duration
    if in_place is None:
        audio.write_flac(target, waveform)
    return in_place or str(target), waveform.duration


def summarise(results: Iterable[IngestResult]) -> dict[str, dict[str, Any]]:
    """The run summary per Table 1 key (`language/dataset`): rows kept, skips per reason, overall and by split."""
    summary: dict[str, dict[str, Any]] = {}
    for result in results:
        entry = summary.setdefault(result.key, {"kept": 0, "skipped": Counter(), "examples": {}, "splits": {}})
        entry["kept"] += len(result.rows)
        entry["skipped"].update(result.skipped)
        for reason, shown in result.examples.items():
            entry["examples"].setdefault(reason, []).extend(shown)
        entry["splits"][result.split] = {"kept": len(result.rows), "skipped": dict(sorted(result.skipped.items()))}
    for entry in summary.values():
        entry["skipped"] = dict(sorted(entry["skipped"].items()))
    return summary
