"""AISHELL-3 (OpenSLR 93) as distributed: `{train,test}/content.txt` with lines `SSB00050001.wav<TAB>广 guang3 州 zhou1
...` (the file name, then each character followed by its pinyin) beside `{train,test}/wav/SPK/<file name>` at 44.1 kHz,
SPK being the id's first 7 characters. The characters are kept and joined, the pinyin dropped. Follows lhotse's
`recipes/aishell3.py`. The paper's test split is the official test; its train and valid are carved from the official
train by `list_split` (corpora.toml `carve`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every utterance the part's content.txt lists, whether or not its WAV file is there."""
    part = folder / source_split
    rows = []
    for line in (part / "content.txt").read_text(encoding="utf-8").splitlines():
        name, _, transcript = line.strip().partition("\t")
        if not name:
            continue
        utterance = name.removesuffix(".wav")
        text = "".join(transcript.split()[0::2])
        rows.append({"id": utterance, "audio": str(part / "wav" / utterance[:7] / name), "text": text})
    return rows
