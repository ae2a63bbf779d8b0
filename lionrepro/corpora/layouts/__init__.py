"""Readers of the real corpora in the layouts their official archives unpack to, one module a corpus (as lhotse's
`recipes/`): `read(folder, source_split)` lists a split's utterances as the corpus lists them, each an id, an audio
path and a transcript, and never opens audio. The one ingestion path (`lionrepro.corpora.ingest`) then decodes,
resamples to 16 kHz mono and counts what is missing, corrupt, empty, too long or duplicated.

lhotse's recipes were the first choice and cannot serve as they are: while listing they read every file's audio
header, so a single corrupt file aborts the whole corpus (`AudioLoadingError`) and a missing one is dropped with a log
line and no count (seen with lhotse 1.33's `prepare_librispeech` on a planted layout). The readers follow the same
layout facts, file by file; each module names the recipe it follows.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import datasets

from lionrepro.corpora.registry import Corpus, bucket
from lionrepro.errors import UserError

# Table 1 key -> the module (in this package) that reads its layout
LAYOUTS = {
    "en/LibriSpeech": "librispeech",
    "en/NSC": "nsc",
    "zh/AISHELL-1": "aishell1",
    "zh/AISHELL-3": "aishell3",
    "zh/FLEURS": "fleurs",
    "zh/Common Voice 23": "common_voice",
    "ta/FLEURS": "fleurs",
    "ta/SLR127": "slr127",
    "ta/SLR65": "slr65",
    "ta/Common Voice 23": "common_voice",
    "ms/Mesolitica": "mesolitica",
    "ms/FLEURS": "fleurs",
}


class CorpusMissing(UserError):
    """A corpus asked for is not under the corpora folder; the message says where it is expected and how to get it."""


def expected_folder(entry: Corpus, root: Path) -> Path:
    return Path(root) / entry.layout_folder


def missing_message(entry: Corpus, root: Path) -> str:
    """One line: the folder expected, what it holds, where to download the corpus, and whether that needs a login."""
    access = {"registration": "after registration", "gated": "after accepting its terms"}.get(entry.access, "openly")
    return (
        f"{entry.key}: not found at {expected_folder(entry, root)} (expected {entry.layout_contents}); download it "
        f"{access} from {entry.source_url} and unpack it there"
    )


def list_split(entry: Corpus, root: Path, split: str) -> list[dict[str, str]]:
    """The rows (id, audio, text) of one of the paper's splits, sorted by id, carved where the paper carved it: by a
    stable hash of each utterance's id, so that adding or losing one utterance moves no other between splits."""
    folder = expected_folder(entry, root)
    if not folder.is_dir():
        raise CorpusMissing(missing_message(entry, root))
    source, band = entry.source_split(split, layout=True)
    reader = importlib.import_module(f"{__name__}.{LAYOUTS[entry.key]}")
    rows = sorted(reader.read(folder, source, entry), key=lambda row: row["id"])
    if band is not None:
        low, high = band
        rows = [row for row in rows if low <= bucket(row["id"]) < high]
    return rows


def as_dataset(rows: list[dict[str, str]]) -> datasets.Dataset:
    """Rows as the `datasets` table the ingestion reads, audio left undecoded (it is decoded by soundfile there)."""
    columns = {name: [row[name] for row in rows] for name in ("id", "audio", "text")}
    return datasets.Dataset.from_dict(columns).cast_column("audio", datasets.Audio(decode=False))
