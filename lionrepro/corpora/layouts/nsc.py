"""IMDA National Speech Corpus (Singapore English), Part 1 (prompted reading), channel 0 (the close-talk microphone), as
distributed: one script file a speaker session, `PART1/DATA/CHANNEL0/SCRIPT/<C><SSSS><N>.TXT` (channel digit, 4-digit
speaker, session: `000010.TXT` is speaker 0001, session 0), and the 16 kHz audio at
`PART1/DATA/CHANNEL0/WAVE/SPEAKER<SSSS>/SESSION<N>/<utterance>.WAV`. A script's lines alternate an utterance line,
`<utterance id>\\t<text>`, and a normalised-text line that starts with a tab; the first is kept, as distributed (the
scorer normalises; lhotse keeps the second). Files in SCRIPT not named as scripts are not read. Follows lhotse's
`recipes/nsc.py` (`PART1_CHANNEL0`: `_preprocess_part1_speaker`, `_parse_part1_script`).

NSC has no official split, and the paper's 100,000 / 2,997 / 3,000 rows are a subsample of unknown origin. The rule
here is this project's own, and deterministic: each speaker goes to one split by a stable hash of its 4-digit id
(the first 8 bytes of the SHA-256 of e.g. `0001`, as a fraction of 2**64): below 0.03 validation, below 0.06 test,
else train, so no speaker is in two splits and validation and test each hold about 3% of the speakers. Each split is
then the first utterances of its speakers in utterance-id order, as many as the paper's (100,000 / 2,997 / 3,000;
all of them if fewer).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

SCRIPTS = Path("PART1/DATA/CHANNEL0/SCRIPT")
WAVES = Path("PART1/DATA/CHANNEL0/WAVE")
SCRIPT_NAME = re.compile(r"0(?P<speaker>\d{4})(?P<session>\d+)")  # channel 0, speaker, session
VALIDATION_SHARE = 0.03
TEST_SHARE = 0.03
UTTERANCES = {"train": 100_000, "validation": 2_997, "test": 3_000}  # the paper's Table 1 counts


def split_of(speaker: str) -> str:
    """The source split ("train", "validation" or "test") a speaker's utterances all go to."""
    share = int.from_bytes(hashlib.sha256(speaker.encode()).digest()[:8], "big") / 2**64
    if share < VALIDATION_SHARE:
        return "validation"
    if share < VALIDATION_SHARE + TEST_SHARE:
        return "test"
    return "train"


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """The first utterances (by id, up to the paper's count) the scripts of the split's speakers list, whether or not
    their WAV files are there."""
    if source_split not in ("train", "validation", "test"):
        raise ValueError(f"NSC has no split {source_split!r}; expected train, validation or test")
    rows = []
    for script in sorted((folder / SCRIPTS).glob("*.TXT")):
        name = SCRIPT_NAME.fullmatch(script.stem)
        if name is None or split_of(name["speaker"]) != source_split:
            continue
        session = folder / WAVES / f"SPEAKER{name['speaker']}" / f"SESSION{name['session']}"
        for line in script.read_text(encoding="utf-8-sig").splitlines():
            utterance, _, text = line.partition("\t")
            if not utterance.strip():  # a blank line, or the normalised text of the utterance above
                continue
            utterance = utterance.strip()
            rows.append({"id": utterance, "audio": str(session / f"{utterance}.WAV"), "text": text.strip()})
    return sorted(rows, key=lambda row: row["id"])[: UTTERANCES[source_split]]
