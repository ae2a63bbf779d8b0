"""AISHELL-1 (OpenSLR 33) as distributed, its per-speaker wav tarballs unpacked: one transcript,
`transcript/aishell_transcript_v0.8.txt`, with lines `BAC009S0002W0122 而 对 楼市 ...` (the id, then the words), and
`wav/{train,dev,test}/SPK/<id>.wav` at 16 kHz. An id belongs to the split holding its speaker's folder (the speaker is
the id's characters 6:11). The words are joined without spaces, as AISHELL-1 is scored on characters. Follows lhotse's
`recipes/aishell.py`. The paper's splits are the official train, dev and test (corpora.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TRANSCRIPT = "transcript/aishell_transcript_v0.8.txt"


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every transcript line whose speaker's folder is in the split, whether or not its WAV file is there."""
    split_dir = folder / "wav" / source_split
    speakers = {path.name for path in split_dir.iterdir() if path.is_dir()} if split_dir.is_dir() else set()
    rows = []
    for line in (folder / TRANSCRIPT).read_text(encoding="utf-8").splitlines():
        utterance, _, words = line.strip().partition(" ")
        speaker = utterance[6:11]
        if speaker in speakers:
            audio = split_dir / speaker / f"{utterance}.wav"
            rows.append({"id": utterance, "audio": str(audio), "text": "".join(words.split())})
    return rows
