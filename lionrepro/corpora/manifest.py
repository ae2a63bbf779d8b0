"""Manifests: one JSON line per utterance, the interface between the data, balance, train and evaluate stages.

Every stage reads and writes this one format, so none of them knows whether the rows came from the synthetic
Lion-12 corpus or from the real corpora.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lionrepro.provenance import write_text_atomic

FIELDS = ("id", "dataset", "language", "split", "audio", "duration", "text")


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """All rows of a manifest; a row missing a field is an error naming the file and line."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"manifest {path} does not exist (build it with `lionrepro data`)")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [field for field in FIELDS if field not in row]
            if missing:
                raise ValueError(f"{path}:{number}: row lacks {', '.join(missing)}")
            rows.append(row)
    return rows


def write_manifest(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    write_text_atomic(Path(path), "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def manifest_fingerprint(path: Path) -> str:
    """sha256 of a manifest's content wherever its corpus lies: every row in order, its audio named by file name only
    (the folder it sits in depends on the machine's cache, not on the data)."""
    digest = hashlib.sha256()
    for row in read_manifest(path):
        located = {**row, "audio": Path(str(row["audio"])).name}
        digest.update(json.dumps(located, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()
