"""Hypotheses written as they are decoded, so that a killed evaluation resumes where it stopped and decodes no row
twice; and the processes of a sharded evaluation (`torchrun`), whose hypotheses are merged the same way.

Each session of each process appends to a file of its own beside the results,
`.hypotheses-<key>-<rank>-<session>.jsonl`, one JSON line per row, flushed and synced after every batch. `key` names
everything the hypotheses depend on (the weights, the rows, the decoding settings): files of another key are never
read, so a changed model or manifest starts afresh. A kill can cut only a file's last line short; such a line is not
a row, and that row is decoded again. When every row is there, they are merged in manifest order into
`hypotheses.jsonl` and the partial files removed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import torch.distributed as dist

from lionrepro.asr.decode_latency import timed

PREFIX = ".hypotheses-"


def _files(out_dir: Path, key: str | None = None) -> list[Path]:
    return sorted(Path(out_dir).glob(f"{PREFIX}{key or ''}*.jsonl"))


def done(out_dir: Path, key: str) -> dict[str, dict[str, Any]]:
    """The rows already decoded under `key`, by id."""
    rows: dict[str, dict[str, Any]] = {}
    for path in _files(out_dir, f"{key}-"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # cut short by a kill
                continue
            rows.setdefault(row["id"], row)
    return rows


class Appender:
    """This session's file for `key`: each call appends a decoded batch's rows, each with its share of the batch's
    wall time and setup time (lionrepro.asr.decode_latency), and makes them durable before returning."""

    def __init__(self, out_dir: Path, key: str, rank: int) -> None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(out_dir) / f"{PREFIX}{key}-{rank}-{os.getpid()}-{time.time_ns()}.jsonl"

    def __call__(self, rows: list[dict[str, Any]], seconds: float, setup: float = 0.0) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in timed(rows, seconds, setup)))
            handle.flush()
            os.fsync(handle.fileno())


def clear(out_dir: Path) -> None:
    """Remove every partial file (of any key) once the merged hypotheses are written."""
    for path in _files(out_dir):
        path.unlink(missing_ok=True)


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()
