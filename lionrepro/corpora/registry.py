"""The 12 real corpora: the registry (`corpora.toml`, data) and one way to load a split of any of them.

The registry says, for each Table 1 row, where the corpus is on the hub (if anywhere), which config, revision, split
names and columns to use, its licence and access conditions, and how sure we are that it is the paper's source.
`load_split` reads a split through `datasets` from the hub (streaming or not) or from a local copy, with the audio
left undecoded (see `lionrepro.corpora.audio`). Where the hub cannot be used (offline, unreachable, gated without a
token, or no loadable hub copy exists) it fails at once with a `CorpusUnavailable` naming the dataset and how to
provide it.

A local copy (`local_dir`) is either
- a `datasets` `save_to_disk` folder: a DatasetDict (with `dataset_dict.json`) whose split names are the source's,
  or one Dataset folder per split, `<local_dir>/<split>/`; or
- one table per split, `<local_dir>/<split>.{parquet,jsonl,json,csv,tsv}`, with the registry's audio and text
  columns; relative audio paths are taken from `<local_dir>/<local_audio_subdir>/`. A Common Voice release folder
  (`train.tsv`, `dev.tsv`, `test.tsv`, `clips/`) is of this kind.
The split names are the registry's `local_splits`, else its `splits`; a split the registry carves (AISHELL-3, SLR65,
SLR127) is cut from the local copy's source split exactly as from the hub's.
"""

from __future__ import annotations

import csv
import hashlib
import math
import socket
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import datasets
from huggingface_hub import constants as hub_constants

from lionrepro.corpora.ingest import undecoded
from lionrepro.languages import language as resolve_language
from lionrepro.paper import SPLITS

CONFIDENCE = ("confirmed", "likely", "guess", "unknown")
ACCESS = ("open", "registration", "gated")
TABLE_FORMATS = {"parquet": "parquet", "jsonl": "json", "json": "json", "csv": "csv", "tsv": "csv"}
HUB_PROBE_SECONDS = 3.0


class CorpusUnavailable(RuntimeError):
    """A corpus split cannot be loaded here; the message names the dataset and how to provide it."""


@dataclass(frozen=True)
class Corpus:
    """One registry entry: a Table 1 row and where its audio and transcripts come from."""

    language: str
    dataset: str
    hub_id: str
    splits: dict[str, str]
    audio_column: str
    text_column: str
    metric: str
    licence: str
    access: str
    source_url: str
    confidence: str
    notes: str
    config: str | None = None
    revision: str | None = None
    hub_hint: str = ""
    id_column: str | None = None
    carve: dict[str, Any] = field(default_factory=dict)
    local_splits: dict[str, str] = field(default_factory=dict)
    local_audio_subdir: str = ""
    # The corpus as its official archive unpacks, under `lionrepro data --corpora-dir ROOT` (lionrepro.corpora.layouts)
    layout_folder: str = ""  # ROOT/<layout_folder>
    layout_contents: str = ""  # what that folder holds, for the message when it is missing
    layout_splits: dict[str, str] = field(default_factory=dict)  # the layout's split names, where they differ

    @property
    def key(self) -> str:
        """The Table 1 key, as `paper.DatasetRow.key`."""
        return f"{self.language}/{self.dataset}"

    def source_split(
        self, split: str, *, local: bool = False, layout: bool = False
    ) -> tuple[str, tuple[float, float] | None]:
        """The source split a paper split is read from (on the hub, in a local copy, or in the distributed layout),
        and the hash band cut from it when the split is carved."""
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        if split in self.carve:
            start = sum(self.carve[name] for name in SPLITS[: SPLITS.index(split)] if name in self.carve)
            end = start + self.carve[split]
            return self.carve["source"], (start, 1.0 if math.isclose(end, 1.0) else end)
        names = {
            **self.splits,
            **(self.local_splits if local or layout else {}),
            **(self.layout_splits if layout else {}),
        }
        return names[split], None

    def check(self) -> None:
        """Registry consistency: every split sourced once, carve fractions summing to 1, metric as the language's."""
        sourced = sorted([*self.splits, *(name for name in self.carve if name in SPLITS)])
        if sourced != sorted(SPLITS):
            raise ValueError(f"{self.key}: splits and carve must give each of {SPLITS} exactly once, got {sourced}")
        if self.carve and not math.isclose(sum(v for k, v in self.carve.items() if k in SPLITS), 1.0):
            raise ValueError(f"{self.key}: carve fractions must sum to 1")
        if self.metric != resolve_language(self.language).metric:
            raise ValueError(f"{self.key}: metric {self.metric} differs from the language's")
        if self.confidence not in CONFIDENCE or self.access not in ACCESS:
            raise ValueError(f"{self.key}: confidence must be one of {CONFIDENCE}, access one of {ACCESS}")


@cache
def registry() -> tuple[Corpus, ...]:
    """All 12 entries of `corpora.toml`, checked."""
    text = resources.files("lionrepro.corpora").joinpath("corpora.toml").read_text(encoding="utf-8")
    entries = tuple(Corpus(**raw) for raw in tomllib.loads(text)["corpus"])
    for entry in entries:
        entry.check()
    return entries


