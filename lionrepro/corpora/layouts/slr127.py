"""OpenSLR 127 (IISc-MILE Tamil ASR corpus) as distributed: `{train,test}/trans_files/NAME.txt`, one transcript per
utterance, beside `{train,test}/audio_files/NAME.wav` at 16 kHz. The transcript is the file's whole content, stripped
(a byte-order mark dropped) and otherwise kept as written. An utterance is a transcript file; a WAV file without one
is not listed. The paper's valid split is carved from train (corpora.toml's `carve`), its test is the official test."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every utterance the split's transcript files give, whether or not its WAV file is there."""
    split = folder / source_split
    return [
        {
            "id": transcript.stem,
            "audio": str(split / "audio_files" / f"{transcript.stem}.wav"),
            "text": transcript.read_text(encoding="utf-8-sig").strip(),
        }
        for transcript in sorted((split / "trans_files").glob("*.txt"))
    ]
