"""LibriSpeech (OpenSLR 12) as distributed: `<part>/SPK/CHAP/SPK-CHAP-UTT.flac` beside `SPK-CHAP.trans.txt`, whose
lines are `SPK-CHAP-UTT TRANSCRIPT` in upper case (kept as distributed; the scorer normalises). Follows lhotse's
`recipes/librispeech.py`. The paper's splits are train-clean-100, dev-clean and test-clean (corpora.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every utterance the part's transcript files list, whether or not its FLAC file is there."""
    rows = []
    for transcript in sorted((folder / source_split).rglob("*.trans.txt")):
        for line in transcript.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            utterance, _, text = line.partition(" ")
            rows.append({"id": utterance, "audio": str(transcript.parent / f"{utterance}.flac"), "text": text.strip()})
    return rows