def corpus(language: str, dataset: str) -> Corpus:
    """The entry for a Table 1 row, by language (code or name) and dataset name."""
    key = f"{resolve_language(language).code}/{dataset}"
    for entry in registry():
        if entry.key == key:
            return entry
    raise KeyError(f"{key} is not in the corpus registry (known: {[e.key for e in registry()]})")


def load_split(
    entry: Corpus, split: str, *, streaming: bool = False, local_dir: Path | str | None = None
) -> datasets.Dataset | datasets.IterableDataset:
    """One paper split (`train`/`valid`/`test`) of a corpus, audio undecoded, from the hub or from `local_dir`."""
    name, band = entry.source_split(split, local=local_dir is not None)
    if local_dir is None:
        dataset = _from_hub(entry, name, streaming)
    else:
        dataset = _from_local(entry, name, Path(local_dir), streaming)
    dataset = undecoded(dataset, entry.audio_column)
    return dataset if band is None else _cut(dataset, band)


def _how_to_provide(entry: Corpus) -> str:
    where = entry.hub_hint or entry.source_url
    text = (
        f"Provide a local copy with local_dir (a `save_to_disk` folder, or one table per split named "
        f"{sorted({**entry.splits, **entry.local_splits}.values()) or [entry.carve.get('source')]} with columns "
        f"{entry.audio_column!r} and {entry.text_column!r}; see lionrepro/corpora/registry.py). Source: {where}."
    )
    if entry.access == "gated":
        text += (
            " The dataset is gated: accept its terms at the source and download it with your access token"
            " (for a hub copy: `hf auth login` or HF_TOKEN)."
        )
    elif entry.access == "registration":
        text += " The corpus is distributed after registration with its owner."
    return text


def _unavailable(entry: Corpus, split: str, reason: str) -> CorpusUnavailable:
    source = entry.hub_id or "no hub id"
    if entry.config:
        source += f", config {entry.config}"
    return CorpusUnavailable(f"cannot load {entry.key} [{source}], split {split!r}: {reason}. {_how_to_provide(entry)}")


def _hub_reachable() -> bool:
    endpoint = urlparse(hub_constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        with socket.create_connection((endpoint.hostname, port), timeout=HUB_PROBE_SECONDS):
            return True
    except OSError:
        return False


def _from_hub(entry: Corpus, name: str, streaming: bool):
    if not entry.hub_id:
        raise _unavailable(entry, name, "there is no copy on the hub that `datasets` can load")
    offline = datasets.config.HF_HUB_OFFLINE
    if not offline and not _hub_reachable():
        raise _unavailable(
            entry, name, f"{hub_constants.ENDPOINT} is unreachable (set HF_HUB_OFFLINE=1 to use a cached copy)"
        )
    try:
        return datasets.load_dataset(
            entry.hub_id, entry.config, split=name, revision=entry.revision, streaming=streaming
        )
    except (OSError, datasets.exceptions.DatasetNotFoundError) as error:
        reason = "HF_HUB_OFFLINE=1 is set and no cached copy was found" if offline else str(error).splitlines()[0]
        raise _unavailable(entry, name, reason) from error


def _from_local(entry: Corpus, name: str, root: Path, streaming: bool):
    if not root.is_dir():
        raise _unavailable(entry, name, f"local copy {root} is not a directory")
    if (root / "dataset_dict.json").exists():
        splits = datasets.load_from_disk(str(root))
        if name not in splits:
            raise _unavailable(entry, name, f"{root} has splits {list(splits)}, not {name!r}")
        dataset = splits[name]
    elif (root / name / "state.json").exists():
        dataset = datasets.load_from_disk(str(root / name))
    else:
        return _from_table(entry, name, root, streaming)
    return dataset.to_iterable_dataset() if streaming else dataset


def _from_table(entry: Corpus, name: str, root: Path, streaming: bool):
    tables = [root / f"{name}.{suffix}" for suffix in TABLE_FORMATS if (root / f"{name}.{suffix}").is_file()]
    if not tables:
        raise _unavailable(
            entry, name, f"{root} has neither a `save_to_disk` copy nor a table {name}.{{{','.join(TABLE_FORMATS)}}}"
        )
    table = tables[0]
    suffix = table.suffix.lstrip(".")
    options = {"delimiter": "\t", "quoting": csv.QUOTE_NONE} if suffix == "tsv" else {}
    dataset = datasets.load_dataset(
        TABLE_FORMATS[suffix], data_files={name: str(table)}, split=name, streaming=streaming, **options
    )
    audio_root = root / entry.local_audio_subdir

    def resolve(example: dict[str, Any]) -> dict[str, Any]:
        value = example[entry.audio_column]
        if isinstance(value, str) and value and not Path(value).is_absolute():
            value = str(audio_root / value)
        return {entry.audio_column: value}

    return dataset.map(resolve)


def bucket(index: int | str) -> float:
    """A stable number in [0, 1) for a row index or an utterance id, the same on every machine and Python version."""
    return int.from_bytes(hashlib.sha256(str(index).encode()).digest()[:8], "big") / 2**64


def _cut(dataset: datasets.Dataset | datasets.IterableDataset, band: tuple[float, float]):
    low, high = band
    if isinstance(dataset, datasets.Dataset):
        return dataset.select([i for i in range(len(dataset)) if low <= bucket(i) < high])
    return dataset.filter(lambda _, index: low <= bucket(index) < high, with_indices=True)
