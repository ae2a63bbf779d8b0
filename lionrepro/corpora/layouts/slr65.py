"""OpenSLR 65 (crowd-sourced Tamil, Google) as distributed: ta_in_female.zip and ta_in_male.zip unpack to
`ta_in_female/` and `ta_in_male/`, each a `line_index.tsv` of `FILEID<TAB>TRANSCRIPT` lines (no header) beside the
48 kHz `FILEID.wav` files. The transcript is kept as written. The corpus has no split: every source split name reads
all utterances of both folders, and the paper's 80/10/10 split is carved from them (corpora.toml's `carve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PARTS = ("ta_in_female", "ta_in_male")


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every utterance both line indexes list, whether or not its WAV file is there."""
    rows = []
    for part in PARTS:
        index = folder / part / "line_index.tsv"
        for line in index.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            utterance, _, text = line.partition("\t")
            utterance = utterance.strip()
            rows.append({"id": utterance, "audio": str(index.parent / f"{utterance}.wav"), "text": text.strip()})
    return rows
