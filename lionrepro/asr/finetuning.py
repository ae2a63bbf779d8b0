"""A training run with its record: train, then write `train.json` with provenance, the settings, how the run ended
and what it trained on. The record states what the "no language tags" claim inspects: the decoded supervised text of
every distinct training row, summarised by its `language X` prefix. `train`, `pretrain-base` and `experiments` all
train through `run_training`."""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from lionrepro.asr.finetune_format import training_targets
from lionrepro.asr.training_loop import NonFiniteLossError, TrainConfig, TrainResult, train
from lionrepro.languages import names_a_language
from lionrepro.provenance import provenance, write_json_atomic

RECORD = "train.json"
_EXAMPLES = 3


def target_check(rows: list[dict], processor: Any, *, tags: bool) -> dict[str, Any]:
    """The decoded supervised text of each distinct row, summarised: its prefixes, and how many name a language.

    A target depends only on the row's language and text, so one row per (language, text) covers every target.
    """
    distinct = list({(row["language"], row["text"]): row for row in rows}.values())
    targets = training_targets(distinct, processor, tags=tags)
    prefixes = Counter(target.split("<asr_text>", 1)[0] for target in targets)
    naming = sum(count for prefix, count in prefixes.items() if names_a_language(prefix))
    return {
        "tags": tags,
        "rows": len(distinct),
        "prefixes": dict(prefixes.most_common()),
        "naming_a_language": naming,
        "examples": targets[:_EXAMPLES],
    }


def write_record(
    out: Path, result: TrainResult, config: TrainConfig, profile: dict, rows: list[dict], **fields: Any
) -> Path:
    """`train.json`: provenance, settings, how the run ended, and what it trained on."""
    path = out / RECORD
    write_json_atomic(
        path,
        {
            "provenance": provenance(
                profile=profile["name"], seed=config.seed, config=dataclasses.asdict(config), **fields
            ),
            "result": dataclasses.asdict(result),
            "rows_per_language": dict(sorted(Counter(row["language"] for row in rows).items())),
        },
    )
    return path


def run_training(
    config: TrainConfig, model: Any, processor: Any, rows: list[dict], out: Path, profile: dict, **fields: Any
) -> int:
    """Train, then (rank 0) write the record with the target check; a NaN/inf loss is reported, exit status 1."""
    try:
        result = train(config, model, processor, rows, out)
    except NonFiniteLossError as error:
        print(error, file=sys.stderr)
        return 1
    if result.rank != 0:
        return 0
    targets = target_check(rows, processor, tags=config.tags)
    record = write_record(out, result, config, profile, rows, training_targets=targets, **fields)
    loss = "none this session" if result.loss is None else f"{result.loss:.3f}"
    print(
        f"{result.steps} steps ({result.stopped_by}) in {result.wall_s:.0f} s, {result.steps_per_second:.2f} steps/s "
        f"this session, {result.audio_seconds / max(result.wall_s, 1e-9):.0f} audio s/s, last loss {loss}; "
        f"targets' prefixes {targets['prefixes']}"
    )
    print(f"wrote {result.model_dir}, {result.curve} and {record}")
    return 0
