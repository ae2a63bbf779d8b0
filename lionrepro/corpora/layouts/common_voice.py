"""Common Voice (release 23) as distributed per locale: `<split>.tsv` for train, dev and test, tab-separated with a
header row (client_id, path, sentence_id, sentence, ...; read by name, as older releases have fewer columns), and the
MP3 clips (48 or 32 kHz) at `clips/<path>`. The transcript is `sentence` as distributed (the scorer normalises); the
id is `path` without its `.mp3` extension. Quotes are not special (the sentences hold unbalanced ones). Follows
lhotse's `recipes/commonvoice.py`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every clip the split's tsv lists, in its order, whether or not its MP3 file is there."""
    with (folder / f"{source_split}.tsv").open(encoding="utf-8", newline="") as table:
        return [
            {
                "id": record["path"].removesuffix(".mp3"),
                "audio": str(folder / "clips" / record["path"]),
                "text": (record["sentence"] or "").strip(),
            }
            for record in csv.DictReader(table, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]
