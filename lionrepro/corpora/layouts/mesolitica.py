"""The paper's Malay "Mesolitica" set. Which Mesolitica dataset it is, is not identified (see its notes in
corpora.toml), so there is no official layout to follow: the layout is a table the user provides, one a split,
`train.tsv`, `validation.tsv` and `test.tsv`, tab-separated with a header row, read by column name with Python's
`csv` (standard quoting, as `csv` and pandas write it). The columns are `audio`, the clip's path (relative to the
folder, or absolute; any codec and rate soundfile reads), `text`, the transcript, and optionally `id`; where there is
no `id` column, or a row leaves it empty, the id is the audio file's name without its extension.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from lionrepro.errors import UserError

REQUIRED = ("audio", "text")


def read(folder: Path, source_split: str, entry: Any = None) -> list[dict[str, str]]:
    """Every clip the split's table lists, in its order, whether or not its audio file is there."""
    path = folder / f"{source_split}.tsv"
    with path.open(encoding="utf-8-sig", newline="") as table:
        records = csv.DictReader(table, delimiter="\t")
        missing = [name for name in REQUIRED if name not in (records.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: the header row lacks the column(s) {', '.join(missing)}; expected audio, text")
        rows = []
        for record in records:
            audio = (record["audio"] or "").strip()
            utterance = (record.get("id") or "").strip() or Path(audio).stem
            if not utterance:
                raise UserError(f"{path}, line {records.line_num}: no audio path and no id; give the row one")
            rows.append({"id": utterance, "audio": str(folder / audio), "text": (record["text"] or "").strip()})
        return rows
