"""Seconds per sample of an evaluation: Table 3's measure, taken on real checkpoints decoding real test sets.

Table 3 gives each model's mean (and std) seconds per sample on the paper's test sets. With random weights,
`lionrepro speed` can only make every clip decode an assumed number of tokens (lionrepro.speed.table3_protocol);
a released checkpoint evaluated with `lionrepro evaluate --batch-size 1` decodes exactly what it emits for each
real utterance, so its per-utterance wall time is the protocol itself. Every batch's wall time (its rows' features,
generation and reading, as a user would wait for them) is shared equally by its rows and kept beside each row in the
evaluation's partial files; the merged `hypotheses.jsonl` stays free of timings (it must not change between runs),
and `results.json` gets the summary below. With a batch size above 1 the figure is throughput, not latency, and is
labelled so.

Setting up is timed apart, as benchmarks warm up before timing: a process's first batch is decoded once untimed
(libraries initialised, kernels loaded; for the static decoder, its graphs captured), and the static decoder's later
graph captures (a new cache size, a smaller batch) are taken out of the batch they fall in. Both are kept beside the
rows as their share of setup seconds, and the summary says how many seconds it left out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from lionrepro.languages import language as resolve_language

SECONDS = "decode_seconds"  # a row's share of its batch's wall time
SETUP = "setup_seconds"  # a row's share of its batch's setup, left out of SECONDS: a warm-up decode, graph captures
BATCH_ROWS = "batch_rows"  # the rows of the batch it was decoded in
TOKENS = "generated_tokens"  # tokens the model wrote for the row, up to its stop token (kept in the hypotheses)


def timed(rows: list[dict[str, Any]], seconds: float, setup: float = 0.0) -> list[dict[str, Any]]:
    """The rows of one decoded batch, each with its share of the batch's `seconds` and of its `setup` seconds."""
    n = len(rows)
    return [{**row, SECONDS: seconds / n, SETUP: setup / n, BATCH_ROWS: n} for row in rows]


def untimed(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in (SECONDS, SETUP, BATCH_ROWS)}


def _spread(values: list[float]) -> dict[str, Any]:
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else None,
        "n": len(values),
    }


def _rtfx(rows: Sequence[dict[str, Any]], durations: dict[str, float]) -> float | None:
    seconds = sum(row[SECONDS] for row in rows)
    return sum(durations[row["id"]] for row in rows) / seconds if seconds > 0 else None


def latency(rows: Sequence[dict[str, Any]], durations: dict[str, float]) -> dict[str, Any] | None:
    """Seconds per sample over the rows that carry a timing (mean, sample sd, count), overall and per language, with
    the tokens generated per sample; None when no row does. `table3_protocol` is true only when every timed row was
    decoded alone (batch size 1), as Table 3 timed its models. `rtfx`, overall and per dataset: seconds of audio
    (`durations`, by row id) per second of decoding, as open_asr_leaderboard reports throughput."""
    timed_rows = [row for row in rows if SECONDS in row]
    if not timed_rows:
        return None
    by_language: dict[str, list[float]] = defaultdict(list)
    by_dataset: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in timed_rows:
        by_language[row["language"]].append(row[SECONDS])
        by_dataset[f"{resolve_language(row['language']).code}/{row['dataset']}"].append(row)  # as `summarize` keys
    batch_sizes = sorted({row[BATCH_ROWS] for row in timed_rows})
    tokens = [row[TOKENS] for row in timed_rows if TOKENS in row]
    seconds = [row[SECONDS] for row in timed_rows]
    return {
        "seconds_per_sample": _spread(seconds),
        "languages": {code: _spread(values) for code, values in sorted(by_language.items())},
        "generated_tokens_per_sample": _spread([float(t) for t in tokens]) if tokens else None,
        "seconds_per_generated_token": sum(seconds) / sum(tokens) if tokens and sum(tokens) else None,
        "untimed_rows": len(rows) - len(timed_rows),  # decoded by a session that kept no timing
        "setup_seconds_left_out": sum(row.get(SETUP, 0.0) for row in timed_rows),
        "rtfx": _rtfx(timed_rows, durations),
        "datasets_rtfx": {key: _rtfx(group, durations) for key, group in sorted(by_dataset.items())},
        "batch_sizes": batch_sizes,
        "table3_protocol": batch_sizes == [1],
    }
