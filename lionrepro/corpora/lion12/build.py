"""Build Lion-12 once per configuration, cache it under a key derived from that configuration, and reuse it.

The key hashes everything that decides the corpus's bytes: the `[data]` settings, the seed, this generator's version
and the versions of the packages that make the text and the audio. Synthesis runs in shards, each in a fresh interpreter
(eSpeak NG carries state between utterances, see `synth`), and each finished shard leaves a marker, so an
interrupted build resumes where it stopped and a rebuild with the same seed gives the same bytes. The corpus is kept
as one `datasets` DatasetDict per Table 1 dataset, whose audio column references FLAC files next to it, and turned
into manifests by `lionrepro.corpora.ingest.ingest_split`, the one ingestion path every corpus goes through.

Layout under `<cache>/lion12/<key>/`: `<slug>/audio/<split>/*.flac` and `<slug>/hf/` per dataset (slug as
`zh-common-voice-23`); `manifests/{train,valid,test}.jsonl` (all 12 datasets, one file per split); `shards/` markers;
`build.json`, written last, which marks the build complete and holds its summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import datasets
import soundfile as sf
from tqdm import tqdm

from lionrepro import paper
from lionrepro.corpora.ingest import IngestResult, ingest_split, summarise
from lionrepro.corpora.lion12.plan import PRETRAIN_SPLIT, PlanConfig, plan
from lionrepro.corpora.lion12.synth import SAMPLE_RATE, Utterance, shard_command, shard_input
from lionrepro.corpora.lion12.voices import dataset_slug
from lionrepro.corpora.manifest import write_manifest
from lionrepro.provenance import provenance, read_json, write_json_atomic

# Bump whenever a change to this package changes the corpus it builds (3: the pretrain split after Table 1's)
GENERATOR_VERSION = 3
_PACKAGES = ("espeakng-loader", "wordfreq", "opencc-python-reimplemented", "numpy", "soxr", "soundfile", "datasets")


@dataclass(frozen=True)
class Lion12Config:
    """The profile's `[data]` section (plus the profile's seed); all but `workers` and `cache_dir` shape the bytes."""

    scale: float = 0.02
    seed: int = 0
    vocab_size: int = 120
    min_samples: dict[str, int] = field(default_factory=lambda: {"train": 20, "valid": 20, "test": 50})
    pretrain_per_language: int = 0  # the `pretrain` split (see lion12.plan): the base model's own training data
    pretrain_languages: tuple[str, ...] = ()
    max_seconds: float = 20.0
    shard_size: int = 500
    workers: int = 2
    cache_dir: Path | None = None

    @classmethod
    def from_profile(cls, profile: dict[str, Any], **overrides: Any) -> Lion12Config:
        section = {k: v for k, v in profile.get("data", {}).items() if k in {f.name for f in fields(cls)}}
        values = {"seed": profile.get("seed", 0), **section, **{k: v for k, v in overrides.items() if v is not None}}
        values["pretrain_languages"] = tuple(values.get("pretrain_languages", ()))
        if values.get("cache_dir"):
            values["cache_dir"] = Path(values["cache_dir"]).expanduser()
        else:
            values.pop("cache_dir", None)
        return cls(**values)

    def content(self) -> dict[str, Any]:
        """What the corpus's bytes depend on: the cache key is its hash."""
        settings = {k: v for k, v in asdict(self).items() if k not in ("workers", "cache_dir")}
        return {"generator": GENERATOR_VERSION, **settings, "versions": _versions()}

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.content(), sort_keys=True).encode()).hexdigest()[:16]

    def root(self) -> Path:
        base = self.cache_dir or Path(os.environ.get("LIONREPRO_CACHE", Path.home() / ".cache" / "lionrepro"))
        return base / "lion12" / self.key()

    def plan_config(self) -> PlanConfig:
        return PlanConfig(
            self.scale,
            self.seed,
            self.vocab_size,
            dict(self.min_samples),
            self.pretrain_per_language,
            self.pretrain_languages,
        )

    def splits(self) -> tuple[str, ...]:
        """Table 1's splits, then `pretrain` when the configuration asks for one."""
        return (*paper.SPLITS, PRETRAIN_SPLIT) if self.pretrain_per_language else paper.SPLITS


