"""The paper's 12 real corpora, read from a folder of local copies in their distributed layouts, into manifests.

Each chosen (corpus, split) is listed by its layout reader and ingested through the one ingestion path (audio to
16 kHz mono, bad utterances skipped and counted by reason; an interrupted run resumes from the audio already written,
and the same copy gives the same manifests byte for byte). A corpus that is absent is reported in one line (where it is
expected, where to get it) and the others are read all the same. The summary sets each split beside Table 1's counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lionrepro import paper
from lionrepro.corpora.ingest import IngestResult, ingest_split
from lionrepro.corpora.layouts import CorpusMissing, as_dataset, list_split
from lionrepro.corpora.manifest import write_manifest
from lionrepro.corpora.registry import corpus, registry

ALL = tuple(entry.key for entry in registry())


@dataclass
class RealBuild:
    """What one call read: the split manifests written, the per-dataset summary and skips, and what was absent."""

    manifests: dict[str, Path] = field(default_factory=dict)
    results: list[IngestResult] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # key -> the one-line message

    def summary(self) -> list[dict[str, Any]]:
        """Per dataset read: samples and hours per split, beside Table 1's and the difference."""
        rows: dict[str, dict[str, Any]] = {}
        for result in self.results:
            entry = rows.setdefault(
                result.key,
                {
                    "language": result.language,
                    "dataset": result.dataset_name,
                    "samples": {},
                    "hours": {},
                    "paper_samples": {},
                    "paper_hours": {},
                },  # fmt: skip
            )
            printed = next(row for row in paper.table1() if row.key == result.key)
            entry["samples"][result.split] = len(result.rows)
            entry["hours"][result.split] = sum(row["duration"] for row in result.rows) / 3600
            entry["paper_samples"][result.split] = printed.samples[result.split]
            entry["paper_hours"][result.split] = float(printed.hours[result.split])
        return list(rows.values())


def build_real(
    root: Path,
    keys: Sequence[str],
    splits: Sequence[str],
    out: Path,
    *,
    max_seconds: float,
    workers: int = 1,
    say: Callable[[str], None] = print,
) -> RealBuild:
    """Read `keys` (Table 1 keys, e.g. `en/LibriSpeech`) and `splits` from `root`; manifests go to
    `out/manifests/<split>.jsonl` (every dataset read, in Table 1's order) and audio that must be converted to
    `out/audio/`."""
    unknown = sorted(set(keys) - set(ALL))
    if unknown:
        raise ValueError(f"unknown datasets {unknown}: use Table 1's keys, e.g. {', '.join(ALL[:3])}")
    built = RealBuild()
    for key in sorted(keys, key=ALL.index):
        entry = corpus(*key.split("/"))
        for split in splits:
            try:
                rows = list_split(entry, root, split)
            except CorpusMissing as missing:
                built.missing[key] = str(missing)
                say(str(missing))
                break
            result = ingest_split(
                as_dataset(rows),
                dataset_name=entry.dataset,
                language=entry.language,
                split=split,
                audio_column="audio",
                text_column="text",
                audio_dir=out / "audio",
                max_seconds=max_seconds,
                id_column="id",
                workers=workers,
            )
            built.results.append(result)
    for split in splits:
        chosen = [result for result in built.results if result.split == split]
        if chosen:
            built.manifests[split] = out / "manifests" / f"{split}.jsonl"
            write_manifest(built.manifests[split], (row for result in chosen for row in result.rows))
    return built
