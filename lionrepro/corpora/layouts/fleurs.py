"""FLEURS (google/fleurs) as distributed per config: `<split>.tsv` for train, dev and test, without a header, its
tab-separated columns id, file_name, raw_transcription, transcription, characters, num_samples, gender, and the audio
at `audio/<split>/<file_name>` (16 kHz WAV, as `audio/<split>.tar.gz` unpacks). The transcript is raw_transcription,
case and punctuation as distributed (the scorer normalises); the id is the file name without its extension, as the
`id` column repeats across recordings of one sentence. Follows lhotse's `recipes/fleurs.py`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every recording the split's tsv lists, in its order, whether or not its WAV file is there."""
    rows = []
    with (folder / f"{source_split}.tsv").open(encoding="utf-8", newline="") as table:
        for record in csv.reader(table, delimiter="\t", quoting=csv.QUOTE_NONE):
            if not record:
                continue
            file_name, raw_transcription = record[1], record[2]
            rows.append(
                {
                    "id": Path(file_name).stem,
                    "audio": str(folder / "audio" / source_split / file_name),
                    "text": raw_transcription.strip(),
                }
            )
    return rows