# `[data]` settings that leave Table 1's splits (train, valid, test) as they are: how many processes build them, where
# they are cached, and the `pretrain` split, which is planned after every Table 1 sentence.
NOT_TABLE1_AFFECTING = ("workers", "cache_dir", "pretrain_per_language", "pretrain_languages")


@dataclass(frozen=True)
class Lion12Build:
    """A built corpus: where it is, its manifests, and what this call had to synthesise (0 when it was cached)."""

    root: Path
    key: str
    manifests: dict[str, Path]
    summary: list[dict[str, Any]]  # per (language, dataset): samples and hours per split
    pretrain: dict[str, dict[str, float]]  # per language: samples and hours of the `pretrain` split
    skipped: dict[str, Any]
    synthesis: dict[str, Any]  # when the corpus was made: utterances, seconds, workers
    synthesised: int  # utterances this call synthesised


def _versions() -> dict[str, str]:
    versions = {name: metadata.version(name) for name in _PACKAGES}
    versions["libsndfile"] = sf.__libsndfile_version__
    return versions


def build(config: Lion12Config) -> Lion12Build:
    """The corpus for `config`: from the cache when complete there, else synthesised (resuming finished shards)."""
    root = config.root()
    marker = root / "build.json"
    if marker.exists():
        return _load(root, read_json(marker))
    utterances = plan(config.plan_config())
    started = time.perf_counter()
    frames, synthesised = _synthesise(utterances, root, config.shard_size, config.workers)
    synthesis_seconds = time.perf_counter() - started
    _save_datasets(root, utterances, frames, config.splits())
    results = [
        ingest_split(
            load_split(root, row.language.code, row.dataset, split),
            dataset_name=row.dataset,
            language=row.language.code,
            split=split,
            audio_column="audio",
            text_column="text",
            audio_dir=root / "ingested",
            max_seconds=config.max_seconds,
            id_column="key",
        )
        for row in paper.table1()
        for split in config.splits()
        if split != PRETRAIN_SPLIT or row.language.code in config.pretrain_languages
    ]
    manifests = {split: root / "manifests" / f"{split}.jsonl" for split in config.splits()}
    for split, path in manifests.items():
        write_manifest(path, (row for result in results if result.split == split for row in result.rows))
    record = {
        "key": config.key(),
        "content": config.content(),
        "provenance": provenance(seed=config.seed),
        "manifests": {split: str(path.relative_to(root)) for split, path in manifests.items()},
        "summary": _summary([result for result in results if result.split in paper.SPLITS]),
        "pretrain": _pretrain_summary([result for result in results if result.split == PRETRAIN_SPLIT]),
        "skipped": summarise(results),
        "synthesis": {"utterances": synthesised, "seconds": synthesis_seconds, "workers": config.workers},
    }
    write_json_atomic(marker, record)
    return _load(root, record, synthesised=synthesised)


def _load(root: Path, record: dict[str, Any], *, synthesised: int = 0) -> Lion12Build:
    return Lion12Build(
        root=root,
        key=record["key"],
        manifests={split: root / path for split, path in record["manifests"].items()},
        summary=record["summary"],
        pretrain=record["pretrain"],
        skipped=record["skipped"],
        synthesis=record["synthesis"],
        synthesised=synthesised,
    )


def _synthesise(utterances: list[Utterance], root: Path, shard_size: int, workers: int) -> tuple[dict[str, int], int]:
    """Every utterance's sample count, synthesising the shards that have no marker yet; also how many were made."""
    shards = [utterances[i : i + shard_size] for i in range(0, len(utterances), shard_size)]
    markers = [root / "shards" / f"{i:05d}.json" for i in range(len(shards))]
    pending = [i for i, marker in enumerate(markers) if not marker.exists()]
    total = sum(len(shards[i]) for i in pending)
    if pending:
        with (
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
            tqdm(total=total, desc="Lion-12 synthesis", unit="utt") as progress,
        ):
            futures = {pool.submit(_run_shard, shards[i], root, markers[i]): len(shards[i]) for i in pending}
            for future in as_completed(futures):
                future.result()
                progress.update(futures[future])
    frames: dict[str, int] = {}
    for marker in markers:
        frames.update(read_json(marker))
    return frames, total


def _run_shard(utterances: list[Utterance], root: Path, marker: Path) -> None:
    done = subprocess.run(shard_command(root, marker), input=shard_input(utterances), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"synthesis of shard {marker.stem} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def _save_datasets(root: Path, utterances: list[Utterance], frames: dict[str, int], splits: tuple[str, ...]) -> None:
    """One DatasetDict per Table 1 dataset, audio paths relative to the dataset's folder.

    The paths are stored as plain strings: `save_to_disk` would embed the bytes of every file an `Audio` column
    references, doubling the corpus on disk; `load_split` turns them back into `Audio(decode=False)`.
    """
    for row in paper.table1():
        code, name = row.language.code, row.dataset
        slug = dataset_slug(code, name)
        tables = {}
        for split in splits:
            chosen = [u for u in utterances if u.language == code and u.dataset == name and u.split == split]
            if not chosen and split == PRETRAIN_SPLIT:
                continue
            tables[split] = datasets.Dataset.from_dict(
                {
                    "id": [u.id for u in chosen],
                    "key": [u.id.rsplit("-", 1)[1] for u in chosen],
                    "audio": [str(Path(u.audio).relative_to(slug)) for u in chosen],
                    "text": [u.text for u in chosen],
                    "speaker": [u.speaker for u in chosen],
                    "voice": [u.voice for u in chosen],
                    "duration": [frames[u.id] / SAMPLE_RATE for u in chosen],
                }
            )
        with _quiet_datasets():
            datasets.DatasetDict(tables).save_to_disk(str(root / slug / "hf"))


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    """Without `datasets`' per-split progress bars (36 of them), restoring the caller's setting after."""
    enabled = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if enabled:
            datasets.enable_progress_bars()


def load_split(root: Path, code: str, name: str, split: str) -> datasets.Dataset:
    """A split of a built Lion-12 dataset, its `audio` column an `Audio(decode=False)` of absolute FLAC paths."""
    folder = root / dataset_slug(code, name)
    dataset = datasets.load_from_disk(str(folder / "hf"))[split]
    paths = [str(folder / path) for path in dataset["audio"]]
    return dataset.remove_columns("audio").add_column("audio", paths).cast_column("audio", datasets.Audio(decode=False))


def _summary(results: list[IngestResult]) -> list[dict[str, Any]]:
    """Table 1's shape: per dataset, samples and hours per split, from the manifest rows."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for result in results:
        entry = rows.setdefault(
            (result.language, result.dataset_name),
            {"language": result.language, "dataset": result.dataset_name, "samples": {}, "hours": {}},
        )
        entry["samples"][result.split] = len(result.rows)
        entry["hours"][result.split] = sum(r["duration"] for r in result.rows) / 3600
    return list(rows.values())


def _pretrain_summary(results: list[IngestResult]) -> dict[str, dict[str, float]]:
    """Per language: utterances and hours of the `pretrain` split."""
    languages: dict[str, dict[str, float]] = {}
    for result in results:
        entry = languages.setdefault(result.language, {"samples": 0, "hours": 0.0})
        entry["samples"] += len(result.rows)
        entry["hours"] += sum(r["duration"] for r in result.rows) / 3600
    return languages
